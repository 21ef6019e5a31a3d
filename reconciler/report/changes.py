"""Field changes as lines for people (text and Markdown): structured, never cut inside a value.

A value is shown whole on one line when it is short; a longer object or list is shown field by
field (`+ listeners[0].paths[0].path: "/orders"`), a long or multi-line string as a block of its
lines, and two versions of a long string as a unified diff. What does not fit the bounds is left out
by whole lines, and the report says how many (`--output json` has every value). Text that is split
into lines is scrubbed first (`default_redactor`), so that no secret value can be cut in two places
that the scrubber of the whole report would then not recognise.

A creation shows what the repository says; what the reconciler sets itself (HRIDs and ids it
derives, GKO's CRD defaults, `notifyMembers`) is named on one line apart, with its values only
when `verbose`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reconciler.manifests.model import FieldPath, format_field_path
from reconciler.plan.diff import LONG_STRING, ChangeOp, FieldChange, redact
from reconciler.plan.model import Action, ActionKind
from reconciler.secrets.redaction import default_redactor
from reconciler.secrets.value import REDACTED, Secret

INLINE = 100
"""An object or list whose one-line JSON is at most this long is shown on one line."""
WRAP = 160
"""Lines of a string longer than this are wrapped (after scrubbing), never cut."""
_NOTE_WIDTH = 100
MAX_LINES = 60
"""Lines shown for one field change; the rest is counted, not shown."""
_MISSING = object()


def show(value: Any) -> str:
    """A value as one line of JSON, secrets as `(sensitive)`."""
    if isinstance(value, Secret) or value == REDACTED:
        return REDACTED
    return json.dumps(redact(value), ensure_ascii=False, separators=(", ", ": "))


def action_lines(action: Action, *, verbose: bool = False) -> list[str]:
    """Every change of an action as lines (without indentation); a creation's in two parts."""
    if action.kind in (ActionKind.CREATE, ActionKind.BLOCKED) and _creation(action.changes):
        return _creation_lines(action.changes, verbose)
    return [line for change in action.changes for line in change_lines(change)]


def change_lines(change: FieldChange) -> list[str]:
    """One field change: `~ path: old -> new`, a value field by field, or a unified diff."""
    path = change.path_text or "(whole object)"
    text = change.text_diff()
    if text is not None:
        lines = _wrapped(default_redactor().scrub(text).splitlines(), signed=True)
        return _bounded([f"~ {path}:", *("    " + line for line in lines)])
    if change.op is ChangeOp.ADDED:
        return _bounded(value_lines("+", change.path, change.new))
    if change.op is ChangeOp.REMOVED:
        return _bounded(value_lines("-", change.path, change.old))
    if _is_container(change.old) or _is_container(change.new):
        return _bounded(
            [*value_lines("-", change.path, change.old), *value_lines("+", change.path, change.new)]
        )
    return [f"~ {path}: {show(change.shown_old())} -> {show(change.shown_new())}"]


def value_lines(symbol: str, path: FieldPath, value: Any) -> list[str]:
    """A value at `path`: on one line when short, else field by field; long strings as blocks."""
    name = format_field_path(path) or "(whole object)"
    if isinstance(value, Secret) or value == REDACTED:
        return [f"{symbol} {name}: {REDACTED}"]
    if isinstance(value, str) and ("\n" in value or len(value) > LONG_STRING):
        lines = _wrapped(default_redactor().scrub(value).splitlines() or [""])
        return [f"{symbol} {name}: |", *(f"{symbol}     {line}" for line in lines)]
    if not _is_container(value):
        return [f"{symbol} {name}: {show(value)}"]
    inline = show(value)
    children = _children(value)
    if len(inline) <= INLINE or not children:
        return [f"{symbol} {name}: {inline}"]
    return [line for key, child in children for line in value_lines(symbol, (*path, key), child)]


def _creation(changes: Sequence[FieldChange]) -> bool:
    return bool(changes) and all(c.filled_in is not None for c in changes)


