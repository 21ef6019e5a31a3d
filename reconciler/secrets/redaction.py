"""Scrubbing resolved secret values out of any text that leaves the process.

`Secret` already hides itself in repr/str; this is the second line of defence, for the cases where
a value was revealed and then ended up in a string anyway: a server that echoes a request field
back in an error message, an exception from a library that quotes a header, a log field a
developer built by hand.

Every value the secret store resolves is registered here, along with the forms it travels in on
the wire (the `Basic` header's base64 of ``user:password``). Values shorter than
`MIN_SCRUB_LENGTH` characters are *not* scrubbed inside longer strings: replacing every "a" or
"42" in a log line would mangle the output and, worse, tell a reader which characters the secret
is made of. Such values are still redacted where a whole string equals them, and the store logs a
warning that the secret is too short to be protected in text.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from reconciler.secrets.value import REDACTED, Secret

MIN_SCRUB_LENGTH = 4


class Redactor:
    """Knows every secret value seen by this process and replaces it in text with `(sensitive)`."""

    def __init__(self, replacement: str = REDACTED) -> None:
        self._replacement = replacement
        self._long: set[str] = set()
        self._short: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, value: str | Secret) -> None:
        """Remember a value; safe to call from any thread, cheap when the value is already known."""
        raw = value.reveal() if isinstance(value, Secret) else value
        if not raw:
            return
        with self._lock:
            if len(raw) >= MIN_SCRUB_LENGTH:
                if raw not in self._long:
                    self._long.add(raw)
                    self._pattern = None
            else:
                self._short.add(raw)

    def add_all(self, values: Iterable[str | Secret]) -> None:
        for value in values:
            self.add(value)

    def __len__(self) -> int:
        return len(self._long) + len(self._short)

    def scrub(self, text: str) -> str:
        """The text with every known value (of at least MIN_SCRUB_LENGTH chars) replaced."""
        if text in self._short:
            return self._replacement
        pattern = self._compiled()
        if pattern is None:
            return text
        return pattern.sub(self._replacement, text)

    def scrub_data(self, data: Any) -> Any:
        """Scrub every string inside JSON-like data; `Secret`s are rendered as `(sensitive)`."""
        if isinstance(data, str):
            return self.scrub(data)
        if isinstance(data, Secret):
            return self._replacement
        if isinstance(data, Mapping):
            return {k: self.scrub_data(v) for k, v in data.items()}
        if isinstance(data, list | tuple):
            return type(data)(self.scrub_data(v) for v in data)
        if isinstance(data, BaseException):
            return self.scrub(f"{type(data).__name__}: {data}")
        return data

    def _compiled(self) -> re.Pattern[str] | None:
        pattern = self._pattern
        if pattern is None and self._long:
            with self._lock:
                # Longest first, so that a value containing another is replaced whole.
                ordered = sorted(self._long, key=len, reverse=True)
                pattern = self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
        return pattern


_default = Redactor()


def default_redactor() -> Redactor:
    """The process-wide redactor that the secret store feeds and that logging uses."""
    return _default


class RedactingProcessor:
    """A structlog processor that scrubs every known secret from an event dict.

    Place it after `structlog.processors.format_exc_info` (so that tracebacks are already text)
    and just before the renderer.
    """

    def __init__(self, redactor: Redactor | None = None) -> None:
        self._redactor = redactor

    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> Any:
        redactor = self._redactor or _default
        for key, value in list(event_dict.items()):
            if key == "exc_info" and not isinstance(value, str):
                continue  # left for format_exc_info; RedactingRenderer covers what it renders
            event_dict[key] = redactor.scrub_data(value)
        return event_dict


class RedactingRenderer:
    """Wraps the final structlog renderer and scrubs its output: catches anything rendered late."""

    def __init__(self, inner: Any, redactor: Redactor | None = None) -> None:
        self._inner = inner
        self._redactor = redactor

    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> Any:
        rendered = self._inner(logger, method_name, event_dict)
        redactor = self._redactor or _default
        if isinstance(rendered, str):
            return redactor.scrub(rendered)
        if isinstance(rendered, bytes):
            return redactor.scrub(rendered.decode("utf-8", "replace")).encode()
        return rendered


redact_event_dict = RedactingProcessor()
"""The processor bound to the process-wide redactor, for `structlog.configure(processors=[...])`."""
