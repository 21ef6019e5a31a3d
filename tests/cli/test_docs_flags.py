"""Every `--flag` that the README and docs/ mention exists: documentation that names a flag we do
not have sends users in circles."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from reconciler.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
# Flags of other tools that the documents show in their own commands.
OTHER_TOOLS = {
    "--retry", "--retry-connrefused", "--strict",  # curl, mypy
    "--build-arg", "--from-literal", "--read-only", "--rm", "--tmpfs",  # docker, kubectl
    "--connectivity-only", "--depth", "--diff-filter", "--symref",  # git
    "--armor", "--export",  # gpg
    "--write",  # python -m tests.docs.show
    "--dump", "--module", "--python", "--show",  # python -m bench.libraries
    "--code", "--quick", "--runs", "--scenarios",  # python -m bench.startup
    "--apis", "--keep-logs", "--pushes",  # python -m bench.push_to_applied
}  # fmt: skip


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _flags(sub)
        found.update(action.option_strings)
    return found


def test_every_documented_flag_exists() -> None:
    ours = _flags(build_parser())
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
    unknown = [
        f"{doc.relative_to(ROOT)}: {flag}"
        for doc in documents
        if doc.exists()
        for flag in sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]+", doc.read_text())))
        if flag not in ours and flag not in OTHER_TOOLS
    ]
    assert not unknown, unknown
