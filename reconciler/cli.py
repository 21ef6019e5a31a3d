"""The `apim-reconciler` command line: flags, environment, exit codes, and nothing else.

Every flag can also be set by an environment variable `RECONCILER_<FLAG>` (upper case, dashes
as underscores), as decK and Flux users expect; a flag on the command line wins.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from reconciler import __version__
from reconciler.exitcodes import ExitCode
from reconciler.manifests import LoadOptions, load_manifests
from reconciler.manifests.files import DEFAULT_MAX_FILE_SIZE
from reconciler.manifests.model import DEFAULT_NAMESPACE, RECONCILED_KINDS
from reconciler.manifests.schema import schema_text
from reconciler.report import problems as problems_report

ENV_PREFIX = "RECONCILER_"


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on a usage error; 2 means "changes pending" here, so use 64 (EX_USAGE)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message}\n")


def env_name(flag: str) -> str:
    return ENV_PREFIX + flag.lstrip("-").upper().replace("-", "_")


def _option(parser: argparse.ArgumentParser, flag: str, default: Any = None, **kwargs: Any) -> None:
    """Add a flag whose default comes from its RECONCILER_* variable, and say so in --help."""
    env = env_name(flag)
    kind: Callable[[str], Any] = kwargs.get("type", str)
    value = os.environ.get(env)
    if value is not None:
        try:
            default = kind(value)
        except (TypeError, ValueError):
            parser.error(f"{env}={value!r} is not a valid value for {flag}")
    help_text = kwargs.pop("help", "")
    kwargs["help"] = f"{help_text} [env {env}]" + (" (default: %(default)s)" if default is not None else "")
    parser.add_argument(flag, default=default, **kwargs)


def _add_load_options(parser: argparse.ArgumentParser) -> None:
    _option(
        parser,
        "--default-namespace",
        DEFAULT_NAMESPACE,
        metavar="NS",
        help="namespace of resources whose metadata names none",
    )
    _option(
        parser,
        "--max-file-size",
        DEFAULT_MAX_FILE_SIZE,
        type=int,
        metavar="BYTES",
        help="refuse manifest files larger than this",
    )


def _load_options(args: argparse.Namespace) -> LoadOptions:
    return LoadOptions(default_namespace=args.default_namespace, max_file_size=args.max_file_size)


def cmd_validate(args: argparse.Namespace) -> int:
    manifests = load_manifests(args.paths, _load_options(args))
    render = problems_report.render_json if args.output == "json" else problems_report.render_text
    sys.stdout.write(render(manifests))
    return ExitCode.OK if manifests.ok else ExitCode.FAILED


def cmd_schema(args: argparse.Namespace) -> int:
    if args.all:
        if args.out is None:
            sys.stdout.write("{\n" + ",\n".join(f'"{k}": {schema_text(k)}' for k in RECONCILED_KINDS) + "}\n")
            return ExitCode.OK
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for kind in RECONCILED_KINDS:
            (out / f"{kind}.json").write_text(schema_text(kind), encoding="utf-8")
            print(out / f"{kind}.json")
        return ExitCode.OK
    if args.kind is None:
        print("apim-reconciler schema: name a KIND or pass --all", file=sys.stderr)
        return ExitCode.USAGE
    sys.stdout.write(schema_text(args.kind))
    return ExitCode.OK


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="apim-reconciler",
        description="Keep Gravitee API Management in step with a git repository of GKO-compatible manifests.",
        epilog="Exit codes: 0 success, 1 errors found or operation failed, 2 changes pending "
        "(diff --exit-code), 64 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"apim-reconciler {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    validate = commands.add_parser(
        "validate",
        help="check manifests offline: YAML, schemas, cross-resource rules",
        description="Load every *.yaml/*.yml under PATH (recursively, skipping hidden folders), validate "
        "each ManagementContext, ApiV4Definition, ApiDefinition and Application against its schema, and "
        "check them across files (unknown contextRef, duplicates, clashing listener paths, plan/page "
        "keys, templates). Prints file:line:column: severity: message, then a summary.",
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", help="manifest files or folders")
    _option(validate, "--output", "text", choices=("text", "json"), help="report format")
    _add_load_options(validate)
    validate.set_defaults(handler=cmd_validate)

    schema = commands.add_parser(
        "schema",
        help="print the JSON Schema of a kind (for editors and CI)",
        description="Print the JSON Schema (draft 2020-12) of a kind, e.g. for yaml-language-server.",
    )
    schema.add_argument(
        "kind", nargs="?", choices=RECONCILED_KINDS, metavar="KIND", help=", ".join(RECONCILED_KINDS)
    )
    schema.add_argument("--all", action="store_true", help="every kind's schema")
    schema.add_argument("--out", metavar="DIR", help="with --all: write one KIND.json file per kind into DIR")
    schema.set_defaults(handler=cmd_schema)

    emulator = commands.add_parser(
        "emulator",
        help="run a local APIM emulator (for the demo, tests and CI)",
        description="Serve the APIM endpoints that apim-reconciler uses (Automation API, Management API v2 "
        "and the v1 endpoints for v2 APIs) from an in-memory store, with latency and fault injection. "
        "Default credentials: admin/admin, or the bearer token emulator-token.",
    )
    from reconciler.emulator import cli as emulator_cli

    emulator_cli.add_arguments(emulator)
    emulator.set_defaults(handler=emulator_cli.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        return ExitCode.FAILED
