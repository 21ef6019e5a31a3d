"""Where a ManagementContext points: the server, and the roots of its three APIs.

`spec.baseUrl` is written in many ways (`http://apim:8083`, `.../management`, `.../management/v2/`,
`.../automation`); it is normalised to the bare server URL. The API roots are then
`{base}/management` (mAPI v1, and v2 under `/v2`) and `{base}/automation`, unless `spec.path` is
set: it replaces both prefixes, as GKO does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from reconciler.manifests.model import JSON

DEFAULT_ORG = "DEFAULT"
DEFAULT_ENV = "DEFAULT"
_API_SUFFIXES = ("/management/v2", "/management", "/automation")


class EndpointError(ValueError):
    """A baseUrl that cannot be used (no scheme or host, credentials in it, ...)."""


def normalise_base_url(url: str) -> str:
    """The server URL without the API prefix and trailing slashes, e.g. `http://apim:8083/gw`."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(f"baseUrl {_safe(text)!r} must be an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise EndpointError("baseUrl must not carry credentials; put them in spec.auth")
    if parts.query or parts.fragment:
        raise EndpointError("baseUrl must not have a query string or a fragment")
    path = parts.path.rstrip("/")
    changed = True
    while changed:
        changed = False
        for suffix in _API_SUFFIXES:
            if path.endswith(suffix):
                path = path[: -len(suffix)].rstrip("/")
                changed = True
                break
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _normalise_prefix(path: str) -> str:
    stripped = path.strip().strip("/")
    return f"/{stripped}" if stripped else ""


def _safe(url: str) -> str:
    """A URL for an error message: never its userinfo."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"***@{host}{port}", parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class ApimTarget:
    """One organization/environment on one server, with the URL of every API root."""

    base_url: str
    organization_id: str = DEFAULT_ORG
    environment_id: str = DEFAULT_ENV
    path: str | None = None

    @classmethod
    def from_context_spec(cls, spec: Mapping[str, JSON]) -> ApimTarget:
        base = spec.get("baseUrl")
        if not isinstance(base, str) or not base.strip():
            raise EndpointError("the ManagementContext has no spec.baseUrl")
        path = spec.get("path")
        return cls(
            base_url=normalise_base_url(base),
            organization_id=_id(spec.get("organizationId"), DEFAULT_ORG),
            environment_id=_id(spec.get("environmentId"), DEFAULT_ENV),
            path=_normalise_prefix(path) if isinstance(path, str) else None,
        )

    @property
    def origin(self) -> str:
        """scheme://host:port, the key under which retry state is shared."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def management_root(self) -> str:
        return self.base_url + (self.path if self.path is not None else "/management")

    @property
    def automation_root(self) -> str:
        return self.base_url + (self.path if self.path is not None else "/automation")

    def _scope(self) -> str:
        return f"/organizations/{_seg(self.organization_id)}/environments/{_seg(self.environment_id)}"

    @property
    def automation_env(self) -> str:
        """`.../automation/organizations/{org}/environments/{env}`"""
        return self.automation_root + self._scope()

    @property
    def mapi_v2_env(self) -> str:
        """`.../management/v2/organizations/{org}/environments/{env}`"""
        return self.management_root + "/v2" + self._scope()

    @property
    def mapi_v1_env(self) -> str:
        """`.../management/organizations/{org}/environments/{env}`"""
        return self.management_root + self._scope()

    def describe(self) -> str:
        return f"{self.base_url} (organization {self.organization_id}, environment {self.environment_id})"


def _id(value: Any, default: str) -> str:
    return value.strip() if isinstance(value, str) and value.strip() else default


def _seg(value: str) -> str:
    """One path segment, percent-encoded so that an id cannot add segments."""
    return quote(value, safe="")


def segment(value: str) -> str:
    return _seg(value)
