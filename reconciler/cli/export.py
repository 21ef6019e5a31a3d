"""`export`: a context's environment written as manifests, to adopt what APIM already holds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from reconciler.cli import options
from reconciler.defaults import DEFAULT_OWNER
from reconciler.exitcodes import ExitCode
from reconciler.textsafe import printable


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "export",
        help="write every API and application of a context's environment as manifests (adoption)",
        description="Read every API and application of the ManagementContext's environment and write one "
        "GKO-compatible manifest per object under --out (apis/, applications/), with server-assigned "
        "fields and our ownership record left out and secret-looking values replaced by [[ secret ]] "
        "templates (listed, never written). Then run sync --adopt once. See docs/export.md.",
    )
    options.add_context_lookup(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write the manifests into")
    parser.add_argument(
        "--namespace",
        type=options.namespace_name,
        metavar="NS",
        help="namespace of the exported manifests (default: the context's); HRIDs <NS>-<name> keep names",
    )
    parser.add_argument("--force", action="store_true", help="overwrite files that already exist")
    parser.add_argument(
        "--write-context", action="store_true", help="also write the context as contexts/<name>.yaml"
    )
    parser.add_argument(
        "--include-without-hrid",
        action="store_true",
        help="also write objects that have no HRID (sync cannot adopt them: it would create duplicates)",
    )
    parser.add_argument(
        "--owner",
        default=DEFAULT_OWNER,
        type=options.owner_id,
        metavar="ID",
        help="our owner id, to flag other owners' objects",
    )
    parser.add_argument(
        "--concurrency", default=8, type=options.positive_int, metavar="N", help="APIM requests in flight"
    )
    parser.add_argument(
        "--per-page", default=100, type=options.positive_int, metavar="N", help="page size of APIM listings"
    )
    options.add_load_options(parser)
    options.add_apim_options(parser)
    options.add_logging_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import asyncio  # here, as every command's imports (main.py)

    from reconciler.apim.endpoints import EndpointError
    from reconciler.apim.errors import ApimError
    from reconciler.export.command import ExportError, ExportOptions, find_context, render_text, run_export
    from reconciler.export.writer import OverwriteRefused, UnsafeOutput
    from reconciler.secrets.errors import SecretResolutionError, SecretResolutionErrors

    export_options = ExportOptions(
        out_dir=Path(args.out),
        namespace=args.namespace,
        force=args.force,
        write_context=args.write_context,
        include_without_hrid=args.include_without_hrid,
        per_page=args.per_page,
        concurrency=args.concurrency,
        owner_id=args.owner,
    )
    store, config = options.secret_store(args), options.client_config(args)
    try:
        context = find_context(args.context, Path(args.path), options.load_options(args))
        result = asyncio.run(run_export(context, store, config, export_options))
    except (
        ExportError,
        OverwriteRefused,
        UnsafeOutput,
        ApimError,
        EndpointError,
        SecretResolutionError,
        SecretResolutionErrors,
    ) as exc:
        print(f"apim-reconciler export: {printable(str(exc))}", file=sys.stderr)
        return ExitCode.FAILED
    sys.stdout.write(render_text(result, export_options.out_dir, Path(args.secrets_dir)))
    return ExitCode.OK if result.ok else ExitCode.FAILED
