"""Each package's public list (`__all__`, httpx-style) is real: every name exists, and every name is
used from outside its package (by the rest of the reconciler, the tests, the benchmarks or the
scripts). A name nobody imports through the package is decoration, and is taken off the list."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOT = REPO / "reconciler"


def _packages() -> list[str]:
    return sorted(
        ".".join(p.parent.relative_to(REPO).parts)
        for p in ROOT.rglob("__init__.py")
        if "emulator" not in p.parts and p.parent != ROOT
    )


def _imports_from(package: str) -> set[str]:
    """Names imported as `from <package> import NAME`, or read as `<alias>.NAME` after
    `from <parent> import <alias>`, by modules outside the package."""
    names: set[str] = set()
    parent, _, last = package.rpartition(".")
    for folder in ("reconciler", "tests", "bench", "scripts"):
        for path in (REPO / folder).rglob("*.py"):
            module = ".".join(path.relative_to(REPO).with_suffix("").parts)
            if module == package or module.startswith(package + "."):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            aliases = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module == package and not node.level:
                    names.update(alias.name for alias in node.names)
                if isinstance(node, ast.ImportFrom) and node.module == parent and not node.level:
                    aliases.update(a.asname or a.name for a in node.names if a.name == last)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id in aliases
                ):
                    names.add(node.attr)
    return names


def test_every_public_name_exists_and_is_used_from_outside() -> None:
    checked = 0
    problems = []
    for package in _packages():
        module = importlib.import_module(package)
        public = getattr(module, "__all__", None)
        if public is None:
            continue
        checked += 1
        problems += [f"{package}.{name}: listed, not defined" for name in public if not hasattr(module, name)]
        used = _imports_from(package)
        problems += [
            f"{package}.{name}: listed, never imported from {package}" for name in public if name not in used
        ]
    assert checked >= 5
    assert problems == []
