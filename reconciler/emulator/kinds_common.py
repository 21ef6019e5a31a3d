"""What the Automation endpoints of groups, dictionaries, shared policy groups and subscriptions share:
the body check every ``createOrUpdate(@Valid @NotNull Spec spec)`` makes, ``Validator.Error`` lists as the
``*CRDStatus.Errors`` they become, and Java's ``UUID.fromString``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .context import Call
from .messages import HttpProblem, parse_json_body
from .validation import Schema, body_problem, validate

SEVERE = "SEVERE"
WARNING = "WARNING"
# java.util.UUID.fromString: five dash-separated hex groups (the first up to 8 digits, then 4, 4, 4, 12)
_UUID = re.compile(
    r"^([0-9a-fA-F]{1,8})-([0-9a-fA-F]{1,4})-([0-9a-fA-F]{1,4})-([0-9a-fA-F]{1,4})-([0-9a-fA-F]{1,12})$"
)


@dataclass(frozen=True)
class Problem:
    """A ``Validator.Error``: its severity and message."""

    severity: str
    message: str


def required_body(call: Call) -> dict[str, Any]:
    """The deserialized body of a ``createOrUpdate(@Valid @NotNull spec)``: a missing or non-object
    body is ``@NotNull``'s violation."""
    body = parse_json_body(call.request)
    if not isinstance(body, dict):
        raise HttpProblem(
            400,
            "Validation error",
            details=[{"message": "must not be null", "location": "createOrUpdate.spec"}],
        )
    return body


def spec_body(call: Call, schema: Schema) -> dict[str, Any]:
    """The deserialized, bean-validated body (``required_body``, then the schema's 400s)."""
    body = required_body(call)
    errors = validate(body, schema)
    if errors:
        raise body_problem(errors)
    return body


def errors_of(problems: list[Problem], *, distinct: bool = False) -> dict[str, list[str]]:
    """``Errors.fromErrorList``: severe and warning messages, each sorted (``GroupCRDStatus`` also drops
    duplicates)."""

    def pick(severity: str) -> list[str]:
        messages = sorted(p.message for p in problems if p.severity == severity)
        return list(dict.fromkeys(messages)) if distinct else messages

    return {"severe": pick(SEVERE), "warning": pick(WARNING)}


def severe_messages(problems: list[Problem]) -> list[str]:
    return [p.message for p in problems if p.severity == SEVERE]


def java_uuid(text: str | None) -> str | None:
    """``UUID.fromString(text).toString()``, or ``None`` where Java throws ``IllegalArgumentException``."""
    match = _UUID.match(text or "")
    if match is None:
        return None
    widths = (8, 4, 4, 4, 12)
    return "-".join(
        part.lower().rjust(width, "0") for part, width in zip(match.groups(), widths, strict=True)
    )


def unmapped_500() -> HttpProblem:
    """An exception no mapper of the Automation application handles (``GraviteeAutomationApplication``
    registers no ``ThrowableMapper``): the container's bare 500."""
    return HttpProblem(500, empty=True)
