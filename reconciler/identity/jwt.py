"""The expiry of a console JWT, read WITHOUT verifying its signature.

Why unverified is right here: apim-reconciler does not trust the token, APIM does; all it wants is to
warn before APIM starts refusing it. The claims are never logged, and nothing else is read from them.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime


def jwt_expiry(token: str) -> datetime | None:
    """The `exp` claim of a JWT as a UTC datetime; None when the token is not a JWT or has no `exp`."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    try:
        return datetime.fromtimestamp(exp, UTC)
    except (OverflowError, OSError, ValueError):
        return None
