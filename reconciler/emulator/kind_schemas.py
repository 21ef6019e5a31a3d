"""Request-body rules of the Automation API's ``GroupSpec``, ``DictionarySpec``, ``SharedPolicyGroupSpec``
and ``SubscriptionSpec``, in :mod:`.validation`'s notation, per APIM version (``open-api.yaml`` at each
release tag: the generated models' Jackson types and bean-validation annotations).

Not modelled on purpose: the dictionary ``provider`` is a ``oneOf`` whose generated deserializer does no
schema validation (openapi-generator's jersey3 ``oneof_model``: "there is no validation against JSON
schema constraints"), and bean validation does not cascade into it; only its JSON types and its ``type``
enum are checked (an unknown ``type`` matches no ``oneOf`` branch: 400).
"""

from __future__ import annotations

from typing import Any

from .validation import OBJ, STEP, STR, hrid
from .versions import ApimVersion

BOOL = {"type": "boolean"}
STR_MAP = {"type": "object", "additionalProperties": STR}
# formats the emulator parses itself (see subscriptions.py): typed as strings here
DATE_TIME = STR

GROUP_MEMBER = {
    "type": "object",
    "required": ["source", "sourceId"],
    "properties": {"source": STR, "sourceId": STR, "roles": STR_MAP},
}


def group_spec(version: ApimVersion) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["hrid", "name"],
        "properties": {
            "hrid": hrid(version.hrid_pattern),
            "name": {"type": "string", "minLength": 1, "maxLength": 512},
            "members": {"type": "array", "items": GROUP_MEMBER},
            "notifyMembers": BOOL,
        },
    }


HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT"]
TIME_UNITS = ["MICROSECONDS", "MILLISECONDS", "SECONDS", "MINUTES", "HOURS", "DAYS"]


def dictionary_spec(version: ApimVersion) -> dict[str, Any]:
    provider = {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["HTTP"]},
            "url": STR,
            "specification": STR,
            "method": {"type": "string", "enum": HTTP_METHODS},
            "body": STR,
            "useSystemProxy": BOOL,
            "headers": {
                "type": "array",
                "items": {"type": "object", "properties": {"name": STR, "value": STR}},
            },
        },
    }
    return {
        "type": "object",
        "required": ["hrid", "name", "type", "deployed"],
        "properties": {
            "hrid": hrid(version.hrid_pattern),
            "name": STR,
            "deployed": BOOL,
            "description": STR,
            "type": {"type": "string", "enum": ["MANUAL", "DYNAMIC"]},
            "manual": {"type": "object", "required": ["properties"], "properties": {"properties": STR_MAP}},
            "dynamic": {
                "type": "object",
                "required": ["provider", "trigger"],
                "properties": {
                    "provider": provider,
                    "trigger": {
                        "type": "object",
                        "required": ["rate", "unit"],
                        "properties": {
                            "rate": {"type": "integer"},
                            "unit": {"type": "string", "enum": TIME_UNITS},
                        },
                    },
                },
            },
        },
    }


def shared_policy_group_spec(version: ApimVersion) -> dict[str, Any]:
    """``LegacySharedPolicyGroupSpec``: ``SharedPolicyGroupSpec`` plus ``crossId``."""
    return {
        "type": "object",
        "required": ["hrid", "apiType", "name", "phase"],
        "properties": {
            "hrid": hrid(version.hrid_pattern),
            "crossId": STR,
            "apiType": {"type": "string", "enum": list(version.spg_api_types)},
            "description": {"type": "string", "maxLength": 1024},
            "prerequisiteMessage": {"type": "string", "maxLength": 1024},
            "name": {"type": "string", "maxLength": 512},
            "phase": {"type": "string", "enum": list(version.spg_phases)},
            "steps": {"type": "array", "items": STEP},
        },
    }


def subscription_spec(version: ApimVersion) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "hrid": hrid(version.hrid_pattern),
        "applicationHrid": STR,
        "planHrid": STR,
        "endingAt": DATE_TIME,
    }
    fields = version.subscription_fields
    if "metadata" in fields:
        properties["metadata"] = STR_MAP
    if "apiKeys" in fields:
        properties["apiKeys"] = {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key"],
                "properties": {"key": STR, "expireAt": DATE_TIME},
            },
        }
        properties["consumerConfiguration"] = {
            "type": "object",
            "required": ["entrypointId"],
            "properties": {"entrypointId": STR, "channel": STR, "entrypointConfiguration": OBJ},
        }
    return {"type": "object", "required": ["hrid", "applicationHrid", "planHrid"], "properties": properties}
