"""Deterministic identifiers, derived exactly as APIM derives them from HRIDs.

APIM uses Java's ``UUID.nameUUIDFromBytes``: the MD5 digest of the UTF-8 bytes of a string with the
version nibble forced to 3 and the IETF variant bits set. This is *not* Python's ``uuid.uuid3``, which
hashes a namespace UUID first, so it is reimplemented here. Test vector (Java 17):
``name_uuid("DEFAULT" + "default-my-api") == "b54c45d2-1e4f-3330-aa2d-9c931c795b92"``.
"""

from __future__ import annotations

import hashlib
import uuid


def name_uuid(name: str) -> str:
    """Java ``UUID.nameUUIDFromBytes(name.getBytes(UTF_8)).toString()``."""
    digest = bytearray(hashlib.md5(name.encode("utf-8"), usedforsecurity=False).digest())
    digest[6] = (digest[6] & 0x0F) | 0x30
    digest[8] = (digest[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(digest)))


def api_cross_id(org_id: str, hrid: str) -> str:
    """crossId = u(orgId + hrid): the same in every environment of the organization."""
    return name_uuid(org_id + hrid)


def api_id(org_id: str, env_id: str, hrid: str) -> str:
    """id = u(crossId + envId)."""
    return name_uuid(api_cross_id(org_id, hrid) + env_id)


def plan_id(org_id: str, env_id: str, api_hrid: str, plan_hrid: str) -> str:
    """plan id = u(u(orgId + apiHrid) + envId + planHrid)."""
    return name_uuid(name_uuid(org_id + api_hrid) + env_id + plan_hrid)


def plan_cross_id(org_id: str, api_hrid: str, plan_hrid: str) -> str:
    """plan crossId = u(u(orgId + apiHrid) + planHrid)."""
    return name_uuid(name_uuid(org_id + api_hrid) + plan_hrid)


def application_id(org_id: str, env_id: str, hrid: str) -> str:
    """application id = u(u(orgId + hrid) + envId)."""
    return name_uuid(name_uuid(org_id + hrid) + env_id)


def top_level_id(org_id: str, env_id: str, hrid: str) -> str:
    """``HRIDToUUID`` top-level id (dictionary, group, shared policy group): u(u(orgId + hrid) + envId)."""
    return name_uuid(name_uuid(org_id + hrid) + env_id)


def top_level_cross_id(org_id: str, hrid: str) -> str:
    """``HRIDToUUID`` top-level crossId: u(orgId + hrid)."""
    return name_uuid(org_id + hrid)


def subscription_id(org_id: str, env_id: str, api_hrid: str, hrid: str) -> str:
    """``HRIDToUUID.subscription()``: u(u(orgId + apiHrid) + envId + hrid), as a plan id."""
    return name_uuid(name_uuid(org_id + api_hrid) + env_id + hrid)
