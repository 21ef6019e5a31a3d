"""Untrusted text (file names, manifest names, what APIM answers) made safe to print.

A file name may hold a newline (a forged `file:line: error:` line after it) or an escape sequence
(one that recolours, moves the cursor or retitles the terminal); a description may hold a
right-to-left override that shows a line in another order than it is. Every string that reaches
text output from outside goes through `printable`; the colour codes the reports add themselves
are added after it. JSON output goes through `json_text`, which writes the C1 controls and DEL
that `ensure_ascii=False` would leave raw as `\\u` escapes.
"""

from __future__ import annotations

import json
import re
from typing import Any

_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_RAW_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """The text on one line with its control and bidi characters written as escapes (\\n, \\x1b)."""
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def json_text(data: Any, *, indent: int | None = 2) -> str:
    """`json.dumps` readable in UTF-8, with no raw control or bidi character in it."""
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
