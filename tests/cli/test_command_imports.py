"""Each command imports only what it uses: `--version`, `--help` and `validate FILE` (the pre-commit
hook) load no HTTP client, no event loop, no daemon, no emulator server; `--help` not even the modules
that use the flags' defaults (they are in leaves, reconciler/defaults.py), and `validate` of valid
files neither structlog (logging is configured when something imports it, reconciler/logs.py) nor
the Python schema validator (jsonschema-rs screens every document; the other explains failures).

Real processes, `python -X importtime -m reconciler ...`, as users run the command: every module the
process imported is named on stderr. Nothing is timed here (bench/startup.py times the commands);
this holds what made them fast: the command modules import their implementations when they run
(reconciler/cli/main.py), and packages import their exports on first use (reconciler/lazy.py).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.cli.flagtable import commands
from reconciler.cli.main import COMMANDS, build_parser
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


# What only uses a flag's default, or runs the command: `--help` builds every command's flags, and
# imports none of these for it (issue 20: sync.settings alone brought the planner and the kind registry).
FLAG_DEFAULT_USERS = (
    "reconciler.sync",
    "reconciler.plan",
    "reconciler.kinds",
    "reconciler.source.git",
    "reconciler.source.errors",
    "reconciler.contexts.binding",
    "reconciler.apim.config",
    "reconciler.manifests.model",
    "reconciler.manifests.files",
    "reconciler.secrets.store",
    "reconciler.identity.model",
    "reconciler.notify.events",
    "reconciler.emulator.config",
    "reconciler.emulator.faults",
    "dataclasses",
    "inspect",
    "logging",
    "socket",
    "tempfile",
    "datetime",
)


def imported_modules(*args: str | Path, code: int = 0) -> set[str]:
    """Every module that `python -m reconciler ARGS`, run from this tree, imported (it must exit `code`)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reconciler", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == code, result.stdout + result.stderr
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


def test_help_loads_no_module_for_a_flags_default() -> None:
    assert loaded(imported_modules("--help"), FLAG_DEFAULT_USERS) == []
    assert {"reconciler.defaults", "reconciler.manifests.names"} <= imported_modules("--help")


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
    assert loaded(modules, NETWORK_AND_DAEMON) == []
    # Nothing logs: structlog (with rich and asyncio) is never imported; every document passes the
    # screen: the Python validator (with referencing) is never imported either.
    assert loaded(modules, ("structlog", "rich", "jsonschema", "referencing")) == []
    assert {
        "reconciler.manifests.loader",
        "reconciler.manifests.schema",
        "jsonschema_rs",
        "ruamel",
    } <= modules


def test_a_named_command_imports_no_other_command(tmp_path: Path) -> None:
    write(tmp_path, "api.yaml", CONTEXT + "---\n" + api_v4("one", "/one"))
    modules = imported_modules("validate", tmp_path / "api.yaml")
    others = {f"reconciler.cli.{m}" for m in COMMANDS.values()} - {"reconciler.cli.validate"}
    assert modules & others == set()
    assert "reconciler.emulator.cli" not in modules


def test_the_commands_table_is_the_parsers() -> None:
    """`COMMANDS` (what `main` builds alone when the first word names it) lists every command, in
    `--help`'s order; and a command's parser built alone is the one of the whole parser, flag for flag
    (their variables and help included)."""
    whole = build_parser()
    [subparsers] = [a for a in whole._actions if isinstance(a, argparse._SubParsersAction)]
    assert list(subparsers.choices) == list(COMMANDS)
    every = {name: parser.format_help() for name, parser in commands(whole).items()}
    for command in COMMANDS:
        alone = {name: parser.format_help() for name, parser in commands(build_parser(command)).items()}
        module = COMMANDS[command]
        assert alone == {
            name: text
            for name, text in every.items()
            if COMMANDS[name.split(" ")[0]] == module  # diff and sync come together
        }


def test_validate_of_a_broken_file_still_explains_it(tmp_path: Path) -> None:
    """The other side: a document that fails the screen loads the Python validator to explain it."""
    write(
        tmp_path, "api.yaml", CONTEXT + "---\n" + api_v4("one", "/one").replace("type: PROXY", "type: SOAP")
    )
    modules = imported_modules("validate", tmp_path / "api.yaml", code=1)
    assert {"jsonschema", "referencing"} <= {m.partition(".")[0] for m in modules}


def test_logging_configured_before_structlog_is_imported_applies_when_it_is() -> None:
    """`configure_logging` decides at its call and configures structlog when something imports it: a
    log line of a module imported afterwards is JSON on stderr, at the level asked, scrubbed."""
    code = (
        "import sys; from reconciler.logs import configure_logging; "
        "from reconciler.secrets.redaction import default_redactor; "
        "default_redactor().add('s3cr3t-value-for-the-test'); "
        "configure_logging('info', 'json'); assert 'structlog' not in sys.modules; "
        "import structlog; log = structlog.get_logger(); "
        "log.debug('test.hidden'); log.info('test.deferred', token='s3cr3t-value-for-the-test')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert '"event": "test.deferred"' in line and '"level": "info"' in line
    assert "s3cr3t" not in line and "(sensitive)" in line


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
