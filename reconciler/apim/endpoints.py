"""Where a ManagementContext points: the server, and the roots of its three APIs.

`spec.baseUrl` is written in many ways (`http://apim:8083`, `.../management`, `.../management/v2/`,
`.../automation`); it is normalised to the bare server URL. The API roots are then
`{base}/management` (mAPI v1, and v2 under `/v2`) and `{base}/automation`, unless `spec.path` is
set: it replaces both prefixes, as GKO does. Parsing and normalising live in
`reconciler.urls`, which `validate` uses too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from reconciler.urls import EndpointError, normalise_base_url, normalise_prefix

__all__ = ["DEFAULT_ENV", "DEFAULT_ORG", "ApimTarget", "EndpointError", "normalise_base_url", "segment"]

DEFAULT_ORG = "DEFAULT"
DEFAULT_ENV = "DEFAULT"


@dataclass(frozen=True)
class ApimTarget:
    """One organization/environment on one server, with the URL of every API root."""

    base_url: str
    organization_id: str = DEFAULT_ORG
    environment_id: str = DEFAULT_ENV
    path: str | None = None

    @classmethod
    def from_context_spec(cls, spec: Mapping[str, Any]) -> ApimTarget:
        base = spec.get("baseUrl")
        if not isinstance(base, str) or not base.strip():
            raise EndpointError("the ManagementContext has no spec.baseUrl")
        path = spec.get("path")
        return cls(
            base_url=normalise_base_url(base),
            organization_id=_id(spec.get("organizationId"), DEFAULT_ORG),
            environment_id=_id(spec.get("environmentId"), DEFAULT_ENV),
            path=normalise_prefix(path) if isinstance(path, str) else None,
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
