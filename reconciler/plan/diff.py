"""Field-level differences between two comparable bodies (see `normalise.comparable`).

Changes are expressed as what applying the desired body does to APIM: `added` (in git, not in APIM),
`removed` (in APIM, not in git), `changed`. A change touching a secret is marked sensitive: every
secret leaf on either side is a `Secret` (APIM's plain echo of a secret field is wrapped too), so a
renderer shows it as `(sensitive)`, and a sensitive change is never shown as a text diff.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.manifests.model import FieldPath, Position, format_field_path
from reconciler.secrets.value import REDACTED, Secret

JSON = Any
LONG_STRING = 80
"""Strings longer than this (or with a newline) are shown as unified diffs."""


class ChangeOp(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class FieldChange:
    op: ChangeOp
    path: FieldPath
    old: JSON = None
    new: JSON = None
    sensitive: bool = False
    position: Position | None = field(default=None, compare=False)
    """Where the field is written in the manifest (its nearest written ancestor), when known."""
    filled_in: frozenset[FieldPath] | None = field(default=None, compare=False)
    """For a creation: the paths inside the new value (relative to `path`; `()` for all of it) that
    the manifest does not write, the reconciler did (derived ids, GKO's defaults). None: not told."""

    @property
    def written(self) -> bool:
        """False when the reconciler set the whole field: the manifest does not write it."""
        return self.filled_in is None or () not in self.filled_in

    @property
    def path_text(self) -> str:
        return format_field_path(self.path)

    def shown_old(self) -> JSON:
        """The old side, safe to print: every secret leaf in it as `(sensitive)`."""
        return redact(self.old)

    def shown_new(self) -> JSON:
        return redact(self.new)

    def text_diff(self) -> str | None:
        """A unified diff when both sides are strings and either is long or multi-line; else None."""
        if self.sensitive or self.op is not ChangeOp.CHANGED:
            return None
        if not (isinstance(self.old, str) and isinstance(self.new, str)):
            return None
        if not any("\n" in s or len(s) > LONG_STRING for s in (self.old, self.new)):
            return None
        lines = difflib.unified_diff(
            self.old.splitlines(), self.new.splitlines(), "apim", "git", lineterm="", n=2
        )
        return "\n".join(lines)


def redact(value: JSON) -> JSON:
    """A copy that is safe to print: every Secret replaced by `(sensitive)`."""
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, Mapping):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def contains_secret(value: JSON) -> bool:
    if isinstance(value, Secret):
        return True
    if isinstance(value, Mapping):
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_secret(v) for v in value)
    return False


def same(desired: JSON, actual: JSON) -> bool:
    """Equality where a Secret equals the plain string APIM echoes for it."""
    if isinstance(desired, Secret) or isinstance(actual, Secret):
        return bool(_plain(desired) == _plain(actual))
    if isinstance(desired, Mapping) and isinstance(actual, Mapping):
        return desired.keys() == actual.keys() and all(same(desired[k], actual[k]) for k in desired)
    if isinstance(desired, list) and isinstance(actual, list):
        return len(desired) == len(actual) and all(same(d, a) for d, a in zip(desired, actual, strict=True))
    if isinstance(desired, bool) or isinstance(actual, bool):
        return type(desired) is type(actual) and desired == actual
    equal: bool = desired == actual
    return equal


Locate = Callable[[FieldPath], Position]
"""Where a field of the desired body is written in its manifest (`DesiredResource.position_of`)."""


def diff(
    desired: JSON, actual: JSON, path: FieldPath = (), locate: Locate | None = None
) -> tuple[FieldChange, ...]:
    """Every leaf-level difference, in desired order then APIM-only keys sorted; each change gets its
    manifest position from `locate`, when given."""
    if same(desired, actual):
        return ()
    if isinstance(desired, Mapping) and isinstance(actual, Mapping):
        changes: list[FieldChange] = []
        keys = list(desired) + sorted(k for k in actual if k not in desired)
        for key in keys:
            if key not in actual:
                changes.append(_change(ChangeOp.ADDED, (*path, key), None, desired[key], locate))
            elif key not in desired:
                changes.append(_change(ChangeOp.REMOVED, (*path, key), actual[key], None, locate))
            else:
                changes.extend(diff(desired[key], actual[key], (*path, key), locate))
        return tuple(changes)
    if isinstance(desired, list) and isinstance(actual, list):
        changes = []
        for index in range(max(len(desired), len(actual))):
            if index >= len(actual):
                changes.append(_change(ChangeOp.ADDED, (*path, index), None, desired[index], locate))
            elif index >= len(desired):
                changes.append(_change(ChangeOp.REMOVED, (*path, index), actual[index], None, locate))
            else:
                changes.extend(diff(desired[index], actual[index], (*path, index), locate))
        return tuple(changes)
    return (_change(ChangeOp.CHANGED, path, actual, desired, locate),)


def _change(op: ChangeOp, path: FieldPath, old: JSON, new: JSON, locate: Locate | None) -> FieldChange:
    """A change; when one side is a Secret, APIM's plain echo of the other side is wrapped too, so that
    not even a repr of the plan can show the old secret value."""
    if isinstance(new, Secret) or isinstance(old, Secret):
        old = Secret(str(old)) if isinstance(old, str) else old
        new = Secret(str(new)) if isinstance(new, str) else new
    sensitive = contains_secret(new) or contains_secret(old)
    position = locate(path) if locate is not None else None
    return FieldChange(op, path, old, new, sensitive=sensitive, position=position)


def _plain(value: JSON) -> JSON:
    return value.reveal() if isinstance(value, Secret) else value
