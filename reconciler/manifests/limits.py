"""Names and sizes that APIM refuses, which no per-document schema can see: reported by `validate`.

HRIDs. The Automation API, which receives v4 APIs and applications with their plans and pages,
accepts an HRID only if it matches `^[a-zA-Z0-9][a-zA-Z0-9_-]+[a-zA-Z0-9]$` and is at most 256
characters long (`Hrid` in automation-open-api.yaml; bean validation in APIM). Without an explicit
`spec.hrid`, GKO and we derive it: `<namespace>-<name>` for the resource (internal/hrid in GKO), and
for a plan or page its map key with spaces and dots made dashes. A Kubernetes name may hold dots and
be 253 characters long, so a manifest that Kubernetes accepts can still make an HRID that APIM
refuses, at the first sync, after its neighbours were applied. An explicit `hrid` is checked by the
schemas themselves.

Database columns. With a JDBC repository, APIM stores an API or application metadata entry in the
`metadata` table: `key nvarchar(64)`, `name nvarchar(1024)`, `value nvarchar(1024)` (liquibase
changelog v1_14_0). MongoDB has no such limit, so a longer entry is a warning, not an error. v2 APIs
(`ApiDefinition`) go through mAPI's CRD import rather than the Automation API: their columns
(`apis.name nvarchar(512)`, `version`, tags, labels, plan and page names `nvarchar(64)`) are warnings
for the same reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from reconciler.manifests.hrid import key_hrid, resource_hrid
from reconciler.manifests.model import (
    API_DEFINITION,
    API_V4_DEFINITION,
    APPLICATION,
    JSON,
    FieldPath,
    Problem,
    Resource,
    Severity,
)

HRID_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_-]+[a-zA-Z0-9]$"
"""The Automation API's `Hrid`; the schemas check an explicit `hrid` against the same pattern."""
HRID_MAX_LENGTH = 256
_HRID_CHARACTER = re.compile(r"[a-zA-Z0-9_-]")
_HRID_END = re.compile(r"[a-zA-Z0-9]")
_AUTOMATION_KINDS = (API_V4_DEFINITION, APPLICATION)
_ANY = "*"


@dataclass(frozen=True)
class ColumnLimit:
    """A JDBC column size: `path` into the manifest (`*`: any key or index), the column, its size."""

    kinds: tuple[str, ...]
    path: FieldPath
    column: str
    size: int


_METADATA_KINDS = (API_V4_DEFINITION, API_DEFINITION, APPLICATION)
COLUMN_LIMITS = (
    ColumnLimit(_METADATA_KINDS, ("spec", "metadata", _ANY, "key"), "metadata.key", 64),
    ColumnLimit(_METADATA_KINDS, ("spec", "metadata", _ANY, "name"), "metadata.name", 1024),
    ColumnLimit(_METADATA_KINDS, ("spec", "metadata", _ANY, "value"), "metadata.value", 1024),
    ColumnLimit((API_DEFINITION,), ("spec", "name"), "apis.name", 512),
    ColumnLimit((API_DEFINITION,), ("spec", "version"), "apis.version", 64),
    ColumnLimit((API_DEFINITION,), ("spec", "tags", _ANY), "api_tags.tag", 64),
    ColumnLimit((API_DEFINITION,), ("spec", "labels", _ANY), "api_labels.label", 64),
    ColumnLimit((API_DEFINITION,), ("spec", "plans", _ANY, "name"), "plans.name", 64),
    ColumnLimit((API_DEFINITION,), ("spec", "pages", _ANY, "name"), "pages.name", 64),
)


def hrid_problem(hrid: str) -> str | None:
    """Why APIM refuses `hrid`, or None when it accepts it."""
    if len(hrid) > HRID_MAX_LENGTH:
        return f"it is {len(hrid):,} characters long, over APIM's limit of {HRID_MAX_LENGTH}"
    for index, char in enumerate(hrid):
        if not _HRID_CHARACTER.fullmatch(char):
            return (
                f"character {index + 1}, {char!r} (U+{ord(char):04X}), is not allowed: an HRID holds only "
                "letters, digits, '_' and '-'"
            )
    if len(hrid) < 3:
        return f"it has {len(hrid)} character{'s' if len(hrid) != 1 else ''}; APIM wants at least 3"
    if not _HRID_END.fullmatch(hrid[0]) or not _HRID_END.fullmatch(hrid[-1]):
        return "it must begin and end with a letter or digit"
    return None


def check_limits(resources: Sequence[Resource]) -> Iterator[Problem]:
    for resource in resources:
        if resource.kind in _AUTOMATION_KINDS:
            yield from _derived_hrids(resource)
        yield from _column_sizes(resource)


def _derived_hrids(resource: Resource) -> Iterator[Problem]:
    explicit = resource.spec.get("hrid")
    if not (isinstance(explicit, str) and explicit):
        hrid = resource_hrid(resource.namespace, resource.name)
        reason = hrid_problem(hrid)
        if reason is not None:
            yield _problem(
                Severity.ERROR,
                f"the HRID {_cut(hrid)} (<namespace>-<name>) would be refused by APIM: {reason}; "
                "rename the resource or set spec.hrid",
                resource,
                ("metadata", "name"),
            )
    if resource.kind != API_V4_DEFINITION:
        return
    for section in ("plans", "pages"):
        entries = resource.spec.get(section)
        for key, entry in entries.items() if isinstance(entries, Mapping) else ():
            if isinstance(entry, Mapping) and isinstance(entry.get("hrid"), str) and entry["hrid"]:
                continue  # an explicit HRID: the schema checks it
            hrid = key_hrid(key)
            reason = hrid_problem(hrid)
            if reason is not None:
                yield _problem(
                    Severity.ERROR,
                    f"{section[:-1]} key {_cut(key)} gives the HRID {_cut(hrid)}, which APIM would refuse: "
                    f"{reason}; rename the key or set its hrid",
                    resource,
                    ("spec", section, key),
                )


def _column_sizes(resource: Resource) -> Iterator[Problem]:
    body: JSON = {"spec": dict(resource.spec)}
    for limit in COLUMN_LIMITS:
        if resource.kind not in limit.kinds:
            continue
        for path, value in _matches(body, limit.path, ()):
            if isinstance(value, str) and len(value) > limit.size:
                yield _problem(
                    Severity.WARNING,
                    f"{len(value):,} characters long: APIM refuses more than {limit.size:,} when its "
                    f"database is JDBC (column {limit.column}); MongoDB takes it",
                    resource,
                    path,
                )


def _matches(value: JSON, pattern: FieldPath, path: FieldPath) -> Iterator[tuple[FieldPath, JSON]]:
    if not pattern:
        yield path, value
        return
    head, rest = pattern[0], pattern[1:]
    if head == _ANY:
        items = (
            value.items()
            if isinstance(value, Mapping)
            else enumerate(value)
            if isinstance(value, list)
            else ()
        )
        for key, item in items:
            yield from _matches(item, rest, (*path, key))
    elif isinstance(value, Mapping) and head in value:
        yield from _matches(value[head], rest, (*path, head))


def _cut(text: str, limit: int = 80) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text):,} characters)"


def _problem(severity: Severity, message: str, resource: Resource, path: FieldPath) -> Problem:
    return Problem(severity, message, resource.positions.of(path), resource.id, path)
