"""`validate`'s checks of a ManagementContext's `spec.baseUrl` and `spec.path`, at their lines.

A URL that only a template reveals is checked when it is resolved, and fails its own context, not
the run. How a URL is parsed and normalised is `reconciler/urls.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from reconciler.manifests.model import MANAGEMENT_CONTEXT, Problem, Resource, Severity
from reconciler.manifests.templates import has_template
from reconciler.urls import EndpointError, normalise_base_url, normalise_prefix

_HTTP = re.compile(r"^https?://")  # other schemes are the schema's to report


def check_context_urls(resources: Sequence[Resource]) -> Iterator[Problem]:
    """`validate`'s check of every ManagementContext's baseUrl and path (templated ones wait for sync)."""
    for context in resources:
        if context.kind != MANAGEMENT_CONTEXT:
            continue
        for key, check in (("baseUrl", normalise_base_url), ("path", normalise_prefix)):
            value = context.spec.get(key)
            if not isinstance(value, str) or has_template(value):
                continue
            if key == "baseUrl" and not _HTTP.match(value):
                continue  # the schema's own pattern reports that one
            try:
                check(value)
            except EndpointError as exc:
                yield Problem(Severity.ERROR, str(exc), context.at(key), context.id, ("spec", key))
