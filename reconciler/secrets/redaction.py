"""Scrubbing resolved secret values out of any text that leaves the process.

`Secret` already hides itself in repr/str; this is the second line of defence, for the cases where
a value was revealed and then ended up in a string anyway: a server that echoes a request field
back in an error message (raw, upper-cased, JSON-escaped, URL-encoded, in base64, cut short), an
exception from a library that quotes a header, a log field a developer built by hand.

One redactor serves every output: log lines (`RedactingRenderer`), the CLI's stdout and stderr
(`reconciler.secrets.stdio`), reports, and the daemon's HTTP bodies. Every value the secret store
resolves is registered here; each registered value is scrubbed in every form of `derived_forms`,
case-insensitively. An *atomic* value (read whole from a file or a variable, as opposed to a string
interpolated around a template) is also scrubbed where only its beginning appears (at least
`MIN_PREFIX_LENGTH` characters: an error message that cut it short), unless the text goes on there
as a word or a path (`_cut_here`). Each line of a multi-line value
(a PEM key) is registered as a value of its own.

Values shorter than `MIN_SCRUB_LENGTH` characters are *not* scrubbed inside longer strings:
replacing every "a" or "42" in a log line would mangle the output and, worse, tell a reader which
characters the secret is made of. Such values are still redacted where a whole string equals them,
and the store logs a warning that the secret is too short to be protected in text.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from reconciler.secrets.encodings import derived_forms, fold, literal_alternation
from reconciler.secrets.value import REDACTED, Secret

MIN_SCRUB_LENGTH = 4
MIN_PREFIX_LENGTH = 8
"""A cut-short atomic value is scrubbed from this many characters on; a line of a PEM too."""
MIN_CASELESS_LENGTH = 8
"""Values this long are found in any case; shorter ones (a test password such as `admin`) only as
they are written, or `APIM_ADMIN_PASSWORD` would lose its ADMIN."""
MIN_CUT_VALUE_LENGTH = 16
"""Only values this long are found cut short: a short one's beginning is too often an ordinary word
(the emulator's `emulator-token` begins with the name of its context)."""


class _Matcher:
    """The forms of every value, folded to lower case; matched against the lowered text.

    Lowering the text once (in C) and matching case-sensitively is ten times faster than an
    IGNORECASE search; `ignoring_case` is for the rare text whose lower case changes its length.
    A plain class, not a dataclass: every command imports this module (the scrubbed stdout and
    stderr), and `--help` would import `dataclasses` (with `inspect`, some 8 ms) for it alone.
    """

    __slots__ = ("_ignoring_case", "atomic_by_prefix", "exact", "pattern", "prefixes_only")

    def __init__(
        self,
        pattern: re.Pattern[str],
        atomic_by_prefix: Mapping[str, tuple[int, tuple[str, ...]]],
        prefixes_only: frozenset[str],
        exact: re.Pattern[str] | None = None,
    ) -> None:
        self.pattern = pattern
        self.atomic_by_prefix = atomic_by_prefix
        """Folded atomic values (the longest one's length, and the values sorted) by their folded
        first MIN_PREFIX_LENGTH characters."""
        self.prefixes_only = prefixes_only
        """Those first characters that are not a whole form of some value as well."""
        self.exact = exact
        """The forms of the values shorter than MIN_CASELESS_LENGTH, matched as written."""
        self._ignoring_case: re.Pattern[str] | None = None

    @property
    def ignoring_case(self) -> re.Pattern[str]:
        if self._ignoring_case is None:  # compiled once, when first needed
            self._ignoring_case = re.compile(self.pattern.pattern, re.IGNORECASE)
        return self._ignoring_case


class Redactor:
    """Knows every secret value seen by this process and replaces it in text with `(sensitive)`."""

    def __init__(self, replacement: str = REDACTED) -> None:
        self._replacement = replacement
        self._values: dict[str, bool] = {}  # value -> atomic
        self._short: set[str] = set()
        self._matcher: _Matcher | None = None
        self._lock = threading.Lock()

    def add(self, value: str | Secret, *, atomic: bool = True) -> None:
        """Remember a value; safe to call from any thread, cheap when the value is already known.

        `atomic`: the value was read whole (a secret file, a variable, a token), so a prefix of it
        is as telling as all of it; False for a string interpolated around a secret, whose
        beginning is ordinary text of the manifest.
        """
        raw = value.reveal() if isinstance(value, Secret) else value
        if not raw:
            return
        with self._lock:
            self._remember(raw, atomic)
            if "\n" in raw or "\r" in raw:
                for line in raw.splitlines():
                    line = line.strip()
                    if len(line) >= MIN_PREFIX_LENGTH:
                        self._remember(line, atomic)

    def _remember(self, raw: str, atomic: bool) -> None:
        if len(raw) < MIN_SCRUB_LENGTH:
            self._short.add(raw)
            return
        if self._values.get(raw) is None or (atomic and not self._values[raw]):
            self._values[raw] = atomic
            self._matcher = None

    def add_all(self, values: Iterable[str | Secret]) -> None:
        for value in values:
            self.add(value)

    def clear(self) -> None:
        """Forget every value (tests running many commands in one process start each one afresh)."""
        with self._lock:
            self._values.clear()
            self._short.clear()
            self._matcher = None

    def __len__(self) -> int:
        return len(self._values) + len(self._short)

    def scrub(self, text: str) -> str:
        """The text with every known value (of at least MIN_SCRUB_LENGTH chars), in any form, replaced."""
        if text in self._short:
            return self._replacement
        matcher = self._compiled()
        if matcher is None:
            return text
        scrubbed = self._scrub_caseless(text, matcher)
        if matcher.exact is None:
            return scrubbed
        # The short values last, and never inside a replacement already made (nor across one).
        parts = scrubbed.split(self._replacement)
        return self._replacement.join(matcher.exact.sub(self._replacement, part) for part in parts)

    def _scrub_caseless(self, text: str, matcher: _Matcher) -> str:
        haystack = text.lower()
        pattern = matcher.pattern
        if len(haystack) != len(text):  # a character whose lower case is two: positions would shift
            haystack, pattern = text, matcher.ignoring_case
        match = pattern.search(haystack)
        if match is None:
            return text
        out: list[str] = []
        pos = 0
        while match is not None:
            start = match.start()
            end = _masked_end(haystack, start, match.end(), matcher)
            if end is None:  # only the beginning of a value, and the text goes on: ordinary text
                match = pattern.search(haystack, start + 1)
                continue
            out += (text[pos:start], self._replacement)
            pos = end
            match = pattern.search(haystack, pos)
        out.append(text[pos:])
        return "".join(out)

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

    def _compiled(self) -> _Matcher | None:
        matcher = self._matcher
        if matcher is None and self._values:
            with self._lock:
                matcher = self._matcher = _compile(dict(self._values))
        return matcher


def _compile(values: Mapping[str, bool]) -> _Matcher:
    forms: set[str] = set()
    exact: set[str] = set()
    by_prefix: dict[str, list[str]] = {}
    for value, atomic in values.items():
        if len(value) < MIN_CASELESS_LENGTH:
            exact |= {form for form in derived_forms(value) if len(form) >= MIN_SCRUB_LENGTH}
            continue
        forms |= {fold(form) for form in derived_forms(value)}
        if atomic and len(value) >= MIN_CUT_VALUE_LENGTH:
            folded = fold(value)
            by_prefix.setdefault(folded[:MIN_PREFIX_LENGTH], []).append(folded)
    source = literal_alternation(forms | set(by_prefix)) if forms or by_prefix else r"(?!)"
    return _Matcher(
        re.compile(source),
        {key: (max(map(len, found)), tuple(sorted(found))) for key, found in by_prefix.items()},
        frozenset(by_prefix) - forms,
        re.compile(literal_alternation(exact)) if exact else None,
    )


def _masked_end(text: str, start: int, end: int, matcher: _Matcher) -> int | None:
    """Where the secret found at `start` ends, or None when the match is not one.

    The pattern found a whole form (up to `end`), or only the first MIN_PREFIX_LENGTH characters of
    an atomic value. The longest atomic value the text goes on matching decides: all of it is a
    secret; a beginning of it counts as one cut short only where the text stops there (the end, a
    space, a quote, a bracket, `...`), not where it goes on as a word or a path: the secret
    "emulator-token" cut short is masked in `token 'emulator'`, not in `contexts/emulator.yaml`.
    """
    whole = text[start:end] not in matcher.prefixes_only
    longest, candidates = matcher.atomic_by_prefix.get(fold(text[start : start + MIN_PREFIX_LENGTH]), (0, ()))
    if candidates:
        # The longest match among sorted values is next to where the text would sort: two to look
        # at, however many values share these first characters ("ghp_", "sk_live_"...).
        snippet = fold(text[start : start + longest])
        at = bisect.bisect_left(candidates, snippet)
        for value in candidates[max(0, at - 1) : at + 1]:
            length = _common_length(value, snippet)
            if length == len(value) and start + length >= end:
                return start + length
            if length >= MIN_PREFIX_LENGTH and start + length >= end and _cut_here(text, start + length):
                return start + length
    return end if whole else None


def _common_length(one: str, other: str) -> int:
    length = 0
    for a, b in zip(one, other, strict=False):
        if a != b:
            break
        length += 1
    return length


def _cut_here(text: str, pos: int) -> bool:
    """Whether a value cut short at `pos` looks cut: the text does not go on as a word or a path."""
    if pos >= len(text) or text.startswith("..", pos):
        return True
    char = text[pos]
    return not (char.isalnum() or char in "._-/:")


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
