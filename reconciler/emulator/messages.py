"""Request and response values passed between the HTTP plumbing and the endpoint handlers.

Handlers are plain synchronous functions ``(Request) -> Response``: they run on the event loop between
two awaits, which keeps the store single-writer without any async locking.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    base_url: str = ""
    raw_target: str = ""

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def flag(self, name: str) -> bool:
        return (self.arg(name) or "").lower() == "true"

    def args(self, name: str) -> list[str]:
        """All values of a repeatable parameter; comma-separated values are split too."""
        out: list[str] = []
        for value in self.query.get(name, []):
            out.extend(v for v in value.split(",") if v)
        return out


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        hdrs = {"Content-Type": "application/json"}
        if headers:
            hdrs.update(headers)
        return cls(status, json.dumps(payload, separators=(",", ":")).encode(), hdrs)

    @classmethod
    def empty(cls, status: int, headers: dict[str, str] | None = None) -> Response:
        return cls(status, b"", dict(headers or {}))


# API families: their exception mappers write different error bodies.
AUTOMATION = "automation"
MAPI_V2 = "mapi-v2"
MAPI_V1 = "mapi-v1"


def error_body(
    status: int,
    message: str,
    technical_code: str | None = None,
    parameters: dict[str, str] | None = None,
    details: list[dict[str, Any]] | None = None,
    family: str = MAPI_V2,
) -> dict[str, Any]:
    """An APIM error body; null fields are omitted (GraviteeMapper ``NON_NULL``).

    Automation API and mAPI v2 map exceptions to the mAPI v2 ``Error`` model ``{httpStatus, message,
    technicalCode, parameters, details}`` (``...management.v2.rest.exceptionmapper.AbstractExceptionMapper``);
    mAPI v1 to ``ErrorEntity`` ``{message, http_status, parameters, technicalCode}``
    (``...management.rest.provider.AbstractExceptionMapper``, ``ErrorEntity.httpCode`` is ``http_status``).
    """
    body: dict[str, Any]
    if family == MAPI_V1:
        body = {"message": message, "http_status": status}
    else:
        body = {"httpStatus": status, "message": message}
    if technical_code:
        body["technicalCode"] = technical_code
    if parameters is not None:
        body["parameters"] = parameters
    if details:
        body["details"] = details
    return body


class HttpProblem(Exception):
    """Raised by handlers to answer with an error; ``body=None`` means an empty body."""

    def __init__(
        self,
        status: int,
        message: str = "",
        *,
        technical_code: str | None = None,
        parameters: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
        empty: bool = False,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.technical_code = technical_code
        self.parameters = parameters
        self.details = details
        self.empty = empty
        self.raw_body = body  # sent as is (e.g. mAPI v1 import-crd's bare validation result)

    def response(self, family: str = MAPI_V2) -> Response:
        if self.empty:
            return Response.empty(self.status)
        if self.raw_body is not None:
            return Response.json(self.status, self.raw_body)
        return Response.json(
            self.status,
            error_body(self.status, self.message, self.technical_code, self.parameters, self.details, family),
        )


def forbidden() -> HttpProblem:
    """``ForbiddenAccessException``: 403, technical code ``forbidden``."""
    return HttpProblem(
        403, "You do not have sufficient rights to access this resource", technical_code="forbidden"
    )


def parse_json_body(request: Request) -> Any:
    if not request.body:
        raise HttpProblem(400, "Request body is required", technical_code="body.missing")
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpProblem(
            400, f"Unable to parse the request body: {exc}", technical_code="body.invalid"
        ) from None
