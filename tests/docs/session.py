"""Running a documented block as a reader would: one bash session, in a scratch folder.

A console block's commands run one after another in the same bash process (so `export` and `cd`
carry over, as in a terminal); each command's standard output and exit status are cut apart by a
marker line that bash prints between them. The output is compared line by line with the block's,
after `normalise` has replaced, on both sides, what differs from run to run.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.docs.blocks import Block, Command

DOCUMENTED_PORT = 8083
"""The emulator's port in the documents; the tests run it on a free one and write it back."""

_VOLATILE = (
    # ISO-8601 instants (APIM timestamps, ownership records), then compact ones (token names)
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"), "<time>"),
    (re.compile(r"\b\d{8}T\d{6,12}Z\b"), "<time>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<uuid>"),
    (re.compile(r"\b\d+(?:\.\d+)? ?(?:ms|s)\b(?= |\)|,|;|$)"), "<duration>"),
)


def normalise(line: str, port: int | None = None) -> str:
    """A line of output with what changes between runs replaced by placeholders: instants, UUIDs
    (random ids, or ids derived from random ones), durations, and the emulator's port."""
    if port is not None:
        line = re.sub(rf"\b{port}\b", str(DOCUMENTED_PORT), line)
    for pattern, placeholder in _VOLATILE:
        line = pattern.sub(placeholder, line)
    return line.rstrip()


@dataclass(frozen=True)
class Outcome:
    command: Command
    stdout: str
    exit_code: int


@dataclass(frozen=True)
class Scene:
    """Where a block runs: its scratch folder, its environment, and the emulator's address if any."""

    folder: Path
    env: dict[str, str]
    port: int | None = None
    base_url: str | None = None


def base_env(folder: Path) -> dict[str, str]:
    """The reader's environment: this venv first on PATH, nothing of ours inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILER_", "APIM_"))}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    env["XDG_CACHE_HOME"] = str(folder / ".cache")
    env["NO_COLOR"] = "1"
    return env


def substitute_port(text: str, port: int | None) -> str:
    return text if port is None else re.sub(rf"\b{DOCUMENTED_PORT}\b", str(port), text)


def run_bash(script: str, scene: Scene, timeout: float = 180) -> tuple[int, str, str]:
    """Run a bash script in its own process group; whatever it left running is stopped after it."""
    out, err = scene.folder / ".stdout", scene.folder / ".stderr"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            ["bash", "-c", script],
            cwd=scene.folder,
            env=scene.env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        try:
            code = process.wait(timeout=timeout)
        finally:
            with contextlib.suppress(ProcessLookupError):  # the group this test started: its background jobs
                os.killpg(process.pid, signal.SIGTERM)
    return code, out.read_text(), err.read_text()


def run_console(block: Block, scene: Scene) -> tuple[list[Outcome], str]:
    """Every command of a console block in one session; returns their outcomes and the stderr."""
    mark = f"__docs_{secrets.token_hex(8)}__"
    parts = ["set -o pipefail"]
    for index, command in enumerate(block.commands):
        parts.append(substitute_port(command.text, scene.port))
        parts.append(f"printf '\\n{mark} {index} %s\\n' \"$?\"")
    code, stdout, stderr = run_bash("\n".join(parts) + "\n", scene)
    outcomes: list[Outcome] = []
    rest = stdout
    for index, command in enumerate(block.commands):
        pattern = re.compile(rf"\n{mark} {index} (\d+)\n")
        found = pattern.search(rest)
        if found is None:
            raise AssertionError(
                f"{block.id}: the session stopped at `{command.text}` (bash exited {code})\n{stderr}"
            )
        outcomes.append(Outcome(command, rest[: found.start()], int(found.group(1))))
        rest = rest[found.end() :]
    return outcomes, stderr


def check_console(block: Block, scene: Scene) -> None:
    outcomes, stderr = run_console(block, scene)
    for outcome in outcomes:
        command = outcome.command
        where = f"{block.document}:{command.line}: `{command.text}`"
        got = [normalise(line, scene.port) for line in outcome.stdout.splitlines()]
        want = [normalise(line) for line in command.expected]
        assert outcome.exit_code == command.exit_code, (
            f"{where} exited {outcome.exit_code}, the document says {command.exit_code}\n"
            + "\n".join(got)
            + f"\n--- stderr\n{stderr}"
        )
        assert got == want, f"{where} printed something else than the document shows:\n" + unified(want, got)


def unified(want: Sequence[str], got: Sequence[str]) -> str:
    import difflib

    return "\n".join(difflib.unified_diff(list(want), list(got), "document", "actual", lineterm=""))


def check_script(block: Block, scene: Scene) -> None:
    """A shell block: the whole script, stopping at the first failure, must exit 0."""
    script = "set -eo pipefail\n" + substitute_port("\n".join(block.body), scene.port) + "\n"
    code, stdout, stderr = run_bash(script, scene)
    assert code == 0, f"{block.id}: exited {code}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"


def check_python(block: Block, scene: Scene) -> None:
    source = substitute_port("\n".join(block.body), scene.port)
    result = subprocess.run(
        [sys.executable, "-c", source],
        cwd=scene.folder,
        env=scene.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{block.id}: exited {result.returncode}\n{result.stdout}\n{result.stderr}"


def with_env(scene: Scene, extra: Mapping[str, str]) -> Scene:
    return Scene(scene.folder, {**scene.env, **extra}, scene.port, scene.base_url)
