"""Keeping credentials out of URLs and git's messages.

Two kinds of text leave the source stage: URLs (in snapshots, logs and errors) and git's stderr (in
error messages). URLs lose their userinfo's password, and for http(s) the whole userinfo (a token is
often passed as the user name). Stderr is scrubbed of every secret value the operation used, and of
any ``scheme://user:pass@`` it may quote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from reconciler.secrets.redaction import Redactor
from reconciler.secrets.value import REDACTED

_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")
_REMOTE_HELPER = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")  # transport::address, such as ext::
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/:\s]+)@)?(?P<host>[^:/\s]+):(?P<path>(?!//).+)$")


@dataclass(frozen=True, slots=True)
class SplitCredentials:
    """A URL with its embedded credentials taken out (``https://user:token@host/x``)."""

    url: str
    username: str | None
    password: str | None


def is_scp_like(url: str) -> bool:
    """``git@host:org/repo`` — git's short ssh syntax (no scheme, a colon before any slash)."""
    if "://" in url or _REMOTE_HELPER.match(url):
        return False
    match = _SCP_LIKE.match(url)
    return match is not None and "/" not in match.group("host")


def split_credentials(url: str) -> SplitCredentials:
    """Take ``user[:password]@`` out of a URL with a scheme; the user of ssh URLs stays (it is no secret).

    Why: git would store the URL in the cache's config and show it in ``ps``; credentials found in a
    URL are handed to git through the askpass helper instead.
    """
    if "://" not in url:
        return SplitCredentials(url, None, None)
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return SplitCredentials(url, None, None)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    if parts.scheme in ("ssh", "git+ssh", "ssh+git") and parts.username:
        netloc = f"{parts.username}@{host}"
        return SplitCredentials(urlunsplit(parts._replace(netloc=netloc)), None, parts.password)
    return SplitCredentials(urlunsplit(parts._replace(netloc=host)), parts.username, parts.password)


def redact_url(url: str) -> str:
    """The URL as it may be shown: no password anywhere, no userinfo at all for http(s)."""
    return split_credentials(url).url


class Scrubber:
    """Replaces the given secret values (in every form the process's redactor knows), and any
    credentials inside URLs, in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._redactor = Redactor()
        self._redactor.add_all(secrets)

    def scrub(self, text: str) -> str:
        return _URL_USERINFO.sub(_redact_userinfo, self._redactor.scrub(text))


def _redact_userinfo(match: re.Match[str]) -> str:
    scheme, userinfo = match.group("scheme"), match.group("userinfo")
    if scheme.lower().startswith("http") or ":" in userinfo:
        return f"{scheme}{REDACTED}@"
    return match.group(0)  # ssh://git@host: a user name alone is no secret
