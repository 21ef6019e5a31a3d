"""The `apim-reconciler` command: one module per command under `reconciler/cli/`, assembled here.

A command module imports at its top only what its flags need; what the command does is imported by
its `run` function when it runs (issue 20: `--version` loaded httpx, anyio, the daemon and the
emulator). When the first word names a command, only that command's module is imported and only its
flags are built (`validate FILE` waits for no other command's); `--help` builds them all.
tests/cli/test_command_imports.py holds it; bench/startup.py times it.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Sequence

from reconciler import __version__
from reconciler.cli.parser import Parser, UsageError, attach_env
from reconciler.exitcodes import ExitCode
from reconciler.secrets.stdio import scrubbed_stdio
from reconciler.textsafe import printable

VERSION = f"apim-reconciler {__version__}"

COMMANDS = {
    "validate": "validate",
    "check-context": "check_context",
    "export": "export",
    "diff": "oneshot",
    "sync": "oneshot",
    "run": "run",
    "schema": "schema",
    "service-account": "service_account",
    "emulator": "emulator",
}
"""Each command, and the module under `reconciler/cli/` whose `add_parser` adds it (in `--help`'s
order); tests/cli/test_command_imports.py checks it against the parser."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command's parser; or, given a name of `COMMANDS`, a parser of that command alone, its
    flags exactly the same (the other commands are then unknown to it)."""
    from reconciler.cli.options import PUBLIC_VARS_ENV
    from reconciler.defaults import ALLOW_ENV, ALLOW_FLAG

    parser = Parser(
        prog="apim-reconciler",
        description="Keep Gravitee API Management in step with a git repository of GKO-compatible manifests.",
        epilog="Exit codes: 0 success, 1 errors found or operation failed, 2 changes pending "
        "(diff --exit-code), 64 usage error, 130 interrupted by SIGINT (Ctrl-C), 143 by SIGTERM "
        "(diff and sync print the report of what was done first). Every flag can also be set by a "
        "variable RECONCILER_<FLAG> (its --help names it); a flag on the command line wins.",
    )
    parser.add_argument("--version", action="version", version=VERSION)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in dict.fromkeys(COMMANDS.values()) if command is None else [COMMANDS[command]]:
        # __import__, not importlib.import_module: -X importtime (the tests, the bench) sees it.
        __import__(f"reconciler.cli.{module}", fromlist=["add_parser"]).add_parser(commands)
    # The variables whose names are not RECONCILER_<FLAG>: these take lists, and say so.
    attach_env(parser, {ALLOW_FLAG: ALLOW_ENV, "--public-var": PUBLIC_VARS_ENV})
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; everything it prints, tracebacks included, goes through the secret scrubber."""
    if (sys.argv[1:] if argv is None else list(argv)) == ["--version"]:
        print(VERSION)  # what scripts ask first, answered without building every command's flags
        return ExitCode.OK
    with scrubbed_stdio():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(words[0] if words and words[0] in COMMANDS else None)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a usage error (64), --help or --version (0): returned, like every code
        return exc.code if isinstance(exc.code, int) else ExitCode.USAGE
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    from reconciler.logs import configure_logging

    configure_logging(getattr(args, "log_level", "warning"), getattr(args, "log_format", "auto"))
    try:
        return int(handler(args))
    except UsageError as exc:
        print(f"apim-reconciler: error: {printable(str(exc))}", file=sys.stderr)
        return ExitCode.USAGE
    except Exception as exc:
        # Imported here: the source package (and its `dataclasses`) is not for `--help` to load.
        from reconciler.source.errors import SourceError

        if not isinstance(exc, SourceError):
            raise
        # The message is safe to show: no credential in it (docs/source.md).
        print(f"apim-reconciler: error: {printable(exc.message)}", file=sys.stderr)
        return ExitCode.FAILED
    except KeyboardInterrupt:  # Ctrl-C outside a sync (which handles it itself and reports)
        return ExitCode.interrupted_by(signal.SIGINT)
