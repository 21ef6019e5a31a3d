"""Where a credential may be sent: only to the base URLs that the operator bound it to, outside git.

`spec.baseUrl` is written in the repository, so anyone who can open a pull request can point it at a
server of their own; a read-only `diff` in the PR's pipeline would then hand them the deploy token.
So a credential read from outside the repository (`reconciler.contexts.origins`) is sent only to a
URL that the operator allowed, also outside the repository:

* a key beside the credential, in the same secret (or config map): `baseUrl` (one URL) or
  `allowedUrls` (several, separated by commas or newlines): `DIR/[NS/]NAME/baseUrl`, or the variable
  `APIM_SECRET_<NS>_<NAME>_BASEURL` / `..._ALLOWEDURLS`;
* `--allowed-apim-url URL` (repeatable; `RECONCILER_ALLOWED_APIM_URLS`, comma-separated), which
  allows a URL for every such credential.

A bound URL allows a context when scheme, host and port are equal and its path is a prefix (whole
segments) of every API root that the context uses (`spec.path` included). Plain `http://` goes only
to a loopback address unless a binding names that `http://` URL itself (schemes must be equal, so a
binding is that explicit allowance); this holds for a credential written in the repository too,
which otherwise needs no binding (its author already holds it).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from reconciler.apim.endpoints import ApimTarget, EndpointError, normalise_base_url
from reconciler.contexts.origins import CredentialOrigin, OriginKind
from reconciler.defaults import ALLOW_ENV, ALLOW_FLAG
from reconciler.manifests.model import Resource
from reconciler.secrets.errors import SecretResolutionError
from reconciler.secrets.store import SecretStore

BASE_URL_KEY = "baseUrl"
ALLOWED_URLS_KEY = "allowedUrls"
_SEPARATORS = re.compile(r"[,\s]+")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class BindingError(EndpointError):
    """The context's URL is not one its credential may be sent to: nothing was sent."""


@dataclass(frozen=True)
class Binding:
    """What allowed a context's URL for its credential (for check-context); never the credential."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class _Url:
    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, text: str) -> _Url:
        """Raises EndpointError; normalised as `normalise_base_url` does (API suffixes dropped)."""
        parts = urlsplit(normalise_base_url(text))
        return cls(
            parts.scheme, _host(parts.hostname), parts.port or _DEFAULT_PORTS[parts.scheme], parts.path
        )

    @staticmethod
    def of_target(target: ApimTarget) -> tuple[str, str, int, list[str]]:
        """Scheme, host, port, and the path of every API root the target's requests go under."""
        parts = urlsplit(target.base_url)
        roots = [urlsplit(target.management_root).path, urlsplit(target.automation_root).path]
        return parts.scheme, _host(parts.hostname), parts.port or _DEFAULT_PORTS[parts.scheme], roots

    def allows(self, target: ApimTarget) -> bool:
        scheme, host, port, roots = self.of_target(target)
        if (self.scheme, self.host, self.port) != (scheme, host, port):
            return False
        prefix = self.path.rstrip("/")
        return all(p == prefix or p.startswith(prefix + "/") for p in roots)


def split_urls(text: str) -> list[str]:
    """The URLs of an `allowedUrls` key or of `RECONCILER_ALLOWED_APIM_URLS`: comma or newline separated."""
    return [u for u in _SEPARATORS.split(text) if u]


def check_allowed_urls(urls: Iterable[str]) -> tuple[str, ...]:
    """The flag's URLs, each checked (raises EndpointError naming the bad one)."""
    checked = []
    for url in urls:
        try:
            _Url.parse(url)
        except EndpointError as exc:
            raise EndpointError(f"{ALLOW_FLAG} {url!r}: {exc}") from None
        checked.append(url)
    return tuple(checked)


