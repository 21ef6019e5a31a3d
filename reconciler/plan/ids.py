"""The ids APIM (and GKO) derive from names, computed here so a plan can match manifests to APIM objects
offline.

APIM (and GKO) use Java's `UUID.nameUUIDFromBytes`: the MD5 digest of the UTF-8 bytes of a plain
string, with the version nibble set to 3 and the IETF variant bits set. That is *not* Python's
`uuid.uuid3`, which hashes a namespace UUID in front of the name, so it is spelled out here.
"""

from __future__ import annotations

import hashlib
import uuid

import xxhash


def name_uuid(name: str) -> str:
    """Java's `UUID.nameUUIDFromBytes(name.getBytes(UTF_8)).toString()`."""
    digest = bytearray(hashlib.md5(name.encode("utf-8"), usedforsecurity=False).digest())
    digest[6] = (digest[6] & 0x0F) | 0x30
    digest[8] = (digest[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(digest)))


def cross_id(organization_id: str, hrid: str) -> str:
    """An API's crossId: the same in every environment of an organization."""
    return name_uuid(organization_id + hrid)


def api_id(organization_id: str, environment_id: str, hrid: str) -> str:
    """An API's id in one environment."""
    return name_uuid(cross_id(organization_id, hrid) + environment_id)


def application_id(organization_id: str, environment_id: str, hrid: str) -> str:
    """An application's id; the same formula as an API's id."""
    return name_uuid(name_uuid(organization_id + hrid) + environment_id)


def plan_id(organization_id: str, environment_id: str, api_hrid: str, plan_hrid: str) -> str:
    return name_uuid(name_uuid(organization_id + api_hrid) + environment_id + plan_hrid)


def plan_cross_id(organization_id: str, api_hrid: str, plan_hrid: str) -> str:
    return name_uuid(name_uuid(organization_id + api_hrid) + plan_hrid)


def gko_uuid(*seeds: str) -> str:
    """GKO's `uuid.FromStrings(seeds...)` (internal/uuid/uuid.go): the canonical XXH3-128 digest of
    the concatenated seeds, with dashes, and no version or variant bits set.

    GKO gives v2 APIs and their plans ids of its own with it (it never uses the Automation API for
    them), so a repository that GKO managed finds its v2 APIs again under the same crossIds.
    """
    digest = xxhash.xxh3_128_hexdigest("".join(seeds).encode("utf-8"))
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"
