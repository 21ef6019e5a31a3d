"""`schema`: the JSON Schema of a kind, for editors and CI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from reconciler.exitcodes import ExitCode
from reconciler.manifests.names import RECONCILED_KINDS


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "schema",
        help="print the JSON Schema of a kind (for editors and CI)",
        description="Print the JSON Schema (draft 2020-12) of a kind, e.g. for yaml-language-server.",
    )
    parser.add_argument(
        "kind", nargs="?", choices=RECONCILED_KINDS, metavar="KIND", help=", ".join(RECONCILED_KINDS)
    )
    parser.add_argument("--all", action="store_true", help="every kind's schema")
    parser.add_argument("--out", metavar="DIR", help="with --all: write one KIND.json file per kind into DIR")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from reconciler.manifests.schema import schema_text  # here, as every command's (main.py)

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
