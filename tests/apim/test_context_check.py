"""check-context over real HTTP: who and where each ManagementContext reaches, or exactly why not."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.apim import AuthenticationError
from reconciler.contexts import connect_context
from reconciler.contexts.check import CheckFailure, check_contexts
from reconciler.emulator import RunningEmulator
from reconciler.manifests.model import API_V4_DEFINITION
from reconciler.report.contexts import render_context_checks
from reconciler.secrets import Redactor, SecretResolutionError, SecretStore
from tests.apim.helpers import FAST, closed_port, run
from tests.secrets.helpers import context, resource, rotate, secret_volume


def make_store(tmp_path: Path, environ: dict[str, str] | None = None) -> SecretStore:
    return SecretStore(tmp_path / "secrets", tmp_path / "config", environ=environ or {}, redactor=Redactor())


def test_results_for_each_kind_of_context(emulator: RunningEmulator, tmp_path: Path) -> None:
    url = emulator.base_url
    store = make_store(
        tmp_path,
        {
            "APIM_SECRET_DEFAULT_APIM_PROD_BEARERTOKEN": "emulator-token",
            "APIM_SECRET_DEFAULT_APIM_PROD_BASEURL": url,
        },
    )
    contexts = [
        context({"baseUrl": url + "/management", "auth": {"secretRef": {"name": "apim-prod"}}}, name="a-ok"),
        context(
            {"baseUrl": url, "auth": {"credentials": {"username": "admin", "password": "no"}}}, name="b-401"
        ),
        context(
            {"baseUrl": url, "environmentId": "NOPE", "auth": {"bearerToken": "emulator-token"}}, name="c-env"
        ),
        context({"baseUrl": url, "auth": {"secretRef": {"name": "missing"}}}, name="d-secret"),
        context(
            {"baseUrl": f"http://127.0.0.1:{closed_port()}", "auth": {"bearerToken": "t"}}, name="e-down"
        ),
        context({"baseUrl": "not a url", "auth": {"bearerToken": "t"}}, name="f-config"),
        resource(API_V4_DEFINITION, {"name": "ignored"}, name="an-api"),
    ]
    results = check_contexts(contexts, store, FAST)
    by_name = {r.context.name: r for r in results}
    assert list(by_name) == ["a-ok", "b-401", "c-env", "d-secret", "e-down", "f-config"]
    ok = by_name["a-ok"]
    assert ok.ok and ok.environment_name == "Default environment"
    assert ok.capabilities is not None and ok.capabilities.problems() == []
    assert ok.capabilities.organization_admin and ok.capabilities.automation_applications
    assert ok.auth == "bearer token (personal access token)" and ok.server == url
    assert ok.binding == f"secret default/apim-prod key baseUrl ({url})"
    assert by_name["b-401"].failure is CheckFailure.AUTHENTICATION
    assert by_name["c-env"].failure is CheckFailure.NOT_FOUND
    assert by_name["d-secret"].failure is CheckFailure.SECRET
    assert "APIM_SECRET_DEFAULT_MISSING_BEARERTOKEN" in by_name["d-secret"].message
    assert by_name["e-down"].failure is CheckFailure.UNREACHABLE
    assert by_name["f-config"].failure is CheckFailure.CONFIGURATION

    text = render_context_checks(results)
    assert "ctx.yml:1:1: default/a-ok: ok" in text
    assert "FAILED (authentication)" in text
    assert "1 of 6 context(s) reachable" in text


def test_templated_credentials_in_a_context(emulator: RunningEmulator, tmp_path: Path) -> None:
    store = make_store(tmp_path, {"APIM_VAR_TOKEN": "emulator-token"})
    ctx = context({"baseUrl": emulator.base_url, "auth": {"bearerToken": "[[ env `APIM_VAR_TOKEN` ]]"}})
    (refused,) = check_contexts([ctx], store, FAST)
    assert refused.failure is CheckFailure.NOT_BOUND  # a variable has no key beside it: the flag binds it
    assert "environment variable APIM_VAR_TOKEN" in refused.message
    (result,) = check_contexts([ctx], store, replace(FAST, allowed_urls=(emulator.base_url,)))
    assert result.ok, result.message


def test_rotated_token_is_used_without_restart(emulator: RunningEmulator, tmp_path: Path) -> None:
    """The client asks the store for credentials per request, so a `..data` swap mid-run takes effect."""
    bound = {"baseUrl": emulator.base_url}
    volume = secret_volume(
        tmp_path / "secrets" / "default" / "apim", {"bearerToken": "revoked-token", **bound}
    )
    store = make_store(tmp_path)
    ctx = context({"baseUrl": emulator.base_url, "auth": {"secretRef": {"name": "apim"}}})

    async def go() -> None:
        async with connect_context(ctx, store, FAST, live=True) as c:
            with pytest.raises(AuthenticationError):
                await c.check_context()
            rotate(volume, {"bearerToken": "emulator-token", **bound})
            await c.check_context()

    run(go())


def test_connect_context_reports_a_missing_secret_before_any_request(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    ctx = context({"baseUrl": emulator.base_url, "auth": {"secretRef": {"name": "absent"}}})
    with pytest.raises(SecretResolutionError, match="secret default/absent"):
        connect_context(ctx, make_store(tmp_path), FAST)
    assert emulator.stats()["total"] == 0
