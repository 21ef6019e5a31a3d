"""One log-event convention: `<area>.<what_happened>` in snake case (`daemon.sync_started`), so that a
log query can select a whole area and an event name never carries a value. Held by an ast walk over
every structlog call of the reconciler (the emulator logs through the standard library, as real APIM
would be observed: its lines are not ours)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "reconciler"
EVENT = re.compile(r"[a-z]+\.[a-z][a-z0-9_]*")
METHODS = {"debug", "info", "warning", "error", "exception", "critical"}


def _events() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if "emulator" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in METHODS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("_log", "log", "logger")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.append((str(path.relative_to(ROOT.parent)), node.lineno, node.args[0].value))
    return found


def test_every_log_event_is_area_dot_snake_case() -> None:
    events = _events()
    assert len(events) > 30  # the walk finds the calls: an empty list would prove nothing
    assert [f"{p}:{line}: {event!r}" for p, line, event in events if not EVENT.fullmatch(event)] == []
