"""Canary secrets must not appear in any log line, exception message, traceback or repr.

The canaries are real, working credentials of the emulator, so every code path that uses them (success,
401, validation error, unreachable server, context check) runs for real. Logging is captured at debug
level twice: structlog rendered *without* the redacting processor (the client must not log secrets in
the first place), and the standard library loggers (httpx, httpcore) at DEBUG.
"""

from __future__ import annotations

import base64
import io
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from reconciler.apim import ApimClient, ApimError, ApimTarget
from reconciler.contexts.check import check_contexts
from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator
from reconciler.report.contexts import render_context_checks
from reconciler.secrets import Credentials, Redactor, Secret, SecretStore, resolve_credentials
from tests.apim.helpers import FAST, api_spec, closed_port, run
from tests.secrets.helpers import context, secret_volume

CANARY_TOKEN = "cnry-tok-5b0e1f7a9c"
CANARY_PASSWORD = "cnry-pw-0c3d8e2b71"
CANARY_USER = "cnry-user-ops"
CANARIES = (
    CANARY_TOKEN,
    CANARY_PASSWORD,
    base64.b64encode(f"{CANARY_USER}:{CANARY_PASSWORD}".encode()).decode(),
)

USERS: dict[str, Any] = {
    "organizations": [
        {"id": "DEFAULT", "name": "Default", "environments": [{"id": "DEFAULT", "name": "Default"}]}
    ],
    "users": [
        {
            "username": CANARY_USER,
            "password": CANARY_PASSWORD,
            "tokens": [CANARY_TOKEN],
            "organizations": ["*"],
        }
    ],
}


@pytest.fixture
def canary_emulator() -> Iterator[RunningEmulator]:
    with start_emulator(EmulatorConfig(users=USERS)) as emu:
        yield emu


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    out = io.StringIO()
    old = structlog.get_config()
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.format_exc_info,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    caplog.set_level(logging.DEBUG)
    try:
        yield out
    finally:
        structlog.configure(**old)


def assert_clean(*texts: str) -> None:
    for text in texts:
        for canary in CANARIES:
            assert canary not in text


def describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)


def test_no_canary_in_logs_errors_or_reprs(
    canary_emulator: RunningEmulator, captured: io.StringIO, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    secret_volume(tmp_path / "secrets" / "default" / "apim", {"bearerToken": CANARY_TOKEN})
    store = SecretStore(
        tmp_path / "secrets",
        None,
        environ={
            "APIM_SECRET_DEFAULT_BASIC_USERNAME": CANARY_USER,
            "APIM_SECRET_DEFAULT_BASIC_PASSWORD": CANARY_PASSWORD,
            "APIM_SECRET_DEFAULT_BASIC_BASEURL": canary_emulator.base_url,
            "APIM_SECRET_DEFAULT_APIM_BASEURL": canary_emulator.base_url,
        },
        redactor=Redactor(),
    )
    url = canary_emulator.base_url
    contexts = [
        context({"baseUrl": url, "auth": {"secretRef": {"name": "apim"}}}, name="token"),
        context({"baseUrl": url, "auth": {"secretRef": {"name": "basic"}}}, name="basic"),
        context(
            {
                "baseUrl": url,
                "auth": {"credentials": {"username": CANARY_USER, "password": CANARY_PASSWORD + "x"}},
            },
            name="wrong",
        ),
        context(
            {"baseUrl": f"http://127.0.0.1:{closed_port()}", "auth": {"bearerToken": CANARY_TOKEN}},
            name="dead",
        ),
    ]
    results = check_contexts(contexts, store, FAST)
    assert [r.ok for r in results] == [True, False, True, False]  # sorted by name: basic, dead, token, wrong
    texts = [render_context_checks(results), repr(results)]

    errors: list[BaseException] = []

    async def go() -> None:
        creds = resolve_credentials(contexts[0], store)
        texts.append(repr(creds))
        async with ApimClient(ApimTarget.from_context_spec({"baseUrl": url}), creds, FAST) as c:
            texts.append(repr(c))
            body = api_spec()
            body["description"] = Secret(CANARY_PASSWORD)
            await c.put_automation("apis", body)
            bad = api_spec("default-bad")
            bad["name"] = None
            bad["description"] = Secret(CANARY_PASSWORD)
            try:
                await c.put_automation("apis", bad)
            except ApimError as exc:
                errors.append(exc)
            texts.append(repr(c.stats))
        wrong = Credentials(bearer=Secret(CANARY_TOKEN + "-revoked"))
        async with ApimClient(ApimTarget.from_context_spec({"baseUrl": url}), wrong, FAST) as c:
            try:
                await c.check_context()
            except ApimError as exc:
                errors.append(exc)

    run(go())
    assert len(errors) == 2
    texts.extend(describe(e) for e in errors)
    texts.append(captured.getvalue())
    texts.append(caplog.text)
    texts.extend(repr(r.__dict__) for r in caplog.records)
    assert "apim.request" in captured.getvalue()  # debug logging did happen
    assert_clean(*texts)


def test_a_server_that_echoes_credentials_back_is_scrubbed(tmp_path: Path) -> None:
    """Mocked transport: a (buggy or hostile) server quoting the Authorization header in its error."""
    store = SecretStore(tmp_path, None, environ={"APIM_SECRET_DEFAULT_APIM_BEARERTOKEN": CANARY_TOKEN})
    creds = resolve_credentials(
        context({"baseUrl": "http://x", "auth": {"secretRef": {"name": "apim"}}}), store
    )

    def handler(request: httpx.Request) -> httpx.Response:
        header = request.headers["Authorization"]
        return httpx.Response(
            400, json={"httpStatus": 400, "message": f"bad header {header}", "details": [{"message": header}]}
        )

    async def go() -> ApimError:
        target = ApimTarget.from_context_spec({"baseUrl": "http://apim.test"})
        async with ApimClient(target, creds, FAST, transport=httpx.MockTransport(handler)) as c:
            with pytest.raises(ApimError) as info:
                await c.check_context()
            return info.value

    error = run(go())
    assert "(sensitive)" in str(error)
    assert_clean(describe(error))