def _host(hostname: str | None) -> str:
    """A host as compared: lower case (urlsplit does it), no final dot, IP addresses in one spelling."""
    host = (hostname or "").rstrip(".")
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return host


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or the name `localhost`: never resolved, since an answer can change."""
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(
    context: Resource,
    target: ApimTarget,
    origins: Sequence[CredentialOrigin],
    store: SecretStore,
    allowed_urls: Sequence[str] = (),
) -> Binding:
    """What allows `context`'s credential, read from `origins`, to go to `target`; raises BindingError.

    Reads only the binding keys (never a credential); sends nothing.
    """
    scheme, host = _Url.of_target(target)[:2]
    flag = [url for url in allowed_urls if url_allows(url, target)]
    url = target.base_url
    where = f"{context.at('baseUrl')}: ManagementContext {context.namespace}/{context.name}"
    if not origins:
        if scheme == "http" and not is_loopback(host) and not flag:
            raise BindingError(
                f"{where}: plain http:// to {host}, which is not a loopback address, would send the "
                f"credential unencrypted: nothing was sent. Use https://, or allow this URL explicitly "
                f"with {ALLOW_FLAG} {url}"
            )
        if flag:
            return Binding(f"{ALLOW_FLAG} {flag[0]} (the credential is written in the repository)")
        return Binding("none needed: the credential is written in the repository itself")
    found: list[str] = []
    for origin in origins:
        try:
            keys, bound = _bound_urls(origin, store)
        except BindingError as exc:
            raise BindingError(f"{where}: {exc}: nothing was sent") from None
        matching = [(k, u) for k, u in bound if url_allows(u, target)]
        if matching:
            key, bound_url = matching[0]
            found.append(f"{_key_text(origin, key)} ({bound_url})")
        elif flag:
            found.append(f"{ALLOW_FLAG} {flag[0]} (for {origin})")
        else:
            raise BindingError(f"{where}: {_refusal(origin, url, keys, bound)}")
    return Binding("; ".join(found))


def _refusal(
    origin: CredentialOrigin, url: str, keys: Sequence[str], bound: Sequence[tuple[str, str]]
) -> str:
    if bound:
        shown = ", ".join(sorted({u for _, u in bound}))
        state = f"the credential from {origin} is bound to {shown} (by {' and '.join(keys)}), not to {url}"
    else:
        state = f"the credential from {origin} is not bound to any URL"
    how = f"pass {ALLOW_FLAG} {url} (env {ALLOW_ENV})"
    if origin.kind is OriginKind.ENV and origin.has_keys:
        how = (
            f"set the variable {origin.key_env(BASE_URL_KEY)} (or {origin.key_env(ALLOWED_URLS_KEY)}: "
            f"several, comma-separated) to the URL, or {how}"
        )
    elif origin.has_keys:
        how = (
            f"put the URL in key {BASE_URL_KEY} (or {ALLOWED_URLS_KEY}: several, comma-separated) of "
            f"{origin} (the file [SECRETS_DIR]/{origin.namespace}/{origin.name}/{BASE_URL_KEY}, or the "
            f"variable {origin.key_env(BASE_URL_KEY)}), or {how}"
        )
    return (
        f"it asks for {url}, but {state}: nothing was sent. Only the operator can allow it, outside the "
        f"repository: {how}"
    )


def _bound_urls(origin: CredentialOrigin, store: SecretStore) -> tuple[list[str], list[tuple[str, str]]]:
    """The binding keys found beside the credential, and the URLs they hold (key, url)."""
    if not origin.has_keys:
        return [], []
    source = store.configmaps if origin.kind is OriginKind.CONFIGMAP else store.secrets
    keys: list[str] = []
    urls: list[tuple[str, str]] = []
    for key in (BASE_URL_KEY, ALLOWED_URLS_KEY):
        try:
            # Read with the source itself, not `lookup_secret`: a URL is not a secret, and registering
            # it with the redactor would scrub the server's address out of every message.
            if origin.kind is OriginKind.ENV:
                value = os.environ.get(origin.key_env(key))  # beside APIM_ADMIN_*, read the same way
            else:
                value = source.lookup(origin.namespace, origin.name, key).value
        except SecretResolutionError as exc:
            raise BindingError(f"{_key_text(origin, key)}: {exc.reason}") from None
        if value is None or not value.strip():
            continue
        keys.append(_key_text(origin, key))
        values = [value.strip()] if key == BASE_URL_KEY else split_urls(value)
        for text in values:
            try:
                _Url.parse(text)
            except EndpointError:
                # The value is not shown: an operator may have put the token under the wrong key.
                raise BindingError(
                    f"{_key_text(origin, key)} does not hold an http:// or https:// URL with a host"
                ) from None
            urls.append((key, text))
    return keys, urls


def url_allows(url: str, target: ApimTarget) -> bool:
    """Whether the bound `url` allows requests to `target` (raises EndpointError for a bad `url`)."""
    return _Url.parse(url).allows(target)


def bound_urls(origin: CredentialOrigin, store: SecretStore) -> tuple[str, ...]:
    """The URLs that the keys beside a credential bind it to (raises BindingError for a bad one)."""
    return tuple(url for _, url in _bound_urls(origin, store)[1])


def _key_text(origin: CredentialOrigin, key: str) -> str:
    if origin.kind is OriginKind.ENV:
        return f"variable {origin.key_env(key)}"
    return f"{origin} key {key}"
