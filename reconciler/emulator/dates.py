"""Date-times as the Automation API reads and writes them (Jackson's JSR-310 module).

Reading (``OffsetDateTimeDeserializer``): an ISO-8601 date-time with an offset; an empty string is
``null`` (Jackson coerces an empty String to a null date); anything else stops deserialization with a
400. Writing (``WRITE_DATES_AS_TIMESTAMPS`` disabled, ``ADJUST_DATES_TO_CONTEXT_TIME_ZONE`` on, UTC):
``DateTimeFormatter.ISO_OFFSET_DATE_TIME`` in UTC, the fraction with as many digits as it needs
(``2040-12-25T09:12:28Z``, ``2026-08-22T10:11:12.5Z``). The store keeps epoch milliseconds, as the
repositories do.
"""

from __future__ import annotations

from datetime import UTC, datetime


class DateTimeError(ValueError):
    """The text is not an ISO-8601 date-time with an offset."""


def parse(text: object) -> int | None:
    """Epoch milliseconds of ``text``; ``None`` for ``None`` or ``""``."""
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise DateTimeError(str(text))
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise DateTimeError(text) from None
    if value.tzinfo is None or "T" not in text.upper():
        raise DateTimeError(text)
    return int(value.timestamp() * 1000)


def write(ms: int | None) -> str | None:
    """``ISO_OFFSET_DATE_TIME`` of epoch milliseconds ``ms`` in UTC."""
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = ms % 1000
    if fraction:
        text += "." + f"{fraction:03d}".rstrip("0")
    return text + "Z"
