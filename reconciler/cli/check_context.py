"""`check-context`: does every ManagementContext reach its APIM with its credentials, and why not."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from reconciler.cli import options
from reconciler.exitcodes import ExitCode


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "check-context",
        help="check that every ManagementContext reaches its APIM with its credentials",
        description="For every ManagementContext under PATH: resolve its credentials (inline, mounted "
        "secret files, or APIM_SECRET_* variables), call the server, and print who and where it reached, "
        "or exactly why not. Exit 1 when any context cannot be used.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="manifest files or folders")
    options.add_output_option(parser, ("text", "json"), "report format")
    options.add_load_options(parser)
    options.add_apim_options(parser)
    options.add_logging_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from reconciler.contexts.check import check_contexts  # here, as every command's (main.py)
    from reconciler.manifests.loader import load_manifests
    from reconciler.report import problems as problems_report
    from reconciler.report.contexts import render_context_checks, render_context_checks_json

    manifests = load_manifests(args.paths, options.load_options(args))
    if not manifests.ok:
        sys.stdout.write(problems_report.render_text(manifests))
        return ExitCode.FAILED
    results = check_contexts(manifests.resources, options.secret_store(args), options.client_config(args))
    render = render_context_checks_json if args.output == "json" else render_context_checks
    sys.stdout.write(render(results))
    return ExitCode.OK if results and all(r.ok for r in results) else ExitCode.FAILED
