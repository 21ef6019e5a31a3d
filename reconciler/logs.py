"""Logging: structlog to stderr, JSON lines in a container, readable on a terminal, always scrubbed.

stdout belongs to reports (a JSON report must stay parseable), so every log line goes to stderr.
The last processor scrubs every secret value this process has resolved from the rendered line, so
a secret that slipped into an event, an exception or a traceback never reaches the output.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any, TextIO

from reconciler.secrets.redaction import RedactingRenderer, default_redactor
from reconciler.terminal import wants_colour
from reconciler.textsafe import printable

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from types import ModuleType

LEVELS = ("debug", "info", "warning", "error")


def configure_logging(level: str = "warning", log_format: str = "auto") -> None:
    """Configure structlog once per process; `log_format` is `console`, `json` or `auto` (TTY or not).

    What the logs will be (level, JSON or console, colour, the stream) is decided here, at the call;
    structlog itself is configured now if it is imported, or else the moment something imports it.
    Nothing can log before it is imported, so no line escapes the configuration, and a command that
    logs nothing (`validate`, `schema`) never loads structlog, nor the rich and asyncio it imports
    (issue 20: some 40 ms of the pre-commit hook's `validate FILE`).
    """
    import logging  # here: the flags read LEVELS, and --help configures nothing

    threshold = logging.getLevelNamesMapping()[level.upper()]
    stream = sys.stderr
    use_json = log_format == "json" or (log_format == "auto" and not stream.isatty())
    colours = not use_json and wants_colour(stream)

    def configure() -> None:
        _configure_structlog(threshold, use_json=use_json, colours=colours, stream=stream)

    for finder in [f for f in sys.meta_path if isinstance(f, _ConfigureOnImport)]:
        sys.meta_path.remove(finder)  # an earlier call's wish, not yet applied: this one replaces it
    if "structlog" in sys.modules:
        configure()
    else:
        sys.meta_path.insert(0, _ConfigureOnImport(configure))


def _configure_structlog(threshold: int, *, use_json: bool, colours: bool, stream: TextIO) -> None:
    import structlog  # here, not at the top: a command that logs nothing need not load it (nor rich)

    renderer: Any = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=colours)
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
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )


class _ConfigureOnImport:
    """A finder first on `sys.meta_path` until structlog is imported: it lets the usual finders find
    structlog, and has the configuration applied as soon as structlog's own `__init__` has run, before
    the module that imported it goes on (and before anything can log)."""

    def __init__(self, configure: Callable[[], None]) -> None:
        self._configure = configure

    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != "structlog":
            return None
        import importlib.util

        sys.meta_path.remove(self)  # once; and the lookup below goes to the usual finders
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenConfigure(spec.loader, self._configure)  # type: ignore[assignment]
        return spec


class _ThenConfigure:
    """structlog's own loader, which then applies the configuration."""

    def __init__(self, loader: Any, configure: Callable[[], None]) -> None:
        self._loader = loader
        self._configure = configure

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self._loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._configure()

    def __getattr__(self, name: str) -> Any:  # anything else a loader offers (resources, source)
        return getattr(self._loader, name)


def _printable_values(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> Any:
    """Console lines show names and messages from outside (file names, APIM's answers): their
    control characters are escaped, so that they cannot forge a line or drive the terminal; a
    traceback keeps its line breaks."""
    for key, value in event_dict.items():
        if isinstance(value, str):
            lines = value.split("\n") if key == "exception" else [value]
            event_dict[key] = "\n".join(printable(line) for line in lines)
    return event_dict
