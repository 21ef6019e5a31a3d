"""The steps of a rotation, in a leaf: `service-account rotate --fail-after` offers them when the parser
is built (`--help` builds every command's), and the identity model need not be imported for that.
`identity.model` re-exports `RotationStep`."""

from enum import StrEnum


class RotationStep(StrEnum):
    """The steps of a zero-downtime rotation, in order; after each one the context still works."""

    CREATED = "created"  # the new token exists in APIM; the secret still holds the old one
    WRITTEN = "written"  # the secret holds the new token; the old one still works
    VERIFIED = "verified"  # the context authenticates with what the secret now holds
    REVOKED = "revoked"  # the old token is gone
