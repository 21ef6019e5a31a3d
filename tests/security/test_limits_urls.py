"""A malformed baseUrl is a clear error at its line, never a crash, and never the other contexts' end."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from reconciler.apim.endpoints import EndpointError, normalise_base_url
from reconciler.cli import main
from reconciler.emulator import RunningEmulator
from tests.apply.helpers import api_yaml, context_yaml, set_token_env

MALFORMED = [
    "http://apim.example.com:99999",  # port beyond 65535
    "http://apim.example.com:0",
    "http://apim.example.com:-1",
    "http://apim.example.com:80x",
    "http://[::1",  # unterminated IPv6 literal
    "http://[::1:8083/management",
    "http://[zz::1]:8083",  # not an IPv6 address
    "http://[::1]x:8083",
    "http://apim example.com",  # a space in the host
    "http://",
    "https://:8083",
    "ftp://apim.example.com",
    "apim.example.com:8083",
    "http://user:pw@apim.example.com",
    "http://apim.example.com/?x=1",
    "http://apim.example.com/gw/../admin",
    "http://apim.example.com/gw/%2e%2e/admin",
]


@pytest.mark.parametrize("url", MALFORMED)
def test_every_malformed_url_is_an_endpoint_error(url: str) -> None:
    with pytest.raises(EndpointError) as info:
        normalise_base_url(url)
    assert "pw" not in str(info.value)  # userinfo never shown


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("http://[::1]:8083/management/v2/", "http://[::1]:8083"),
        ("https://APIM.example.com:443/gw/automation", "https://APIM.example.com:443/gw"),
        ("http://127.0.0.1:65535", "http://127.0.0.1:65535"),
    ],
)
def test_good_urls_still_normalise(url: str, normalised: str) -> None:
    assert normalise_base_url(url) == normalised


CONTEXT = """\
apiVersion: gravitee.io/v1alpha1
kind: ManagementContext
metadata:
  name: {name}
spec:
  baseUrl: "{url}"
  auth:
    bearerToken: t
"""


def test_validate_reports_each_bad_url_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "port.yaml").write_text(CONTEXT.format(name="port", url="http://apim:70000"))
    (tmp_path / "ipv6.yaml").write_text(CONTEXT.format(name="ipv6", url="http://[::1:8083"))
    (tmp_path / "path.yaml").write_text(
        CONTEXT.format(name="path", url="http://apim:8083") + "  path: /gw/../../admin\n"
    )
    code = main(["validate", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert (
        f"{tmp_path}/port.yaml:6:3: error: baseUrl 'http://apim:70000' is not a valid URL: Port out of range"
        in out
    )
    assert (
        f"{tmp_path}/ipv6.yaml:6:3: error: baseUrl 'http://[::1:8083' is not a valid URL: Invalid IPv6" in out
    )
    assert f"{tmp_path}/path.yaml:9:3: error: spec.path must not contain '.' or '..'" in out


def test_a_bad_url_only_a_template_reveals_fails_that_context_alone(
    tmp_path: Path,
    emulator: RunningEmulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`validate` cannot see a URL held by a config map; the sync must still apply the good context."""
    set_token_env(monkeypatch, emulator.base_url)
    repo, config = tmp_path / "repo", tmp_path / "config"
    repo.mkdir()
    (config / "apim-url").mkdir(parents=True)
    (config / "apim-url" / "baseUrl").write_text("http://[::1:99999\n")
    (repo / "good.yaml").write_text(context_yaml(emulator.base_url, name="good"))
    (repo / "bad.yaml").write_text(
        context_yaml("PLACEHOLDER", name="bad").replace("PLACEHOLDER", '"[[ configmap `apim-url/baseUrl` ]]"')
    )
    (repo / "orders.yaml").write_text(api_yaml("orders", context="good"))
    (repo / "loot.yaml").write_text(api_yaml("loot", context="bad"))
    code = main(["sync", str(repo), "--config-dir", str(config), "--output", "json"])
    out = capsys.readouterr().out
    assert code == 1
    assert "Invalid IPv6 URL" in out and "ManagementContext/default/bad" in out
    listed = httpx.post(
        f"{emulator.base_url}/management/v2/organizations/DEFAULT/environments/DEFAULT/apis/_search",
        json={},
        headers={"Authorization": "Bearer emulator-token"},
    ).json()
    assert [api["name"] for api in listed["data"]] == ["orders"]
