"""Base URL normalisation, spec.path, org/env defaults."""

from __future__ import annotations

import pytest

from reconciler.apim import ApimTarget, EndpointError, normalise_base_url


@pytest.mark.parametrize(
    "url",
    [
        "http://apim:8083",
        "http://apim:8083/",
        "http://apim:8083/management",
        "http://apim:8083/management/",
        "http://apim:8083/management/v2",
        "http://apim:8083/management/v2/",
        "http://apim:8083/automation",
        " http://apim:8083/automation/ ",
        "http://apim:8083//management//",
    ],
)
def test_api_prefixes_and_trailing_slashes_are_removed(url: str) -> None:
    assert normalise_base_url(url) == "http://apim:8083"


def test_a_gateway_prefix_before_the_api_prefix_is_kept() -> None:
    assert normalise_base_url("https://gw.example.com/apim/management/") == "https://gw.example.com/apim"


@pytest.mark.parametrize(
    "url",
    ["apim:8083", "ftp://apim", "http://", "http://user:pw@apim:8083", "http://apim?x=1", "http://apim#f"],
)
def test_unusable_urls_are_refused_without_echoing_credentials(url: str) -> None:
    with pytest.raises(EndpointError) as info:
        normalise_base_url(url)
    assert "pw" not in str(info.value)


def test_default_roots_and_ids() -> None:
    t = ApimTarget.from_context_spec({"baseUrl": "http://apim:8083/management"})
    assert (t.organization_id, t.environment_id) == ("DEFAULT", "DEFAULT")
    assert t.automation_env == "http://apim:8083/automation/organizations/DEFAULT/environments/DEFAULT"
    assert t.mapi_v2_env == "http://apim:8083/management/v2/organizations/DEFAULT/environments/DEFAULT"
    assert t.mapi_v1_env == "http://apim:8083/management/organizations/DEFAULT/environments/DEFAULT"
    assert t.origin == "http://apim:8083"


def test_spec_path_replaces_both_prefixes() -> None:
    t = ApimTarget.from_context_spec(
        {
            "baseUrl": "https://gw.example.com/",
            "path": "/apim/rest/",
            "organizationId": "o1",
            "environmentId": "e 1",
        }
    )
    assert t.automation_env == "https://gw.example.com/apim/rest/organizations/o1/environments/e%201"
    assert t.mapi_v2_env == "https://gw.example.com/apim/rest/v2/organizations/o1/environments/e%201"
    assert t.mapi_v1_env == "https://gw.example.com/apim/rest/organizations/o1/environments/e%201"


def test_missing_base_url() -> None:
    with pytest.raises(EndpointError, match="baseUrl"):
        ApimTarget.from_context_spec({})
