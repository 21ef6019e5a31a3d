"""`validate`: manifests checked offline, every problem at file:line."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from reconciler.cli import options
from reconciler.exitcodes import ExitCode


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "validate",
        help="check manifests offline: YAML, schemas, cross-resource rules",
        description="Load every *.yaml/*.yml under PATH (recursively, skipping hidden folders), validate "
        "each ManagementContext, ApiV4Definition, ApiDefinition and Application against its schema, and "
        "check them across files (unknown contextRef, duplicates, clashing listener paths, plan/page "
        "keys, templates, names and lengths that APIM refuses); unsafe files (symlinks out of the "
        "repository or into hidden folders, devices, unreadable files) are errors. Prints "
        "file:line:column: severity: message, then a summary.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="manifest files or folders")
    options.add_output_option(parser, ("text", "json"), "report format")
    options.add_load_options(parser)
    options.add_logging_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from reconciler.manifests.loader import load_manifests  # here, as every command's (main.py)
    from reconciler.report import problems as problems_report

    manifests = load_manifests(args.paths, options.load_options(args))
    render = problems_report.render_json if args.output == "json" else problems_report.render_text
    sys.stdout.write(render(manifests))
    return ExitCode.OK if manifests.ok else ExitCode.FAILED