def _creation_lines(changes: Sequence[FieldChange], verbose: bool) -> list[str]:
    written: list[str] = []
    filled: list[tuple[FieldPath, Any]] = []
    for change in changes:
        holes = change.filled_in or frozenset()
        filled += [((*change.path, *hole), _at(change.new, hole)) for hole in sorted(holes, key=_sort_key)]
        shown = _without(change.new, holes)
        if shown is not _MISSING:
            written += _bounded(value_lines("+", change.path, shown))
    if not filled:
        return written
    if verbose:
        values = [line for path, value in filled for line in value_lines("+", path, value)]
        return [*written, "# set by the reconciler (derived ids, GKO's defaults):", *values]
    return [*written, *_named(filled)]


def _named(filled: Sequence[tuple[FieldPath, Any]]) -> list[str]:
    """`# set by the reconciler (...): hrid, state; plans.Free: mode, status`, wrapped."""
    groups: dict[FieldPath, list[str]] = {(): []}  # top-level fields first
    for path, _ in filled:
        groups.setdefault(path[:-1], []).append(format_field_path(path[-1:]))
    parts = [
        ", ".join(names) if not parent else f"{format_field_path(parent)}: {', '.join(names)}"
        for parent, names in groups.items()
        if names
    ]
    text = "# set by the reconciler (--verbose shows the values): " + "; ".join(parts)
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > _NOTE_WIDTH:
            lines.append(line)
            line = "#   " + word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line]


def _without(value: Any, holes: frozenset[FieldPath]) -> Any:
    """`value` less the fields at `holes` (relative paths); _MISSING when nothing is left."""
    if () in holes:
        return _MISSING
    if not holes or not _is_container(value):
        return value
    out: Any = {} if isinstance(value, Mapping) else []
    for key, child in _children(value):
        inner = frozenset(h[1:] for h in holes if h[0] == key)
        kept = _without(child, inner)
        if kept is _MISSING:
            continue
        if isinstance(out, dict):
            out[key] = kept
        else:
            out.append(kept)
    return out if out or not _children(value) else _MISSING


def _at(value: Any, path: FieldPath) -> Any:
    for part in path:
        value = value[part]
    return value


def _sort_key(path: FieldPath) -> tuple[str, ...]:
    return tuple(f"{p:08d}" if isinstance(p, int) else p for p in path)


def _is_container(value: Any) -> bool:
    return isinstance(value, Mapping | list | tuple)


def _children(value: Any) -> list[tuple[str | int, Any]]:
    if isinstance(value, Mapping):
        return list(value.items())
    return list(enumerate(value))


def _wrapped(lines: Iterable[str], *, signed: bool = False) -> list[str]:
    """Lines longer than WRAP split into several, each continuation marked `↪` (after the sign of a
    diff line, when `signed`), never inside a `(sensitive)`. The text was scrubbed before."""
    out: list[str] = []
    for line in lines:
        sign, rest = (line[:1], line[1:]) if signed else ("", line)
        chunks = _chunks(rest)
        out += [sign + chunks[0], *(sign + CONTINUED + chunk for chunk in chunks[1:])]
    return out


CONTINUED = "↪"
"""Marks the continuation of a line too long to show on one."""


def _chunks(text: str) -> list[str]:
    chunks: list[str] = []
    while len(text) > WRAP:
        cut = WRAP
        hidden = text.rfind(REDACTED, 0, cut + len(REDACTED) - 1)
        if hidden != -1 and hidden + len(REDACTED) > cut and hidden > 0:
            cut = hidden  # keep `(sensitive)` whole
        chunks.append(text[:cut])
        text = text[cut:]
    return [*chunks, text]


def _bounded(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_LINES:
        return lines
    left = len(lines) - (MAX_LINES - 1)
    return [*lines[: MAX_LINES - 1], f"  … {left} more lines not shown (--output json has the whole value)"]
