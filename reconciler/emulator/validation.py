"""Request-body validation, written by hand from the server's models.

The emulator does not load the reference OpenAPI files at runtime (they are test material): the rules
below restate, in a tiny JSON-Schema-like notation, what the server's deserializer and bean validation
refuse. Two stages, as on the server:

1. **Deserialization** (Jackson, ``GraviteeMapper``): unknown properties are ignored
   (``FAIL_ON_UNKNOWN_PROPERTIES`` disabled), enums match without regard to case (the generated enums'
   ``fromValue`` with ``useEnumCaseInsensitive=true``; ``ACCEPT_CASE_INSENSITIVE_ENUMS``) and are stored in
   their canonical spelling, an unknown enum value or a wrong JSON type stops the request at the first
   error: 400 ``{httpStatus, technicalCode: "invalidValue", message, details: [{message, location}]}``
   (``JsonMappingExceptionMapper``; the enum message is the generated ``Unexpected value 'x'``).
2. **Bean validation** (Hibernate Validator on the generated models, ``@Valid @NotNull``): every violation,
   400 ``{httpStatus, message: "Validation error", details: [{message, location, invalidValue}]}``
   (``ConstraintValidationExceptionMapper``; ``location`` is the property path without the method and
   parameter names, e.g. ``plans[0].name``). Messages are Hibernate's defaults: ``must not be null``,
   ``size must be between 1 and 512``, ``must match "<regex>"``, ``must be greater than or equal to 0``.

Schemas that vary with the APIM version (HRID pattern, required plan ``security``, API types) are built by
:func:`api_v4_spec` for the version played.

Why one long module: it is one table, the server's request models restated rule by rule for every
body the emulator accepts, with the two stages that apply them; split by model, each part would need
the notation and both stages, and the table is read (and checked against the server) as one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .versions import NEW_HRID, ApimVersion

Schema = Mapping[str, Any]
INT_MAX = 2147483647

STR = {"type": "string"}
STR_LIST = {"type": "array", "items": STR}
OBJ = {"type": "object"}
LIFECYCLE = ["ARCHIVED", "CREATED", "DEPRECATED", "PUBLISHED", "UNPUBLISHED"]
STATES = ["CLOSED", "INITIALIZED", "STARTED", "STOPPED", "STOPPING"]
METADATA_FORMATS = ["STRING", "NUMERIC", "BOOLEAN", "DATE", "MAIL", "URL"]
VISIBILITY = {"type": "string", "enum": ["PUBLIC", "PRIVATE"]}
PAGE_TYPES = [
    "ASCIIDOC",
    "ASYNCAPI",
    "MARKDOWN",
    "MARKDOWN_TEMPLATE",
    "SWAGGER",
    "FOLDER",
    "LINK",
    "ROOT",
    "SYSTEM_FOLDER",
    "TRANSLATION",
]


def hrid(pattern: str = NEW_HRID) -> dict[str, Any]:
    return {"type": "string", "pattern": pattern, "maxLength": 256}


PATH = {
    "type": "object",
    "required": ["path"],
    "properties": {"path": STR, "host": STR, "overrideAccess": {"type": "boolean"}},
}
ENTRYPOINT = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": STR,
        "qos": {"type": "string", "enum": ["NONE", "AUTO", "AT_MOST_ONCE", "AT_LEAST_ONCE"]},
    },
}
LISTENER = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": ["HTTP", "SUBSCRIPTION", "TCP", "KAFKA"]},
        "entrypoints": {"type": "array", "minItems": 1, "items": ENTRYPOINT},
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
        "loadBalancer": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {
                    "type": "string",
                    "enum": ["RANDOM", "ROUND_ROBIN", "WEIGHTED_RANDOM", "WEIGHTED_ROUND_ROBIN"],
                }
            },
        },
        "endpoints": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "name"],
                "properties": {"name": STR, "type": STR, "weight": {"type": "integer"}},
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
MEMBER = {"type": "object", "required": ["source", "sourceId", "role"], "properties": {"role": STR}}
PROPERTY = {"type": "object", "required": ["key", "value"], "properties": {"key": STR, "value": STR}}
STEP = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 64},
        "description": {"type": "string", "maxLength": 256},
        "policy": {"type": "string", "maxLength": 64},
        "condition": {"type": "string", "maxLength": 1024},
        "messageCondition": {"type": "string", "maxLength": 256},
        "enabled": {"type": "boolean"},
    },
}
SELECTOR = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": ["HTTP", "CHANNEL", "CONDITION", "MCP"]},
        "path": {"type": "string", "maxLength": 256},
        "pathOperator": {"type": "string", "enum": ["EQUALS", "STARTS_WITH"]},
        "channelOperator": {"type": "string", "enum": ["EQUALS", "STARTS_WITH"]},
    },
}
FLOW = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 256},
        "enabled": {"type": "boolean"},
        "selectors": {"type": "array", "items": SELECTOR},
        **{
            phase: {"type": "array", "items": STEP}
            for phase in ("request", "response", "subscribe", "publish", "entrypointConnect", "interact")
        },
        "tags": STR_LIST,
    },
}
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
    "flows": {"type": "array", "items": FLOW},
    "tags": STR_LIST,
    "selectionRule": {"type": "string", "maxLength": 256},
}


def plan_v4(version: ApimVersion) -> dict[str, Any]:
    required = ["hrid", "name", "status", "type", "mode", "validation"]
    if version.plan_security_required:
        required.append("security")
    return {
        "type": "object",
        "required": required,
        "properties": {
            "id": STR,
            "hrid": hrid(version.hrid_pattern),
            "name": {"type": "string", "maxLength": 64},
            **PLAN_ENUMS,
        },
    }


def page_v4(version: ApimVersion) -> dict[str, Any]:
    """``PageV4``: ``hrid``, ``name`` (<= 64), ``type`` and ``visibility`` required (open-api.yaml)."""
    return {
        "type": "object",
        "required": ["hrid", "name", "type", "visibility"],
        "properties": {
            "hrid": hrid(version.hrid_pattern),
            "name": {"type": "string", "maxLength": 64},
            "type": {"type": "string", "enum": PAGE_TYPES},
            "visibility": VISIBILITY,
            "published": {"type": "boolean"},
            "source": {"type": "object", "properties": {"type": {"type": "string", "maxLength": 64}}},
            "parentHrid": STR,
        },
    }


COMMON_API = {
    "description": {"type": "string", "maxLength": 4000},
    "tags": STR_LIST,
    "listeners": {"type": "array", "minItems": 1, "items": LISTENER},
    "endpointGroups": {"type": "array", "minItems": 1, "items": ENDPOINT_GROUP},
    "flows": {"type": "array", "items": FLOW},
    "properties": {"type": "array", "items": PROPERTY},
    "resources": {"type": "array", "items": OBJ},
    "groups": STR_LIST,
    "categories": STR_LIST,
    "labels": STR_LIST,
    "visibility": VISIBILITY,
    "lifecycleState": {"type": "string", "enum": LIFECYCLE},
    "flowExecution": {
        "type": "object",
        "properties": {"mode": {"type": "string", "enum": ["BEST_MATCH", "DEFAULT"]}},
    },
}


def api_v4_spec(version: ApimVersion) -> dict[str, Any]:
    """``ApiV4Spec`` (``LegacyAPIV4Spec``) of the played version's ``open-api.yaml``."""
    return {
        "type": "object",
        "required": ["hrid", "name", "type", "listeners", "endpointGroups", "version", "lifecycleState"],
        "properties": {
            **COMMON_API,
            "hrid": hrid(version.hrid_pattern),
            "name": {"type": "string", "minLength": 1, "maxLength": 512},
            "version": {"type": "string", "minLength": 1, "maxLength": 64},
            "type": {"type": "string", "enum": list(version.api_types)},
            "plans": {"type": "array", "items": plan_v4(version)},
            "pages": {"type": "array", "items": page_v4(version)},
            "metadata": {"type": "array", "items": METADATA},
            "state": {"type": "string", "enum": STATES},
            "members": {"type": "array", "items": MEMBER},
            "notifyMembers": {"type": "boolean"},
            "crossId": STR,
        },
    }


