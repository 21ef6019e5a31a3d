"""stdout and stderr through the redactor: whatever a command prints, no known secret gets out.

Reports, error messages, log lines and tracebacks each have their own first line of defence (the
`Secret` type, messages that name references and never values); this is the last one, and it
covers what nobody thought of. The CLI's `main` runs inside `scrubbed_stdio`.

Text is scrubbed a whole line at a time, so that a value written in two pieces (a message built
with several `write` calls) is still recognised; what is left without a newline is scrubbed and
written on `flush` (the progress bar, an interactive prompt) and when the block ends. Uncaught
exceptions, in the main thread or any other, are printed through the same stream.

The few outputs whose job is to show a secret (`service-account --show-token`, the `Secret`
manifest it prints) write through `write_revealed`.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TextIO

from reconciler.secrets.redaction import Redactor, default_redactor


class ScrubbingStream:
    """A text stream that writes to `inner` only what the redactor let through, line by line."""

    def __init__(self, inner: TextIO, redactor: Redactor) -> None:
        self.inner = inner
        self._redactor = redactor
        self._pending: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            cut = text.rfind("\n")
            if cut == -1:
                self._pending.append(text)
                return len(text)
            self._pending.append(text[: cut + 1])
            ready = "".join(self._pending)
            self._pending = [text[cut + 1 :]] if cut + 1 < len(text) else []
            self.inner.write(self._redactor.scrub(ready))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        with self._lock:
            self._drain()
            self.inner.flush()

    def write_revealed(self, text: str) -> None:
        """Write text unscrubbed, after what is pending (for output whose purpose is a secret)."""
        with self._lock:
            self._drain()
            self.inner.write(text)
            self.inner.flush()

    def _drain(self) -> None:
        if self._pending:
            rest = "".join(self._pending)
            self._pending = []
            self.inner.write(self._redactor.scrub(rest))

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    def __getattr__(self, name: str) -> Any:  # encoding, errors, name, ...: those of the real stream
        return getattr(self.inner, name)


def write_revealed(stream: TextIO, text: str) -> None:
    """Write a secret on purpose: past the scrubbing wrapper when `stream` is one."""
    if isinstance(stream, ScrubbingStream):
        stream.write_revealed(text)
    else:
        stream.write(text)


@contextmanager
def scrubbed_stdio(redactor: Redactor | None = None) -> Iterator[None]:
    """sys.stdout and sys.stderr scrubbed (and uncaught exceptions printed scrubbed) inside the block."""
    redactor = redactor or default_redactor()
    saved = sys.stdout, sys.stderr, sys.excepthook, threading.excepthook
    out = sys.stdout if isinstance(sys.stdout, ScrubbingStream) else ScrubbingStream(sys.stdout, redactor)
    err = sys.stderr if isinstance(sys.stderr, ScrubbingStream) else ScrubbingStream(sys.stderr, redactor)
    sys.stdout, sys.stderr = out, err

    def print_exception(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        err.write("".join(traceback.format_exception(kind, value, tb)))
        err.flush()

    def thread_hook(hook: threading.ExceptHookArgs) -> None:
        if hook.exc_type is not SystemExit and hook.exc_value is not None:
            err.write(f"Exception in thread {hook.thread.name if hook.thread else '?'}:\n")
            print_exception(hook.exc_type, hook.exc_value, hook.exc_traceback)

    sys.excepthook, threading.excepthook = print_exception, thread_hook
    try:
        yield
    except Exception as error:
        # Printed here, through the scrubbing stream, rather than by the interpreter after the
        # streams are restored; re-raised so that the exit status stays the interpreter's.
        print_exception(type(error), error, error.__traceback__)
        raise _Reported(error) from error
    finally:
        out.flush()
        err.flush()
        sys.stdout, sys.stderr, sys.excepthook, threading.excepthook = saved


class _Reported(SystemExit):
    """An exception already printed (scrubbed): exit 1 without the interpreter printing it again."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(1)
        self.error = error
