"""Logging: structlog to stderr, JSON lines in a container, readable on a terminal, always scrubbed.

stdout belongs to reports (a JSON report must stay parseable), so every log line goes to stderr.
The last processor scrubs every secret value this process has resolved from the rendered line, so
a secret that slipped into an event, an exception or a traceback never reaches the output.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

from reconciler.secrets.redaction import RedactingRenderer, default_redactor
from reconciler.terminal import wants_colour
from reconciler.textsafe import printable

LEVELS = ("debug", "info", "warning", "error")


def configure_logging(level: str = "warning", log_format: str = "auto") -> None:
    """Configure structlog once per process; `log_format` is `console`, `json` or `auto` (TTY or not)."""
    import structlog  # here, not at the top: --help and --version need not load it (nor rich)

    use_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=wants_colour(sys.stderr))
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            *([] if use_json else [_printable_values]),  # JSON escapes control characters itself
            RedactingRenderer(renderer, default_redactor()),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def _printable_values(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> Any:
    """Console lines show names and messages from outside (file names, APIM's answers): their
    control characters are escaped, so that they cannot forge a line or drive the terminal; a
    traceback keeps its line breaks."""
    for key, value in event_dict.items():
        if isinstance(value, str):
            lines = value.split("\n") if key == "exception" else [value]
            event_dict[key] = "\n".join(printable(line) for line in lines)
    return event_dict
