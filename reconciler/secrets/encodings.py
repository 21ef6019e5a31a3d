"""Every form in which a secret value can come back in text, and one regular expression for them all.

A server that echoes a request field back rarely echoes it raw: APIM quotes it in a JSON error body
(escaped), a proxy puts it in a URL (percent-encoded), an `Authorization: Basic` header carries it
in base64 next to the user name, a library prints bytes as hex, an HTML error page escapes it.
`derived_forms` lists those forms; the redactor matches them case-insensitively (an upper-cased
echo, hex in capitals, `%2f` for `%2F`).

Base64 inside a longer base64 text (``base64(user:password)``) does not contain the base64 of the
value: the value's bytes start at one of three alignments, and only the characters that depend on
the value's bytes alone are fixed. `derived_forms` includes that core for each alignment.

`literal_alternation` compiles thousands of literals into one pattern shaped like a trie: matching
costs one pass over the text whatever the number of values, where a plain ``a|b|c`` alternation
tries every literal at every position.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MIN_CORE_LENGTH = 8
"""Shortest base64 core kept: shorter ones would match ordinary words."""


def fold(text: str) -> str:
    """Lower case, one character for one (what an IGNORECASE regex compares)."""
    return "".join(c if len(low := c.lower()) != 1 else low for c in text)


def derived_forms(value: str) -> set[str]:
    """The value and its encodings: JSON-escaped, URL-encoded, base64 (with cores), hex, HTML."""
    forms = {value}
    escaped = json.dumps(value)[1:-1]
    forms |= {escaped, json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(escaped)[1:-1]}
    forms |= {quote(value, safe=""), quote(value), quote_plus(value)}
    forms |= {html.escape(value), html.escape(value, quote=False)}
    data = value.encode("utf-8", "surrogatepass")
    forms.add(data.hex())
    for encoded in _base64_forms(data):
        forms |= {encoded, encoded.translate(_URLSAFE)}
    return {form for form in forms if form}


_URLSAFE = str.maketrans("+/", "-_")


def _base64_forms(data: bytes) -> Iterable[str]:
    full = base64.b64encode(data).decode("ascii")
    yield full
    yield full.rstrip("=")
    # The value's bytes preceded by 0, 1 or 2 other bytes: drop the characters that mix in a
    # neighbour's bits (the first ones for an offset, the last one when the length is not a
    # multiple of three).
    for offset, skip in ((0, 0), (1, 2), (2, 3)):
        encoded = base64.b64encode(b"\0" * offset + data).decode("ascii")
        fixed_bits = 8 * (offset + len(data))
        core = encoded[skip : fixed_bits // 6]
        if len(core) >= MIN_CORE_LENGTH:
            yield core


def literal_alternation(literals: Iterable[str]) -> str:
    """A regex matching any of the literals, the longest one where several start at one place.

    The literals are compared as given: fold them first for a case-insensitive pattern.
    """
    trie: dict[str, dict[str, Any]] = {}
    for literal in literals:
        node = trie
        for char in literal:
            node = node.setdefault(char, {})
        node[""] = {}
    return _branch(trie)


def _branch(node: dict[str, Any]) -> str:
    """A node's pattern; single-child chains are walked in a loop, so that a long value costs no stack."""
    parts: list[str] = []
    while True:
        terminal = "" in node
        children = [(char, child) for char, child in node.items() if char]
        if not children:
            return "".join(parts)
        if len(children) == 1 and not terminal:
            char, node = children[0]
            parts.append(re.escape(char))
            continue
        alternatives = "|".join(re.escape(char) + _branch(child) for char, child in sorted(children))
        parts.append(f"(?:{alternatives}){'?' if terminal else ''}")
        return "".join(parts)
