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


def error_body(
    status: int,
    message: str,
    technical_code: str | None = None,
    parameters: dict[str, str] | None = None,
    details: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An APIM ``HttpError``/``Error`` body; null fields are omitted as the server does."""
    body: dict[str, Any] = {"httpStatus": status, "message": message}
    if technical_code:
        body["technicalCode"] = technical_code
    if parameters:
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
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] | None = (
            None if empty else error_body(status, message, technical_code, parameters, details)
        )

    def response(self) -> Response:
        if self.body is None:
            return Response.empty(self.status)
        return Response.json(self.status, self.body)


def parse_json_body(request: Request) -> Any:
    if not request.body:
        raise HttpProblem(400, "Request body is required", technical_code="body.missing")
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpProblem(
            400, f"Unable to parse the request body: {exc}", technical_code="body.invalid"
        ) from None