def application_spec(version: ApimVersion) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["hrid", "name", "description"],
        "properties": {
            "hrid": hrid(version.hrid_pattern),
            "name": {"type": "string", "minLength": 1, "maxLength": 512},
            "description": {"type": "string", "minLength": 1, "maxLength": 4000},
            "domain": {"type": "string", "maxLength": 256},
            "groups": STR_LIST,
            "status": {"type": "string", "enum": ["ACTIVE", "ARCHIVED"]},
            "metadata": {"type": "array", "items": METADATA},
            "members": {"type": "array", "items": MEMBER},
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
        "type": {
            "type": "string",
            "enum": ["A2A_PROXY", "LLM_PROXY", "MCP_PROXY", "MESSAGE", "PROXY", "NATIVE"],
        },
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
        "type": {
            "type": "string",
            "enum": ["A2A_PROXY", "LLM_PROXY", "MCP_PROXY", "MESSAGE", "PROXY", "NATIVE"],
        },
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
# mAPI v1 ``ApiCRDEntity``: id, crossId, name, version, description are @NotNull @NotEmpty.
_NOT_EMPTY = {"type": "string", "minLength": 1, "notEmpty": True}
API_V2_DEFINITION: Schema = {
    "type": "object",
    "required": ["id", "crossId", "name", "version", "description"],
    "properties": {
        "id": _NOT_EMPTY,
        "crossId": _NOT_EMPTY,
        "name": {**_NOT_EMPTY, "message": "Api's name must not be empty"},
        "version": _NOT_EMPTY,
        "description": _NOT_EMPTY,
        "proxy": {
            "type": "object",
            "properties": {
                "virtual_hosts": {"type": "array", "items": {"type": "object", "properties": {"path": STR}}}
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
_JAVA_TYPES = {
    "string": "java.lang.String",
    "integer": "java.lang.Integer",
    "number": "java.lang.Number",
    "boolean": "java.lang.Boolean",
    "array": "java.util.ArrayList",
    "object": "java.util.LinkedHashMap",
}
_JSON_KINDS = {str: "String", bool: "Boolean", int: "Integer", float: "Float", list: "Array", dict: "Object"}
_PATTERNS: dict[str, re.Pattern[str]] = {}
MAPPING = "mapping"
CONSTRAINT = "constraint"


def _type_ok(value: Any, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    if kind == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        return True  # Jackson coerces a scalar number to a String
    return isinstance(value, _TYPES[kind])


def validate(value: Any, schema: Schema, location: str = "") -> list[dict[str, Any]]:
    """Violations as server ``details`` entries plus ``kind`` (``mapping`` or ``constraint``).

    Canonicalizes enum spellings in place (``proxy`` becomes ``PROXY``), as deserialization does.
    """
    errors: list[dict[str, Any]] = []
    _check(value, schema, location, errors)
    return errors


def _join(loc: str, name: str) -> str:
    return f"{loc}.{name}" if loc else name


def _fail(errors: list[dict[str, Any]], kind: str, location: str, message: str, value: Any = None) -> None:
    detail: dict[str, Any] = {"kind": kind, "message": message, "location": location}
    if value is not None and isinstance(value, str | int | float | bool):
        detail["invalidValue"] = value
    errors.append(detail)


def _size(schema: Schema, lo_key: str, hi_key: str) -> tuple[int, int]:
    return int(schema.get(lo_key, 0)), int(schema.get(hi_key, INT_MAX))


def _check(
    value: Any, schema: Schema, loc: str, errors: list[dict[str, Any]], parent: Any = None, key: Any = None
) -> None:
    kind = schema.get("type")
    if kind and not _type_ok(value, kind):
        kinds = type(value).__name__
        json_kind = _JSON_KINDS.get(type(value), kinds)
        _fail(
            errors,
            MAPPING,
            loc,
            f"Cannot deserialize value of type `{_JAVA_TYPES[kind]}` from {json_kind} value",
        )
        return
    if "enum" in schema:
        match = next(
            (e for e in schema["enum"] if isinstance(value, str) and e.lower() == value.lower()), None
        )
        if match is None:
            _fail(errors, MAPPING, loc, f"Unexpected value '{value}'")
            return
        if parent is not None and match != value:
            parent[key] = match
        value = match
    if isinstance(value, int | float) and not isinstance(value, bool) and kind == "string":
        value = str(value)
    if isinstance(value, str):
        lo, hi = _size(schema, "minLength", "maxLength")
        if schema.get("notEmpty") and not value:
            _fail(errors, CONSTRAINT, loc, schema.get("message", "must not be empty"), value)
        elif (
            ("minLength" in schema or "maxLength" in schema)
            and not lo <= len(value) <= hi
            and not schema.get("notEmpty")
        ):
            _fail(errors, CONSTRAINT, loc, f"size must be between {lo} and {hi}", value)
        if "pattern" in schema:
            pattern = _PATTERNS.get(schema["pattern"]) or _PATTERNS.setdefault(
                schema["pattern"], re.compile(schema["pattern"])
            )
            if not pattern.search(value):
                _fail(errors, CONSTRAINT, loc, f'must match "{schema["pattern"]}"', value)
    elif isinstance(value, list):
        lo, hi = _size(schema, "minItems", "maxItems")
        if ("minItems" in schema or "maxItems" in schema) and not lo <= len(value) <= hi:
            _fail(errors, CONSTRAINT, loc, f"size must be between {lo} and {hi}")
        if "items" in schema:
            for i, item in enumerate(value):
                _check(item, schema["items"], f"{loc}[{i}]", errors, value, i)
    elif isinstance(value, dict):
        props = schema.get("properties", {})
        for name, sub in props.items():
            if value.get(name) is not None:
                _check(value[name], sub, _join(loc, name), errors, value, name)
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping):
            for name, item in list(value.items()):
                if name not in props:
                    _check(item, extra, _join(loc, name), errors, value, name)
        for name in schema.get("required", ()):
            if value.get(name) is None:
                _fail(errors, CONSTRAINT, _join(loc, name), "must not be null")


def first_mapping_error(errors: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((e for e in errors if e["kind"] == MAPPING), None)


def public(detail: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in detail.items() if k != "kind"}


def body_problem(errors: list[dict[str, Any]]) -> Exception:
    """The 400 of the first stage that failed (mAPI v2 / Automation mappers)."""
    from .messages import HttpProblem

    mapping = first_mapping_error(errors)
    if mapping is not None:
        detail: dict[str, Any] = {"message": mapping["message"]}
        if mapping["location"]:
            detail["location"] = mapping["location"]
        return HttpProblem(400, mapping["message"], technical_code="invalidValue", details=[detail])
    return HttpProblem(400, "Validation error", details=[public(e) for e in errors])


def v1_body_problem(errors: list[dict[str, Any]], method: str, param: str) -> Exception:
    """The 400 of mAPI v1's mappers: ``ConstraintValidationExceptionMapper.ConstraintValidationError``
    ``{message, path, invalid_value, details}`` for bean validation (``path`` is the full property path)."""
    from .messages import HttpProblem

    mapping = first_mapping_error(errors)
    if mapping is not None:
        return HttpProblem(400, mapping["message"])
    first = errors[0]
    body: dict[str, Any] = {
        "message": first["message"],
        "path": f"{method}.{param}.{first['location']}",
        "details": [
            {
                k: v
                for k, v in (
                    ("message", e["message"]),
                    ("location", e["location"]),
                    ("invalidValue", e.get("invalidValue")),
                )
                if v is not None
            }
            for e in errors
        ],
    }
    if first.get("invalidValue") is not None:
        body["invalid_value"] = first["invalidValue"]
    return HttpProblem(400, first["message"], body=body)
