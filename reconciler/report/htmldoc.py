"""The one HTML document shell of the reconciler's pages: escaping, the inline style, the policy.

Two pages are built on it: the report of a `diff` or `sync` (`report.html`, kept by CI as an
artifact) and the daemon's status page at `/` (`daemon.page`). Both must work offline, from a file
or a port nobody else serves, so everything is inline and nothing is fetched: no font, no image, no
script from elsewhere. Their content comes from git and APIM (names, descriptions, error messages),
which anyone who can open a pull request or edit in the console controls, so:

- every value goes through `esc`: control and bidi characters written as escapes (`printable`),
  known secrets scrubbed (the process's redactor), then `html.escape(quote=True)`; markup is only
  ever written by this package, around escaped values;
- styles are classes of one inline stylesheet, never a `style` attribute, so that the
  Content-Security-Policy can allow exactly that stylesheet (and the daemon page's one script) by
  hash: an injected `<script>` or `style=` would not run even if escaping failed;
- the whole document is scrubbed once more before it leaves, for a secret in a form that only the
  escaped text shows (`&amp;` inside a value, say).
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable, Sequence

from reconciler.secrets.redaction import default_redactor
from reconciler.textsafe import printable

STYLE = """
:root { color-scheme: light; --ok: #1a7f37; --fail: #cf222e; --warn: #9a6700; --info: #0969da;
  --muted: #656d76; --line: #d0d7de; --drift: #8250df; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1f2328; }
header { background: #24292f; color: #fff; padding: 12px 24px; display: flex; flex-wrap: wrap;
  align-items: baseline; gap: 8px 24px; }
header h1 { font-size: 18px; margin: 0; }
header .meta { color: #d0d7de; }
nav a { color: #fff; margin-right: 14px; }
main { padding: 8px 24px 32px; max-width: 1400px; }
h2 { font-size: 16px; border-bottom: 1px solid var(--line); padding-bottom: 4px; margin-top: 28px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
table { border-collapse: collapse; margin: 6px 0 12px; width: 100%; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: var(--bg); border: 1px solid var(--line); padding: 8px; overflow-x: auto;
  white-space: pre-wrap; word-break: break-all; margin: 4px 0; }
details > summary { cursor: pointer; }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-weight: 600; font-size: 12px;
  border: 1px solid currentColor; white-space: nowrap; }
.ok, .create, .success { color: var(--ok); }
.fail, .failure, .error, .invalid, .conflict, .blocked, .delete { color: var(--fail); }
.warn, .update, .suspended { color: var(--warn); }
.drifted { color: var(--drift); }
.unknown, .unchanged, .skipped, .muted { color: var(--muted); }
.banner { border: 1px solid currentColor; border-radius: 6px; padding: 8px 12px; margin: 12px 0;
  font-weight: 600; }
.cards { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; min-width: 90px; }
.card b { display: block; font-size: 20px; }
.diff .add { color: var(--ok); } .diff .del { color: var(--fail); } .diff .chg { color: var(--warn); }
.diff .note { color: var(--muted); }
footer { color: var(--muted); margin-top: 24px; font-size: 12px; }
"""


def sha256_source(text: str) -> str:
    """A CSP source that allows exactly this inline `<style>` or `<script>` content."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def policy(*, script: str | None = None, header: bool = True) -> str:
    """The Content-Security-Policy of a page: nothing from anywhere, but its own stylesheet (and
    script). `frame-ancestors` only means something in a header, so a file's `<meta>` leaves it out."""
    parts = [
        "default-src 'none'",
        f"style-src {sha256_source(STYLE)}",
        f"script-src {sha256_source(script) if script else chr(39) + 'none' + chr(39)}",
        "img-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
    if header:
        parts.append("frame-ancestors 'none'")
    return "; ".join(parts)


def esc(value: object) -> str:
    """Any value as HTML text: printable, scrubbed of known secrets, escaped (quotes included)."""
    text = "" if value is None else str(value)
    return html.escape(default_redactor().scrub(printable(text)), quote=True)


def esc_lines(lines: Iterable[str]) -> list[str]:
    """Lines as HTML text each (a multi-line value keeps its lines, each made printable)."""
    return [esc(line) for line in lines]


def css_class(value: object) -> str:
    """A class name from our own vocabulary (an action, an outcome); anything else is `unknown`."""
    text = str(value)
    return text if text in _CLASSES else "unknown"


_CLASSES = frozenset(
    (
        "ok",
        "fail",
        "warn",
        "unknown",
        "muted",
        "create",
        "update",
        "delete",
        "drifted",
        "conflict",
        "blocked",
        "unchanged",
        "skipped",
        "success",
        "failure",
        "invalid",
        "error",
        "suspended",
    )
)


def badge(text: object, kind: object) -> str:
    return f'<span class="badge {css_class(kind)}">{esc(text)}</span>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: Sequence[int] = ()) -> str:
    """A table of cells that are already HTML (escape them with `esc`); `numeric` columns right-aligned."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def document(
    title: str,
    header: str,
    body: str,
    *,
    refresh: int | None = None,
    script: str | None = None,
    meta_policy: bool = True,
) -> str:
    """A whole page: `header` and `body` are HTML built with `esc`; `refresh` reloads it every so many
    seconds (a `<meta>`, without JavaScript); `script` is inline and allowed by the policy's hash.
    `meta_policy` puts the policy in the page itself, for a file that no server sends a header for."""
    head = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
    ]
    if meta_policy:
        head.append(
            f'<meta http-equiv="Content-Security-Policy" content="{esc(policy(script=script, header=False))}">'
        )
    if refresh:
        head.append(f'<meta http-equiv="refresh" content="{int(refresh)}">')
    head += [f"<title>{esc(title)}</title>", f"<style>{STYLE}</style>"]
    tail = f"<script>{script}</script>" if script else ""
    page = (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head>{"".join(head)}</head>'
        f"<body><header>{header}</header><main>{body}</main>{tail}</body></html>\n"
    )
    return default_redactor().scrub(page)
