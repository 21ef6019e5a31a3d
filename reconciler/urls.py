"""A ManagementContext's `spec.baseUrl` (and `spec.path`), parsed and normalised: a fact of its own.

`spec.baseUrl` is written in many ways (`http://apim:8083`, `.../management`, `.../management/v2/`,
`.../automation`); it is normalised to the bare server URL. Every way a URL can be unusable (a port
beyond 65535, a malformed IPv6 address, credentials or a query in it, `..` segments that would let
a path leave the prefix it is bound to) is an `EndpointError`, never another exception: `validate`
reports it at its line (`manifests/baseurl.py`), and the client builds its endpoints from it
(`apim/endpoints.py`); neither imports the other.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit


class EndpointError(ValueError):
    """A baseUrl that cannot be used (no scheme or host, credentials in it, ...)."""


_API_SUFFIXES = ("/management/v2", "/management", "/automation")
_HTTP = re.compile(r"^https?://")
_AFTER_LITERAL = re.compile(r"^(:[0-9]*)?$")  # what may follow `[ipv6]`: a port, or nothing
_HOST = re.compile(r"^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?\.?$")  # urlsplit lower-cases `hostname`


def normalise_base_url(url: str) -> str:
    """The server URL without the API prefix and trailing slashes, e.g. `http://apim:8083/gw`.

    Raises EndpointError for anything that is not a usable http(s) URL, never another exception:
    a bad URL in one context must fail that context, not the run.
    """
    text = url.strip()
    parts = _split(text)
    if parts.username is not None or parts.password is not None:
        raise EndpointError("baseUrl must not carry credentials; put them in spec.auth")
    if parts.query or parts.fragment:
        raise EndpointError("baseUrl must not have a query string or a fragment")
    path = parts.path.rstrip("/")
    _refuse_dot_segments(path, "baseUrl")
    changed = True
    while changed:
        changed = False
        for suffix in _API_SUFFIXES:
            if path.endswith(suffix):
                path = path[: -len(suffix)].rstrip("/")
                changed = True
                break
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _split(text: str) -> SplitResult:
    """`urlsplit`, with every way the URL can be unusable turned into an EndpointError."""
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port  # both parse lazily, and raise ValueError
    except ValueError as exc:
        raise EndpointError(f"baseUrl {_safe(text)!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise EndpointError(f"baseUrl {_safe(text)!r} must be an http:// or https:// URL with a host")
    if port == 0:
        raise EndpointError(f"baseUrl {_safe(text)!r}: port 0 cannot be connected to")
    authority = parts.netloc.rpartition("@")[2]
    literal = authority.startswith("[")
    if (literal and not _AFTER_LITERAL.match(authority.partition("]")[2])) or (
        not literal and not _HOST.match(host)
    ):
        raise EndpointError(f"baseUrl {_safe(text)!r}: {host!r} is not a host name or IP address")
    return parts


def _refuse_dot_segments(path: str, label: str) -> None:
    """A `.` or `..` segment (even percent-encoded) would let a path leave the prefix it is bound to."""
    if any(unquote(s) in (".", "..") for s in path.split("/")):
        raise EndpointError(f"{label} must not contain '.' or '..' path segments")


def normalise_prefix(path: str) -> str:
    """`spec.path` as a prefix: one leading slash, no trailing one ("" for none)."""
    stripped = path.strip().strip("/")
    _refuse_dot_segments(stripped, "spec.path")
    return f"/{stripped}" if stripped else ""


def _safe(url: str) -> str:
    """A URL for an error message: never its userinfo (found by hand: the URL may not even parse)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority_end = min((i for i in (rest.find(c) for c in "/?#") if i != -1), default=len(rest))
    authority, tail = rest[:authority_end], rest[authority_end:]
    if "@" not in authority:
        return url
    return f"{scheme}://***@{authority.rpartition('@')[2]}{tail}"
