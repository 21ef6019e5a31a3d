"""The one type that holds a secret value, so that no repr, str, log line or report can print it.

Kept free of I/O so that the pure planner can carry secrets through a diff: two secrets compare
equal when their values do, which is all a diff needs to know.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REDACTED = "(sensitive)"
JSON = Any


class Secret:
    """A secret value; `reveal()` is the only way to read it, and only the HTTP layer should call it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return REDACTED

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret is not picklable: it would leave the process in clear")


def unusable_character(text: str, *, allow_space: bool, ascii_only: bool = True) -> str | None:
    """The kind of the first character that cannot travel in a header or an askpass answer, if any.

    The kind ("a line break"), never the character: the caller names the credential in an error.
    """
    for char in text:
        code = ord(char)
        if char in "\r\n":
            return "a line break"
        if code < 0x20 or 0x7F <= code <= 0x9F:
            return "a control character"
        if code > 0x7E and ascii_only:
            return "a non-ASCII character"
        if char == " " and not allow_space:
            return "a space"
    return None


def reveal_all(value: JSON) -> JSON:
    """A copy with every Secret replaced by its value: for the HTTP layer and for hashing only."""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, Mapping):
        return {str(k): reveal_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [reveal_all(v) for v in value]
    return value


def reveal_leaf(value: Any) -> Any:
    """`default` hook of `json.dumps`: a Secret's value, a plain dict for another Mapping."""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
