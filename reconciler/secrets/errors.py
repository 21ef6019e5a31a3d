"""Errors of secret, config map and template resolution.

They carry *where* a value was looked for and *which* reference failed, never a value: the CLI
prints them as they are, next to the `file:line` of the field that holds the reference.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.manifests.model import FieldPath, format_field_path


class SecretResolutionError(Exception):
    """A secret, config map key or environment variable that a manifest refers to could not be read.

    `ref` names the reference as written (``secret default/apim-prod/bearerToken``), `field` is the
    path of the field that holds it (``("spec", "auth", "secretRef")``), `looked` lists the places
    searched, in order, so that the user can see which file or variable to create.
    """

    def __init__(self, ref: str, reason: str, *, field: FieldPath = (), looked: Sequence[str] = ()) -> None:
        self.ref = ref
        self.reason = reason
        self.field = field
        self.looked = tuple(looked)
        super().__init__(self._message())

    def _message(self) -> str:
        text = f"{self.ref}: {self.reason}"
        if self.looked:
            text += " (looked in " + ", ".join(self.looked) + ")"
        if self.field:
            text += f" at {format_field_path(self.field)}"
        return text

    def at_field(self, field: FieldPath) -> SecretResolutionError:
        """The same error, pointing at the field that holds the reference."""
        return SecretResolutionError(self.ref, self.reason, field=field, looked=self.looked)


class SecretResolutionErrors(Exception):
    """Every reference of one resource that failed, so that a user fixes them in one go."""

    def __init__(self, errors: Sequence[SecretResolutionError]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


class SecretPathError(SecretResolutionError):
    """A name or key that would read a file outside the secrets directory (`..`, `/`, a symlink out)."""
