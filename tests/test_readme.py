"""The shell examples of README.md that are marked runnable are run, and their shown output checked.

The marker is an HTML comment (invisible on GitHub) on the line right before a fenced block:

    <!-- runnable -->                 every command of the block
    <!-- runnable commands=1 -->      only the first command (the others need files that are not here)
    <!-- runnable emulator -->        needs the APIM emulator on 127.0.0.1:8083, the address of samples/

In a ```console block, a command is a line starting with `$ `; the lines after it, up to the next
command, are its expected stdout, compared line by line (trailing spaces aside). In a ```sh or
```bash block every line that is not blank or a comment is a command, and only its exit code counts.
Every command must exit 0. Commands run in bash, with the repository's venv first on PATH, in a
scratch folder holding copies of samples/ and schemas/ (so that an example may write files), with
no RECONCILER_* variable inherited. For `emulator` blocks the test starts an emulator on port 8083
when the port is free, and skips the block, saying why, when it is not.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.emulator import EmulatorConfig, start_emulator

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
MARKER = re.compile(r"^<!--\s*runnable((?:\s+[\w=]+)*)\s*-->\s*$")
OPTIONS = re.compile(r"^(emulator|commands=\d+)$")
EMULATOR_PORT = 8083


@dataclass(frozen=True)
class Example:
    line: int  # of the opening fence, 1-based
    language: str
    commands: tuple[tuple[str, tuple[str, ...]], ...]  # (command, expected stdout lines)
    emulator: bool

    @property
    def id(self) -> str:
        return f"README.md:{self.line}"


def parse_examples(text: str) -> list[Example]:
    lines = text.splitlines()
    examples = []
    for index, line in enumerate(lines):
        match = MARKER.match(line)
        if not match:
            continue
        options = match.group(1).split()
        for option in options:
            assert OPTIONS.match(option), f"README.md:{index + 1}: unknown runnable option {option!r}"
        fence = lines[index + 1] if index + 1 < len(lines) else ""
        language = fence.removeprefix("```")
        assert fence.startswith("```") and language in ("console", "sh", "bash"), (
            f"README.md:{index + 1}: a runnable marker must sit right before a ```console, ```sh or ```bash block"
        )
        body = []
        for following in lines[index + 2 :]:
            if following.startswith("```"):
                break
            body.append(following)
        commands: list[tuple[str, list[str]]] = []
        if language == "console":
            for text_line in body:
                if text_line.startswith("$ "):
                    commands.append((text_line[2:], []))
                else:
                    assert commands, f"README.md:{index + 2}: output before any `$ ` command"
                    commands[-1][1].append(text_line)
        else:
            commands = [(c, []) for c in body if c.strip() and not c.lstrip().startswith("#")]
        limit = next((int(o.split("=")[1]) for o in options if o.startswith("commands=")), len(commands))
        examples.append(
            Example(
                index + 2,
                language,
                tuple((c, tuple(out)) for c, out in commands[:limit]),
                "emulator" in options,
            )
        )
    return examples


EXAMPLES = parse_examples(README.read_text())


def test_the_promised_examples_are_marked() -> None:
    commands = [c for e in EXAMPLES for c, _ in e.commands]
    assert "apim-reconciler validate samples/" in commands
    assert any(c.startswith("apim-reconciler schema ") for c in commands)


def test_parser_reads_markers_options_and_outputs() -> None:
    text = (
        "<!-- runnable commands=1 emulator -->\n```console\n$ echo a\na\n$ echo b\nb\n```\n"
        "<!-- runnable -->\n```sh\n# comment\ntrue   # why\n\nfalse\n```\n"
    )
    first, second = parse_examples(text)
    assert first.commands == (("echo a", ("a",)),) and first.emulator
    assert second.commands == (("true   # why", ()), ("false", ())) and not second.emulator
    with pytest.raises(AssertionError, match="unknown runnable option"):
        parse_examples("<!-- runnable please -->\n```sh\ntrue\n```\n")
    with pytest.raises(AssertionError, match="right before"):
        parse_examples("<!-- runnable -->\n```yaml\na: 1\n```\n")


@pytest.fixture(scope="module")
def readme_emulator() -> Iterator[str | None]:
    """An emulator where samples/ expects it, or None (with the reason in `skip_reason`)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", EMULATOR_PORT))
        except OSError as exc:
            yield f"port {EMULATOR_PORT} is taken ({exc.strerror}): cannot start the emulator the example expects"
            return
    with start_emulator(EmulatorConfig(port=EMULATOR_PORT)):
        yield None


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    for folder in ("samples", "schemas"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    return tmp_path


def run_example(example: Example, cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    for command, expected in example.commands:
        result = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        where = f"{example.id}: `{command}`"
        assert result.returncode == 0, f"{where} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        if expected:
            got = [line.rstrip() for line in result.stdout.splitlines()]
            assert got == [line.rstrip() for line in expected], (
                f"{where} printed something else than README shows"
            )


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_readme_example(example: Example, scratch: Path, request: pytest.FixtureRequest) -> None:
    if example.emulator:
        reason = request.getfixturevalue("readme_emulator")
        if reason is not None:
            pytest.skip(reason)
    run_example(example, scratch)


def test_a_wrong_output_is_caught(scratch: Path) -> None:
    """The comparison can fail: the validate example with a wrong count."""
    (example,) = parse_examples(
        "<!-- runnable -->\n```console\n$ apim-reconciler validate samples/\n"
        "7 resources OK, 0 errors, 0 warnings in 6 files\n```\n"
    )
    with pytest.raises(AssertionError, match="something else"):
        run_example(example, scratch)
