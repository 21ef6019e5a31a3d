"""TLS with a CA made in the test (trustme) and HTTP proxies from the environment, all on 127.0.0.1.

The emulator speaks plain HTTP, so TLS is terminated by a small asyncio TLS server in front of it.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import structlog
import structlog.testing

from reconciler.apim import ClientConfig, TlsOptions, TransportError
from reconciler.cli import main
from reconciler.emulator import RunningEmulator
from tests.apim.helpers import FAST, CountingProxy, client, run, tls_terminator

# trustme (test-only, pin trustme>=1.2.1,<2) must be in the `test` extra for CI; skipped if absent.
trustme = pytest.importorskip("trustme")


@pytest.fixture
def https_url(emulator: RunningEmulator, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with tls_terminator(emulator.port, server_context) as port:
        yield f"https://127.0.0.1:{port}", bundle


def test_self_signed_server_is_refused_by_default(
    https_url: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    url, _ = https_url

    async def go() -> None:
        async with client(url) as c:
            with pytest.raises(TransportError, match="TLS certificate verification failed"):
                await c.check_context()
            assert c.stats.retries == 0  # a bad certificate is not transient

    run(go())


def test_ca_bundle_option(https_url: tuple[str, Path]) -> None:
    url, bundle = https_url

    async def go() -> None:
        async with client(url, config=replace(FAST, tls=TlsOptions(ca_bundle=bundle))) as c:
            env = await c.check_context()
            assert env.id == "DEFAULT"

    run(go())


def test_per_context_override(https_url: tuple[str, Path]) -> None:
    url, bundle = https_url
    config = replace(FAST, tls_overrides={"default/secure": TlsOptions(ca_bundle=bundle)})

    async def go() -> None:
        async with client(url, config=config, context_key="default/secure") as c:
            await c.check_context()
        async with client(url, config=config, context_key="default/other") as c:
            with pytest.raises(TransportError):
                await c.check_context()

    run(go())


def test_insecure_skip_verify_works_and_warns(https_url: tuple[str, Path]) -> None:
    url, _ = https_url

    async def go() -> None:
        config = replace(FAST, tls=TlsOptions(insecure_skip_verify=True))
        async with client(url, config=config) as c:
            await c.check_context()

    with structlog.testing.capture_logs() as logs:
        run(go())
    assert any(e["event"] == "apim.tls_verification_disabled" and e["log_level"] == "warning" for e in logs)


def test_http_proxy_from_the_environment(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with CountingProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy.port}")

        async def go(config: ClientConfig) -> None:
            async with client(emulator.base_url, config=config) as c:
                await c.check_context()
                await c.get_automation("apis", "default-x")

        run(go(FAST))
        assert len(proxy.requests) == 2
        assert proxy.requests[0].startswith(f"GET {emulator.base_url}/management/v2/")

        run(go(replace(FAST, trust_env=False)))  # proxies from the environment ignored
        assert len(proxy.requests) == 2

        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        monkeypatch.setenv("no_proxy", "127.0.0.1")
        run(go(FAST))
        assert len(proxy.requests) == 2


def test_cli_trusts_a_ca_for_one_context_only(
    https_url: tuple[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--context-ca-bundle default/secure=FILE`: that context verifies against the test CA, the others not."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    url, bundle = https_url
    for name in ("secure", "other"):
        (tmp_path / f"{name}.yaml").write_text(
            "apiVersion: gravitee.io/v1alpha1\nkind: ManagementContext\n"
            f"metadata:\n  name: {name}\nspec:\n  baseUrl: {url}\n  environmentId: DEFAULT\n"
            "  organizationId: DEFAULT\n"
            "  auth:\n    bearerToken: emulator-token\n"
        )
    code = main(
        [
            "check-context",
            str(tmp_path),
            "--context-ca-bundle",
            f"default/secure={bundle}",
            "--output",
            "json",
        ]
    )
    results = {r["context"]["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert code == 1
    assert results["secure"]["ok"] and not results["other"]["ok"]
    assert results["other"]["failure"] == "unreachable"
