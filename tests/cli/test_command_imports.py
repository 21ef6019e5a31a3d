"""Each command imports only what it uses: `--version`, `--help` and `validate FILE` (the pre-commit
hook) load no HTTP client, no event loop, no daemon, no emulator server.

Real processes, `python -X importtime -m reconciler ...`, as users run the command: every module the
process imported is named on stderr. Nothing is timed here (bench/startup.py times the commands);
this holds what made them fast: the command modules import their implementations when they run
(reconciler/cli/main.py), and packages import their exports on first use (reconciler/lazy.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.manifests.helpers import CONTEXT, api_v4, write

REPO = Path(__file__).resolve().parents[2]

# What only a command that talks to APIM, syncs, watches or serves needs.
NETWORK_AND_DAEMON = (
    "httpx",
    "httpcore",
    "anyio",
    "h11",
    "asyncio",
    "watchfiles",
    "multiprocessing",
    "reconciler.apim.client",
    "reconciler.apim.transport",
    "reconciler.contexts.connect",
    "reconciler.sync.engine",
    "reconciler.apply.executor",
    "reconciler.daemon.main",
    "reconciler.notify.sender",
    "reconciler.export.command",
    "reconciler.identity.create",
    "reconciler.emulator.server",
)
# What validating needs, and printing the version or the help does not.
VALIDATION_AND_LOGGING = (
    "jsonschema",
    "jsonschema_rs",
    "ruamel",
    "structlog",
    "rich",
    "reconciler.manifests.loader",
)


def imported_modules(*args: str | Path) -> set[str]:
    """Every module that `python -m reconciler ARGS`, run from this tree, imported (it must exit 0)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reconciler", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    modules = {line.rsplit("|", 1)[1].strip() for line in lines[1:]}  # the first line is the header
    assert "reconciler.cli.main" in modules, result.stderr[-2000:]  # the walk sees the command's imports
    return modules


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_load_neither_the_network_nor_the_validator(flag: str) -> None:
    modules = imported_modules(flag)
    assert loaded(modules, NETWORK_AND_DAEMON) == []
    assert loaded(modules, VALIDATION_AND_LOGGING) == []


def test_help_builds_every_command_and_version_none() -> None:
    commands = {
        "reconciler.cli.options",
        "reconciler.cli.run",
        "reconciler.cli.oneshot",
        "reconciler.emulator.cli",
    }
    assert commands <= imported_modules("--help")  # every command's flags: --help shows them
    assert commands & imported_modules("--version") == set()  # the version needs no flags


def test_validate_of_one_file_loads_the_validator_and_not_the_network(tmp_path: Path) -> None:
    write(tmp_path, "api.yaml", CONTEXT + "---\n" + api_v4("one", "/one"))
    modules = imported_modules("validate", tmp_path / "api.yaml")
    # structlog (the logging every command configures) imports asyncio for its own helpers.
    assert loaded(modules, tuple(n for n in NETWORK_AND_DAEMON if n != "asyncio")) == []
    assert {"reconciler.manifests.loader", "reconciler.manifests.schema", "structlog"} <= modules


def test_the_commands_that_need_the_network_still_load_it(tmp_path: Path) -> None:
    """The other side of the walls above: `diff` of a broken repository still goes through the sync
    (which refuses it before any request), so the test would see a lazy import that broke."""
    write(tmp_path, "api.yaml", api_v4("orphan", "/o", context="nope"))
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reconciler", "diff", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr  # an error in the repository
    modules = {
        line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if "import time:" in line
    }
    assert {"httpx", "reconciler.sync.engine", "reconciler.apim.client"} <= modules
