"""Fault injection: make chosen endpoints fail the way a real network or a busy APIM does.

A fault is ``METHOD PATH-GLOB=ACTION[:TRIGGER]``, e.g. ``PUT */apis=503:0.1``:

* ``METHOD`` is an HTTP method or ``*``; ``PATH-GLOB`` is an :mod:`fnmatch` pattern matched against the
  request path without its query string (``*`` also crosses ``/``).
* ``ACTION`` is an HTTP status (``500``, ``503``, ``429``... sent with an ``HttpError`` body; 429 and 503
  also carry ``Retry-After``), ``reset`` (the TCP connection is aborted with a RST, no response),
  ``hang`` (no response until the client gives up and closes the connection), ``empty`` (``200`` with
  the body ``{}``) or ``nocontent`` (``204``, no body): a success that does not show the object, as a
  proxy or a broken server may answer, to check that the client does not take it for a confirmation.
  The request is not processed: nothing is stored.
* ``TRIGGER`` is a rate ``0 < x < 1`` (each matching request fails with that probability) or a count
  ``N >= 1`` (the first N matching requests fail, then the fault is spent). Omitted: every match fails.

Faults are checked in order; the first one that fires wins. ``/_emulator/*`` is never faulted.
"""

from __future__ import annotations

import fnmatch
import random
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_STATUS = re.compile(r"^[1-5][0-9][0-9]$")
ACTIONS_NON_STATUS = ("reset", "hang", "empty", "nocontent")


@dataclass(frozen=True)
class Fault:
    """One fault rule. ``rate`` and ``count`` are mutually exclusive; both ``None`` means always."""

    method: str
    path_glob: str
    action: str
    rate: float | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS_NON_STATUS and not _STATUS.match(self.action):
            raise ValueError(
                "fault action must be an HTTP status, 'reset', 'hang', 'empty' or 'nocontent', "
                f"not {self.action!r}"
            )
        if self.rate is not None and self.count is not None:
            raise ValueError("a fault has either a rate or a count, not both")
        if self.rate is not None and not 0 < self.rate < 1:
            raise ValueError(f"fault rate must be between 0 and 1 (exclusive), not {self.rate}")
        if self.count is not None and self.count < 1:
            raise ValueError(f"fault count must be >= 1, not {self.count}")
        if not self.method or not self.path_glob:
            raise ValueError("fault needs a method and a path glob")

    @property
    def status(self) -> int | None:
        """The HTTP status of an error to answer with, or ``None`` for the other actions."""
        return int(self.action) if _STATUS.match(self.action) else None

    @classmethod
    def parse(cls, text: str) -> Fault:
        """Parse ``METHOD PATH-GLOB=ACTION[:RATE|COUNT]`` (the ``--fault`` syntax)."""
        target, sep, outcome = text.strip().rpartition("=")
        if not sep:
            raise ValueError(f"fault {text!r}: expected 'METHOD PATH-GLOB=ACTION[:RATE|COUNT]'")
        method, _, glob = target.strip().partition(" ")
        action, _, trigger = outcome.strip().partition(":")
        rate: float | None = None
        count: int | None = None
        if trigger:
            if trigger.isdigit():
                count = int(trigger)
            else:
                try:
                    rate = float(trigger)
                except ValueError:
                    raise ValueError(f"fault {text!r}: trigger must be a rate or a count") from None
        return cls(method.upper(), glob.strip(), action.strip().lower(), rate, count)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any] | str) -> Fault:
        """Build from ``{"method", "path", "action", "rate"?, "count"?}`` or from a ``--fault`` string."""
        if isinstance(obj, str):
            return cls.parse(obj)
        unknown = set(obj) - {"method", "path", "action", "rate", "count"}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        rate = obj.get("rate")
        count = obj.get("count")
        return cls(
            str(obj.get("method", "*")).upper(),
            str(obj["path"]),
            str(obj["action"]).lower(),
            float(rate) if rate is not None else None,
            int(count) if count is not None else None,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "path": self.path_glob, "action": self.action}
        if self.rate is not None:
            out["rate"] = self.rate
        if self.count is not None:
            out["count"] = self.count
        return out

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and fnmatch.fnmatchcase(path, self.path_glob)


class FaultSet:
    """The active faults plus the remaining budget of count-based ones; thread-safe."""

    def __init__(self, faults: Iterable[Fault] = (), seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)  # fault sampling, seedable on purpose  # nosec B311
        self._faults: list[Fault] = []
        self._remaining: list[int | None] = []
        self.replace(faults)

    def replace(self, faults: Iterable[Fault]) -> None:
        with self._lock:
            self._faults = list(faults)
            self._remaining = [f.count for f in self._faults]

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            out = []
            for fault, left in zip(self._faults, self._remaining, strict=True):
                item = fault.to_json()
                if left is not None:
                    item["remaining"] = left
                out.append(item)
            return out

    def pick(self, method: str, path: str) -> Fault | None:
        """The fault that fires for this request, if any (consumes count budgets)."""
        if not self._faults:
            return None
        with self._lock:
            for i, fault in enumerate(self._faults):
                if not fault.matches(method, path):
                    continue
                left = self._remaining[i]
                if left is not None:
                    if left <= 0:
                        continue
                    self._remaining[i] = left - 1
                    return fault
                if fault.rate is None or self._rng.random() < fault.rate:
                    return fault
            return None
