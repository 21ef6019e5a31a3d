"""Typed errors of the APIM client, one per thing a caller does differently about it.

Messages are built from the method, the URL path (never the query string nor any header) and the
server's own `message`, scrubbed by the redactor: no credential can appear in them. The server's
`details` are kept as data (`HttpError.details`) so that a caller can map each `location` back to a
manifest field, but their `invalidValue`s are never put in a message: a rejected value may be a
resolved secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.secrets.redaction import default_redactor

PERMISSION_HINT = (
    "the user or token needs the ADMIN role on the organization (which APIM lets through every check), "
    "or API_PUBLISHER (or ADMIN) on the environment and membership of every object it manages"
)
_PATH_EXISTS = re.compile(r"\bPath \[.*\] already exists", re.IGNORECASE)


@dataclass(frozen=True)
class HttpErrorDetail:
    """One entry of an APIM error's `details`: a message and the JSON path of the field in error."""

    message: str
    location: str | None = None
    invalid_value: Any = field(default=None, repr=False)


@dataclass(frozen=True)
class HttpError:
    """The body APIM sends with an error (`HttpError` in the Automation API, `Error` in mAPI v2)."""

    http_status: int
    message: str = ""
    technical_code: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    details: tuple[HttpErrorDetail, ...] = ()

    @classmethod
    def from_body(cls, status: int, body: Any) -> HttpError:
        """From the Automation API's and mAPI v2's `{message, httpStatus, technicalCode, details}`, mAPI
        v1's `{message, http_status}`, or mAPI v1 `import-crd`'s bare validation result `{severe:
        [...], warning: [...]}` (ApisResource.importDefinition answers a severe error with it alone)."""
        if not isinstance(body, Mapping):
            return cls(status)
        severe = body.get("severe")
        if isinstance(severe, list) and severe and not body.get("message"):
            return cls(status, message="; ".join(str(s) for s in severe))
        raw_details = body.get("details")
        details = tuple(
            HttpErrorDetail(str(d.get("message", "")), d.get("location"), d.get("invalidValue"))
            for d in (raw_details if isinstance(raw_details, list) else [])
            if isinstance(d, Mapping)
        )
        params = body.get("parameters")
        return cls(
            http_status=_status(body, status),
            message=str(body.get("message") or ""),
            technical_code=body.get("technicalCode") if isinstance(body.get("technicalCode"), str) else None,
            parameters={str(k): str(v) for k, v in params.items()} if isinstance(params, Mapping) else {},
            details=details,
        )


class ApimError(Exception):
    """Base of every error the client raises: what was asked (method, path) and what came back."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        error: HttpError | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.error = error
        self.reason = default_redactor().scrub(message)
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.method} {self.path}".strip()
        status = f" -> {self.status}" if self.status is not None else ""
        return f"{where}{status}: {self.reason}" if where else self.reason

    @property
    def details(self) -> tuple[HttpErrorDetail, ...]:
        return self.error.details if self.error else ()


class AuthenticationError(ApimError):
    """401: the credentials were refused (APIM sends an empty body)."""


class PermissionDeniedError(ApimError):
    """403: authenticated, but not allowed."""


class ContextNotFoundError(ApimError):
    """The organization or environment of a ManagementContext does not exist on the server."""


class NotFoundError(ApimError):
    """404 for a resource."""


class ValidationError(ApimError):
    """400: the server refused the body; `details` say which fields."""


class ConflictError(ValidationError):
    """400 that means "in use" (`Path [/foo/] already exists`): APIM never sends 409 for these."""


class PreconditionFailedError(ApimError):
    """412: `If-Match` did not match; someone else changed the resource."""


class RateLimitedError(ApimError):
    """429 that retries could not get past (Retry-After too long, or no budget left)."""


class ServerError(ApimError):
    """5xx."""


class UnexpectedResponseError(ApimError):
    """A status or body the client does not know what to do with."""


class TransportError(ApimError):
    """No HTTP answer: connection refused or reset, timeout, TLS failure."""


class RetryBudgetExhaustedError(TransportError):
    """The server failed so often in this sync that the client stopped trying it (fail fast)."""


def _status(body: Mapping[str, Any], default: int) -> int:
    for key in ("httpStatus", "http_status"):
        if isinstance(body.get(key), int):
            return int(body[key])
    return default


def error_for_status(
    method: str, path: str, status: int, body: Any, *, context_check: bool = False
) -> ApimError:
    """The typed error for an HTTP error response."""
    error = HttpError.from_body(status, body)
    server_says = error.message
    if status == 401:
        return AuthenticationError(
            "authentication failed: the server refused the credentials "
            "(check the bearer token, or the username and password)",
            method=method,
            path=path,
            status=status,
            error=error,
        )
    if status == 403:
        text = "permission denied" + (f" ({server_says})" if server_says else "") + f": {PERMISSION_HINT}"
        return PermissionDeniedError(text, method=method, path=path, status=status, error=error)
    if context_check and status in (400, 404):
        return ContextNotFoundError(
            "organization or environment not found: check spec.organizationId and spec.environmentId"
            + (f" ({server_says})" if server_says else ""),
            method=method,
            path=path,
            status=status,
            error=error,
        )
    if status == 404:
        return NotFoundError(server_says or "not found", method=method, path=path, status=status, error=error)
    if status == 400:
        texts = [server_says, *(d.message for d in error.details)]
        cls = ConflictError if any(_PATH_EXISTS.search(t) for t in texts if t) else ValidationError
        summary = server_says or "bad request"
        extra = [f"{d.location}: {d.message}" if d.location else d.message for d in error.details]
        extra = [e for e in extra if e not in summary]
        if extra:
            summary += "; " + "; ".join(extra)
        return cls(summary, method=method, path=path, status=status, error=error)
    if status == 409:
        # Portal navigation items and other kinds answer a real 409 when something else holds the name.
        return ConflictError(
            server_says or "conflict: APIM holds something else there",
            method=method,
            path=path,
            status=status,
            error=error,
        )
    if status == 412:
        return PreconditionFailedError(
            "the resource changed on the server since it was read (If-Match failed)",
            method=method,
            path=path,
            status=status,
            error=error,
        )
    if status == 429:
        return RateLimitedError(
            server_says or "rate limited", method=method, path=path, status=status, error=error
        )
    if status >= 500:
        return ServerError(
            server_says or "server error", method=method, path=path, status=status, error=error
        )
    return UnexpectedResponseError(
        server_says or f"unexpected HTTP status {status}",
        method=method,
        path=path,
        status=status,
        error=error,
    )
