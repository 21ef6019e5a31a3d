"""The emulator needs nothing beyond the package itself: its modules import only the standard library
and each other, never the rest of apim-reconciler (so it cannot share the client's mistakes)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

EMULATOR = Path(__file__).resolve().parents[2] / "reconciler" / "emulator"


def test_the_emulator_imports_only_the_standard_library() -> None:
    outside = []
    for module in sorted(EMULATOR.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            outside += [
                f"{module.name}: {n}" for n in names if n.split(".")[0] not in sys.stdlib_module_names
            ]
    assert outside == []
