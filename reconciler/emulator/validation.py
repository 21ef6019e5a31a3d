"""Request-body validation, written by hand from the published schemas.

The reference OpenAPI files are test material, not part of the product, so the emulator does not load
them at runtime: the rules below restate the constraints that matter to a client (required fields, enums,
lengths, HRID pattern, list sizes) in a tiny JSON-Schema-like notation. The contract tests check the
emulator's answers against the real specs; these rules only decide which bodies get a 400.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Schema = Mapping[str, Any]

HRID = {"type": "string", "pattern": r"^[a-zA-Z0-9][a-zA-Z0-9_-]+[a-zA-Z0-9]$", "maxLength": 256}
STR = {"type": "string"}
STR_LIST = {"type": "array", "items": STR}
OBJ = {"type": "object"}
API_TYPES = ["A2A_PROXY", "LLM_PROXY", "MCP_PROXY", "MESSAGE", "PROXY", "NATIVE"]
MAPI_API_TYPES = [*API_TYPES, "AUTHZ", "EDGE"]
LIFECYCLE = ["ARCHIVED", "CREATED", "DEPRECATED", "PUBLISHED", "UNPUBLISHED"]
STATES = ["CLOSED", "INITIALIZED", "STARTED", "STOPPED", "STOPPING"]
METADATA_FORMATS = ["STRING", "NUMERIC", "BOOLEAN", "DATE", "MAIL", "URL"]

PATH = {
    "type": "object",
    "required": ["path"],
    "properties": {"path": STR, "host": STR, "overrideAccess": {"type": "boolean"}},
}
LISTENER = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": ["HTTP", "SUBSCRIPTION", "TCP", "KAFKA"]},
        "entrypoints": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "object", "required": ["type"], "properties": {"type": STR}},
        },
        "paths": {"type": "array", "minItems": 1, "items": PATH},
        "servers": STR_LIST,
    },
}
ENDPOINT_GROUP = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "name": STR,
        "type": STR,
        "endpoints": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "name"],
                "properties": {"name": STR, "type": STR},
            },
        },
    },
}
METADATA = {
    "type": "object",
    "required": ["name", "format"],
    "properties": {
        "key": {"type": "string", "minLength": 1},
        "name": STR,
        "format": {"type": "string", "enum": METADATA_FORMATS},
        "value": {"type": "string", "minLength": 1},
        "defaultValue": STR,
    },
}
PROPERTY = {"type": "object", "required": ["key", "value"], "properties": {"key": STR, "value": STR}}
PLAN_ENUMS = {
    "status": {"type": "string", "enum": ["STAGING", "PUBLISHED", "DEPRECATED", "CLOSED"]},
    "type": {"type": "string", "enum": ["API", "CATALOG"]},
    "validation": {"type": "string", "enum": ["AUTO", "MANUAL"]},
    "mode": {"type": "string", "enum": ["STANDARD", "PUSH"]},
    "security": {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"type": "string", "enum": ["KEY_LESS", "OAUTH2", "JWT", "MTLS", "API_KEY"]}},
    },
    "flows": {"type": "array", "items": OBJ},
    "tags": STR_LIST,
}
PLAN_V4 = {
    "type": "object",
    "required": ["hrid", "name", "status", "type", "mode", "validation"],
    "properties": {"id": STR, "hrid": HRID, "name": {"type": "string", "maxLength": 64}, **PLAN_ENUMS},
}
COMMON_API = {
    "description": {"type": "string", "maxLength": 4000},
    "tags": STR_LIST,
    "listeners": {"type": "array", "minItems": 1, "items": LISTENER},
    "endpointGroups": {"type": "array", "minItems": 1, "items": ENDPOINT_GROUP},
    "flows": {"type": "array", "items": OBJ},
    "properties": {"type": "array", "items": PROPERTY},
    "resources": {"type": "array", "items": OBJ},
    "groups": STR_LIST,
    "categories": STR_LIST,
    "labels": STR_LIST,
    "visibility": {"type": "string", "enum": ["PUBLIC", "PRIVATE"]},
    "lifecycleState": {"type": "string", "enum": LIFECYCLE},
}
API_V4_SPEC: Schema = {
    "type": "object",
    "required": ["hrid", "name", "type", "listeners", "endpointGroups", "version", "lifecycleState"],
    "properties": {
        **COMMON_API,
        "hrid": HRID,
        "name": {"type": "string", "minLength": 1, "maxLength": 512},
        "version": {"type": "string", "minLength": 1, "maxLength": 64},
        "type": {"type": "string", "enum": API_TYPES},
        "plans": {"type": "array", "items": PLAN_V4},
        "metadata": {"type": "array", "items": METADATA},
        "state": {"type": "string", "enum": STATES},
        "members": {"type": "array", "items": OBJ},
        "pages": {"type": "array", "items": OBJ},
        "notifyMembers": {"type": "boolean"},
    },
}
APPLICATION_SPEC: Schema = {
    "type": "object",
    "required": ["hrid", "name", "description"],
    "properties": {
        "hrid": HRID,
        "name": {"type": "string", "minLength": 1, "maxLength": 512},
        "description": {"type": "string", "minLength": 1, "maxLength": 4000},
        "domain": {"type": "string", "maxLength": 256},
        "groups": STR_LIST,
        "status": {"type": "string", "enum": ["ACTIVE", "ARCHIVED"]},
        "metadata": {"type": "array", "items": METADATA},
        "members": {"type": "array", "items": OBJ},
        "settings": {
            "type": "object",
            "properties": {
                "app": {
                    "type": "object",
                    "properties": {"type": STR, "clientId": {"type": "string", "maxLength": 300}},
                },
                "oauth": {
                    "type": "object",
                    "required": ["applicationType", "redirectUris", "grantTypes"],
                    "properties": {
                        "applicationType": {
                            "type": "string",
                            "enum": ["browser", "web", "native", "backend_to_backend"],
                        },
                        "grantTypes": {"type": "array", "minItems": 1, "items": STR},
                        "redirectUris": STR_LIST,
                    },
                },
                "tls": OBJ,
            },
        },
    },
}
UPDATE_API_V4: Schema = {
    "type": "object",
    "required": ["name", "apiVersion", "definitionVersion", "listeners", "endpointGroups", "type"],
    "properties": {
        **COMMON_API,
        "name": {"type": "string", "minLength": 1},
        "apiVersion": {"type": "string", "minLength": 1},
        "definitionVersion": {"type": "string", "enum": ["V4"]},
        "type": {"type": "string", "enum": MAPI_API_TYPES},
        "disableMembershipNotifications": {"type": "boolean"},
    },
}
API_CRD_SPEC: Schema = {
    "type": "object",
    "required": ["id", "crossId", "name", "version", "type", "endpointGroups"],
    "properties": {
        **COMMON_API,
        "id": {"type": "string", "minLength": 1},
        "crossId": {"type": "string", "minLength": 1},
        "hrid": STR,
        "name": {"type": "string", "minLength": 1},
        "version": {"type": "string", "minLength": 1},
        "type": {"type": "string", "enum": MAPI_API_TYPES},
        "state": {"type": "string", "enum": STATES},
        "metadata": {"type": "array", "items": METADATA},
        "plans": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["id", "status", "type", "mode"],
                "properties": {"id": {"type": "string", "minLength": 1}, **PLAN_ENUMS},
            },
        },
        "definitionContext": {
            "type": "object",
            "properties": {
                "origin": {"type": "string", "enum": ["kubernetes", "management"]},
                "mode": {"type": "string", "enum": ["fully_managed", "api_definition_only"]},
                "syncFrom": {"type": "string", "enum": ["kubernetes", "management"]},
            },
        },
    },
}
APPLICATION_CRD_SPEC: Schema = {
    "type": "object",
    "required": ["name", "description"],
    "properties": {
        "id": STR,
        "hrid": STR,
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string", "minLength": 1},
        "metadata": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string", "minLength": 1}},
            },
        },
    },
}
API_V2_DEFINITION: Schema = {
    "type": "object",
    "required": ["name", "version"],
    "properties": {
        "id": STR,
        "crossId": STR,
        "name": {"type": "string", "minLength": 1},
        "version": {"type": "string", "minLength": 1},
        "description": STR,
        "proxy": {
            "type": "object",
            "properties": {
                "virtual_hosts": {"type": "array", "minItems": 1, "items": {**PATH, "required": []}}
            },
        },
        "plans": {"type": "array", "items": OBJ},
    },
}

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}
_PATTERNS: dict[str, re.Pattern[str]] = {}


def _type_ok(value: Any, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[kind])


def validate(value: Any, schema: Schema, location: str) -> list[dict[str, Any]]:
    """Violations as APIM ``details`` entries (``message``, ``location``, ``invalidValue``)."""
    errors: list[dict[str, Any]] = []
    _check(value, schema, location, errors)
    return errors


def _fail(errors: list[dict[str, Any]], location: str, message: str, value: Any) -> None:
    detail: dict[str, Any] = {"message": message, "location": location}
    if isinstance(value, str | int | float | bool):
        detail["invalidValue"] = value
    errors.append(detail)


def _check(value: Any, schema: Schema, loc: str, errors: list[dict[str, Any]]) -> None:
    kind = schema.get("type")
    if kind and not _type_ok(value, kind):
        _fail(errors, loc, f"must be of type {kind}", value)
        return
    if "enum" in schema and value not in schema["enum"]:
        _fail(errors, loc, f"must be one of {schema['enum']}", value)
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            _fail(errors, loc, f"size must be at least {schema['minLength']}", value)
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            _fail(errors, loc, f"size must be at most {schema['maxLength']}", value)
        if "pattern" in schema:
            pattern = _PATTERNS.get(schema["pattern"]) or _PATTERNS.setdefault(
                schema["pattern"], re.compile(schema["pattern"])
            )
            if not pattern.search(value):
                _fail(errors, loc, f'must match "{schema["pattern"]}"', value)
    elif isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            _fail(errors, loc, f"must contain at least {schema['minItems']} element(s)", None)
        if "items" in schema:
            for i, item in enumerate(value):
                _check(item, schema["items"], f"{loc}[{i}]", errors)
    elif isinstance(value, dict):
        for name in schema.get("required", ()):
            if value.get(name) is None:
                _fail(errors, f"{loc}.{name}", "must not be null", None)
        props = schema.get("properties", {})
        for name, sub in props.items():
            if value.get(name) is not None:
                _check(value[name], sub, f"{loc}.{name}", errors)
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping):
            for name, item in value.items():
                if name not in props:
                    _check(item, extra, f"{loc}.{name}", errors)
