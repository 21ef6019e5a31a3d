"""Canonical JSON and the spec hash recorded in the ownership entry.

The hash covers secret values (revealed only into the digest, never into text), so that rotating
a secret changes the hash and therefore triggers an update, while the hash itself shows nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from reconciler.secrets.value import reveal_leaf

JSON = Any
_SCALARS = (str, int, float, type(None))


def canonical_json(value: JSON) -> str:
    """Sorted keys, no spaces, UTF-8 kept: the same data always gives the same text.

    Secrets (and mappings that are not dicts) are revealed by the encoder's `default` hook as it
    meets them, so no revealed copy of the whole value is built first: the same text as
    `json.dumps(reveal_all(value), ...)` for our data, whose mapping keys are always strings.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=reveal_leaf)


def spec_hash(value: JSON) -> str:
    """`sha256:<hex>` of the canonical JSON of a (normalised) desired body."""
    return "sha256:" + hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def clone(value: JSON) -> JSON:
    """A deep copy into plain dicts and lists; leaves (Secret included) are immutable and shared.

    `copy.deepcopy` cannot be used: a Secret refuses to be pickled, on purpose.
    """
    if isinstance(value, _SCALARS):  # most nodes: no ABC check for them
        return value
    if isinstance(value, Mapping):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clone(v) for v in value]
    return value
