"""docs/ecosystem.md names only commands, flags and variables that exist: a renamed flag breaks
this test instead of the reader's deployment."""

from __future__ import annotations

import re
import shlex

from tests.ecosystem.support import REPO, check_command_line, cli_commands

DOC = REPO / "docs" / "ecosystem.md"


def _blocks(text: str) -> list[str]:
    return re.findall(r"^```(?:sh|console|bash)\n(.*?)^```", text, flags=re.S | re.M)


def test_commands_in_code_blocks_exist() -> None:
    commands = cli_commands()
    seen = 0
    for block in _blocks(DOC.read_text()):
        lines = block.replace("\\\n", " ").splitlines()
        script = "\n".join(line for line in lines if not re.search(r"\b(docker|kubectl) ", line))
        # The program, not an image name (apim-reconciler:0.1.0) nor a path (/etc/apim-reconciler/...).
        for match in re.finditer(r"(?:^|[\s;&|])apim-reconciler[ \t]+([^|>;&#\n]*)", script):
            words = shlex.split(match.group(1))
            if not words or words[0] == "--version":
                continue
            assert check_command_line(words, commands) == [], words
            seen += 1
    assert seen >= 3  # the emulator section: emulator, sync, diff


def test_variables_and_flags_mentioned_exist() -> None:
    commands = cli_commands()
    text = DOC.read_text()
    known_envs = set().union(*(c.envs for c in commands.values()))
    for name in set(re.findall(r"\bRECONCILER_[A-Z0-9_]+\b", text)):
        assert name in known_envs, name
    known_flags = set().union(*(c.flags for c in commands.values()))
    prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    spans = [s for s in re.findall(r"`([^`\n]+)`", prose) if not s.startswith(("docker", "kubectl"))]
    flags = {flag for span in spans for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]+", span)}
    assert {"--once", "--shards", "--shard-index", "--exit-code"} <= flags
    assert sorted(flags - known_flags) == []


def test_docker_run_examples_use_the_image_entrypoint() -> None:
    """`docker run ... IMAGE CMD`: CMD is an apim-reconciler command (the ENTRYPOINT adds the name)."""
    commands = cli_commands()
    for block in _blocks(DOC.read_text()):
        for line in block.replace("\\\n", " ").splitlines():
            match = re.search(r"docker run .*\sapim-reconciler:[\w.]+\s*(.*)$", line)
            if match and match.group(1):
                assert check_command_line(shlex.split(match.group(1)), commands) == [], line
