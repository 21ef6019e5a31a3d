"""The comparable form of a body: what is left once everything that is not a real difference is gone.

Perpetual false diffs are the first complaint about every GitOps tool, so each rule below answers a
way in which APIM echoes a body back differently from how it was sent. Both sides (the desired body
and the state APIM returns) go through the same function, so every rule is symmetric:

1. The ownership metadata entry is hidden (it changes on every apply and is ours, not the user's).
2. Only fields APIM echoes are compared: write-only ones (`notifyMembers`, `definitionContext` for the
   Automation API) and server-assigned ones (ids, crossIds, environment/organization ids, errors,
   timestamps, primary owner, plan and page ids) are dropped.
3. Server defaults are filled on both sides (each kind's `server_defaults`, see plan/defaults.py).
4. Plans and pages are compared as maps keyed by HRID (GKO writes them as maps; order is not data),
   metadata as a map by key (the key derived from the name when absent, as APIM does), members as a
   map by `source:sourceId`.
5. Unordered lists (tags, labels, groups, categories, excluded groups, grant types, redirect URIs,
   notification events) are sorted.
6. Names, descriptions and versions are trimmed, as APIM trims them.
7. Strings holding an ISO-8601 date-time are compared as instants (rewritten in UTC).
8. None, empty lists and empty maps count as missing.
9. What APIM rewrites as it stores, done to both sides (`_as_stored`): enums in their canonical case
   (APIM reads them without regard to case); listener paths sanitized with a trailing `/`; selectors given their type's defaults; a description through APIM's HTML sanitizer;
   an `http-proxy` entrypoint's configuration emptied (its plugin schema forbids every property); an
   endpoint weight below 1 made 1; the `email-support` metadata entry APIM gives every API, and the
   environment's metadata entries it shows on each, left out unless the manifest writes them; an
   entry's empty value and missing value alike. (APIM's source for each: docs/emulator-fidelity.md.)

Opaque plugin configuration (`configuration`, `sharedConfiguration`, ...) is left alone except for
rules 7 and 8: its lists may be ordered and its names significant.

Why one long module: each rule is one way APIM echoes a body back otherwise; which fields each kind echoes,
assigns and keys by is in reconciler/kinds/.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from reconciler import kinds
from reconciler.kinds.bodies import metadata_key
from reconciler.plan.canonical import canonical_json
from reconciler.plan.defaults import apply_rules
from reconciler.plan.ownership import hide_ownership
from reconciler.secrets.value import Secret

JSON = Any

_METADATA_ECHOED = frozenset(["key", "name", "format", "value", "defaultValue"])


_SET_FIELDS = frozenset(
    [
        "tags",
        "labels",
        "groups",
        "categories",
        "excludedGroups",
        "excluded_groups",
        "grantTypes",
        "redirectUris",
        "events",
    ]
)
_TRIMMED = frozenset(("name", "description", "version"))
_OPAQUE = frozenset(("configuration", "sharedConfiguration", "sharedConfigurationOverride", "content"))

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def comparable(kind: str, body: Mapping[str, JSON]) -> dict[str, JSON]:
    """The form of `body` (desired, or as APIM returns it) that `diff` compares."""
    # A shallow copy is enough: only top-level fields are replaced here, `apply_rules` copies what it
    # fills, and `_clean` builds new containers.
    out: dict[str, JSON] = dict(body)
    fields = kinds.kind(kind).fields
    if fields.echoed is not None:
        out = _project(out, fields.echoed)
    else:
        out = {k: v for k, v in out.items() if k not in fields.assigned}
    for child, keep in fields.children_echoed.items():
        out = _project_children(out, child, keep)
    for child, drop in fields.children_assigned.items():
        items = out.get(child)
        if isinstance(items, list):
            out[child] = [_drop(p, drop) for p in items]
        elif isinstance(items, Mapping):
            out[child] = {k: _drop(p, drop) for k, p in items.items()}
    out = _project_children(out, "metadata", _METADATA_ECHOED)
    if fields.normalised_by_server:
        out = _as_stored(out)
    out = apply_rules(out, kinds.kind(kind).server_defaults)
    _key_collections(kind, out)
    cleaned = _clean(out, opaque=False, parent="")
    return cleaned if isinstance(cleaned, dict) else {}


_EMAIL_SUPPORT = ("email-support", "${(api.primaryOwner.email)!''}")
_TAG = re.compile(r"<!--.*?-->|<\s*/?\s*[A-Za-z][^>]*>", re.DOTALL)
_DROPPED_ELEMENT = re.compile(r"<\s*(script|style)\b[^>]*>.*?<\s*/\s*\1\s*>", re.DOTALL | re.IGNORECASE)
_SELECTOR_DEFAULTS = {
    "HTTP": (("path", "/"), ("pathOperator", "STARTS_WITH")),
    "CHANNEL": (("channel", "/"), ("channelOperator", "STARTS_WITH")),
}


def apim_text(text: str) -> str:
    """A description as APIM stores it: HtmlSanitizer with a policy that allows no element (tags and
    the content of script and style removed, the entities it escaped put back)."""
    if "<" not in text and "&" not in text:
        return text
    return html.unescape(_TAG.sub("", _DROPPED_ELEMENT.sub("", text)))


def apim_path(path: JSON) -> JSON:
    """A listener path as APIM stores it (Path.sanitizePath): one leading and one trailing `/`."""
    if not isinstance(path, str):
        return path
    collapsed = re.sub(r"/{2,}", "/", f"/{path.strip()}/")
    return collapsed


# Enums APIM reads without regard to case and stores in their canonical (upper) case; a path of keys
# (`*`: each item) to each one. Plugin ids (an entrypoint's or endpoint's `type`) are not enums.
_ENUM_PATHS = (
    ("type",),
    ("state",),
    ("lifecycleState",),
    ("visibility",),
    ("flowExecution", "mode"),
    ("listeners", "*", "type"),
    ("listeners", "*", "entrypoints", "*", "qos"),
    ("endpointGroups", "*", "loadBalancer", "type"),
    ("pages", "*", "type"),
    ("pages", "*", "visibility"),
    ("metadata", "*", "format"),
    *(
        (*prefix, *path)
        for prefix in ((), ("plans", "*"))
        for path in (
            ("flows", "*", "selectors", "*", "type"),
            ("flows", "*", "selectors", "*", "pathOperator"),
            ("flows", "*", "selectors", "*", "channelOperator"),
            ("flows", "*", "selectors", "*", "methods", "*"),
        )
    ),
    ("plans", "*", "status"),
    ("plans", "*", "type"),
    ("plans", "*", "validation"),
    ("plans", "*", "mode"),
    ("plans", "*", "security", "type"),
)


def _upper_at(value: JSON, path: tuple[str, ...]) -> JSON:
    if not path:
        if isinstance(value, Secret):  # a template may stand for an enum, and stays secret
            return Secret(value.reveal().upper())
        return value.upper() if isinstance(value, str) else value
    head, rest = path[0], path[1:]
    if head == "*":
        return [_upper_at(item, rest) for item in value] if isinstance(value, list) else value
    if isinstance(value, Mapping) and head in value:
        return {**value, head: _upper_at(value[head], rest)}
    return value


def _as_stored(body: dict[str, JSON]) -> dict[str, JSON]:
    """Rule 9, on copies of what it changes (`body` is shared with the desired state)."""
    out = dict(body)
    for path in _ENUM_PATHS:
        out = _upper_at(out, path)
    if isinstance(out.get("description"), str):
        out["description"] = apim_text(out["description"])
    if isinstance(out.get("listeners"), list):
        out["listeners"] = [_stored_listener(listener) for listener in out["listeners"]]
    if isinstance(out.get("endpointGroups"), list):
        out["endpointGroups"] = [_stored_group(group) for group in out["endpointGroups"]]
    if isinstance(out.get("flows"), list):
        out["flows"] = [_stored_flow(flow) for flow in out["flows"]]
    if isinstance(out.get("plans"), list):
        out["plans"] = [
            {**plan, "flows": [_stored_flow(f) for f in plan["flows"]]}
            if isinstance(plan, Mapping) and isinstance(plan.get("flows"), list)
            else plan
            for plan in out["plans"]
        ]
    if isinstance(out.get("metadata"), list):
        out["metadata"] = [m for m in map(_stored_metadata, out["metadata"]) if m is not None]
    return out


def _stored_listener(listener: JSON) -> JSON:
    if not isinstance(listener, Mapping):
        return listener
    out = dict(listener)
    if isinstance(out.get("paths"), list):
        out["paths"] = [
            {**p, "path": apim_path(p.get("path") or "/")} if isinstance(p, Mapping) else p
            for p in out["paths"]
        ]
    if isinstance(out.get("entrypoints"), list):
        out["entrypoints"] = [
            {k: v for k, v in e.items() if k != "configuration"}
            if isinstance(e, Mapping) and e.get("type") == "http-proxy"
            else e
            for e in out["entrypoints"]
        ]
    return out


def _stored_group(group: JSON) -> JSON:
    if not isinstance(group, Mapping) or not isinstance(group.get("endpoints"), list):
        return group
    endpoints = [
        {**e, "weight": 1}
        if isinstance(e, Mapping) and isinstance(e.get("weight"), int) and e["weight"] < 1
        else e
        for e in group["endpoints"]
    ]
    return {**group, "endpoints": endpoints}


def _stored_flow(flow: JSON) -> JSON:
    if not isinstance(flow, Mapping) or not isinstance(flow.get("selectors"), list):
        return flow
    selectors = []
    for selector in flow["selectors"]:
        defaults = (
            _SELECTOR_DEFAULTS.get(str(selector.get("type"))) if isinstance(selector, Mapping) else None
        )
        if defaults:
            selector = {**dict(defaults), **{k: v for k, v in selector.items() if v is not None}}
        selectors.append(selector)
    return {**flow, "selectors": selectors}


def _stored_metadata(entry: JSON) -> JSON:
    if not isinstance(entry, Mapping):
        return entry
    key = entry.get("key") or (metadata_key(entry["name"]) if isinstance(entry.get("name"), str) else None)
    if (key, entry.get("value")) == _EMAIL_SUPPORT:
        return None  # APIM's own, on every API
    value = entry.get("value")
    if value is None or value == "":
        if entry.get("defaultValue") is not None:
            return None  # the environment's entry, shown on every API
        return {k: v for k, v in entry.items() if k not in ("value", "defaultValue")}
    return {k: v for k, v in entry.items() if k != "defaultValue"}


def hashable(kind: str, body: Mapping[str, JSON]) -> JSON:
    """The form of the desired body that is hashed: everything sent, in canonical order.

    Unlike `comparable` nothing is projected away (a change to a write-only field must still be
    sent), but the rules that make equal bodies look different (ordering, empties, whitespace) apply.
    """
    out: dict[str, JSON] = dict(body)  # `_key_collections` only replaces top-level fields
    _key_collections(kind, out)
    return _clean(out, opaque=False, parent="")


def _project(body: dict[str, JSON], keep: frozenset[str]) -> dict[str, JSON]:
    return {k: v for k, v in body.items() if k in keep}


def _drop(item: JSON, drop: frozenset[str]) -> JSON:
    return {k: v for k, v in item.items() if k not in drop} if isinstance(item, Mapping) else item


def _project_children(body: dict[str, JSON], field: str, keep: frozenset[str]) -> dict[str, JSON]:
    items = body.get(field)
    if isinstance(items, list):
        if field == "metadata":
            items = hide_ownership(items)
        body[field] = [_project(dict(i), keep) if isinstance(i, Mapping) else i for i in items]
    return body


def _key_collections(kind: str, body: dict[str, JSON]) -> None:
    """Turn lists whose order carries no meaning into maps keyed by identity (rule 4)."""
    if "metadata" in body:
        entries = hide_ownership(body["metadata"])
        if isinstance(entries, list):
            entries = [_with_key(e) for e in entries]
        body["metadata"] = _keyed(entries, _metadata_identity)
    if "members" in body:
        body["members"] = _keyed(body["members"], _member_identity)
    for field in kinds.kind(kind).fields.keyed_by:
        if field in body:
            body[field] = _keyed(body[field], lambda i, field=field: collection_identity(kind, field, i))


def collection_identity(kind: str, field: str, item: JSON) -> str | None:
    """The key under which `_key_collections` files an item of the list `field` (None: not keyed)."""
    if not isinstance(item, Mapping):
        return None
    if field == "metadata":
        return _metadata_identity(item)
    if field == "members":
        return _member_identity(item)
    names = kinds.kind(kind).fields.keyed_by.get(field, ())
    identity = next((item[n] for n in names if item.get(n)), None)
    return identity if isinstance(identity, str) else None


def _metadata_identity(item: Mapping[str, JSON]) -> str | None:
    key = item.get("key")
    if isinstance(key, str) and key:
        return key
    name = item.get("name")
    return metadata_key(name) if isinstance(name, str) else None


def _with_key(entry: JSON) -> JSON:
    """A metadata entry with the key APIM derives from its name when it has none."""
    if isinstance(entry, Mapping) and not entry.get("key"):
        key = _metadata_identity(entry)
        return {**entry, "key": key} if key else entry
    return entry


def _member_identity(item: Mapping[str, JSON]) -> str | None:
    source, source_id = item.get("source"), item.get("sourceId")
    return f"{source}:{source_id}" if source is not None and source_id is not None else None


def _keyed(items: JSON, identity: Any) -> JSON:
    """A list of objects as a map by identity; left as a list when some item has none or repeats."""
    if not isinstance(items, list):
        return items
    keyed: dict[str, JSON] = {}
    for item in items:
        key = identity(item) if isinstance(item, Mapping) else None
        if not isinstance(key, str) or key in keyed:
            return items
        keyed[key] = item
    return keyed


_PLAIN_LEAVES = frozenset((int, float, bool))


def _clean(value: JSON, *, opaque: bool, parent: str) -> JSON:
    """Rules 5 to 8, bottom-up; returns None for a value that counts as missing.

    Hot: every node of every desired body passes here on each sync, so the plain JSON types are
    dispatched on their exact type first and the ABC checks are left for the rare other containers.
    """
    kind = type(value)
    if kind is str:
        if not opaque and parent in _TRIMMED:
            value = value.strip()
        # An instant starts with a digit: most strings never reach the regular expression.
        return _as_instant(value) if value[:1].isdigit() else value
    if kind is dict or (kind is not list and isinstance(value, Mapping)):
        out: dict[str, JSON] = {}
        for k, v in value.items():
            # None is missing, numbers/booleans are kept, strings are cleaned here: no call for leaves.
            leaf = type(v)
            if leaf is str:
                if not opaque and k in _TRIMMED:
                    v = v.strip()
                out[str(k)] = _as_instant(v) if v[:1].isdigit() else v
                continue
            if v is None:
                continue
            if leaf in _PLAIN_LEAVES:
                out[str(k)] = v
                continue
            cleaned = _clean(v, opaque=opaque or k in _OPAQUE, parent=str(k))
            if cleaned is not None:
                out[str(k)] = cleaned
        return out or None
    if kind is list or kind is tuple:
        items = []
        for v in value:
            if v is None:
                continue
            c = v if type(v) in _PLAIN_LEAVES else _clean(v, opaque=opaque, parent=parent)
            if c is not None:
                items.append(c)
        if not items:
            return None
        if not opaque and parent in _SET_FIELDS:
            items = sorted(items, key=canonical_json)
        return items
    if isinstance(value, str):  # a str subclass
        return _clean(str(value), opaque=opaque, parent=parent)
    return value  # numbers, booleans and Secret leaves


def _as_instant(value: str) -> str:
    if not _DATETIME.match(value):
        return value
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat().replace("+00:00", "Z")
