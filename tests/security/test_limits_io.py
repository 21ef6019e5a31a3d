"""Bounded I/O: an APIM that trickles or floods cannot hang a sync nor fill the reconciler's memory.

No upper bound on any time (the machine is shared): that a sync finishes is shown by the bounded
number of attempts it made, and each limit by the message naming it; lower bounds show the deadline
was waited for, not cut short.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest

from reconciler.apim import ApimClient, ApimTarget, ClientConfig, RetryPolicy, Timeouts, TransportError
from reconciler.apim.errors import UnexpectedResponseError
from reconciler.cli import main
from tests.apim.helpers import bearer
from tests.apply.helpers import Repo, api_yaml, set_token_env
from tests.security.limits_support import endless, misbehaving_server, trickle

ONE_TRY = RetryPolicy(max_attempts=1)


def config(**overrides: object) -> ClientConfig:
    values: dict[str, object] = {
        "timeouts": Timeouts(connect=2, read=2, write=2, pool=2, attempt=1),
        "retry": ONE_TRY,
    }
    values.update(overrides)
    return ClientConfig(**values)  # type: ignore[arg-type]


def test_a_trickling_server_fails_the_attempt_at_its_deadline() -> None:
    """Four bytes a second: each read gets data well inside its 2 s timeout, so only the attempt's
    own deadline (1 s) can end it."""

    async def go() -> None:
        async with ApimClient(ApimTarget.from_context_spec({"baseUrl": url}), bearer(), config()) as c:
            with pytest.raises(TransportError) as info:
                await c.check_context()
        assert "no complete answer within 1 s" in str(info.value)

    with misbehaving_server(trickle(4)) as url:
        started = time.monotonic()
        asyncio.run(go())
        assert time.monotonic() - started >= 1  # the attempt ran to its deadline


def test_sync_against_a_trickling_apim_finishes_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with misbehaving_server(trickle(4)) as url:
        set_token_env(monkeypatch, url)
        repo = Repo(tmp_path / "repo", url)
        repo.write("orders.yaml", api_yaml("orders"))
        started = time.monotonic()
        code = main(["sync", str(repo.root), "--timeout", "1", "--output", "json"])
        elapsed = time.monotonic() - started
    out = capsys.readouterr().out
    assert code == 1
    assert "too slow: no complete answer within 1 s" in out
    # far from "forever": the two listings (APIs, applications), each tried at most max_attempts
    # times, each attempt run to its 1 s deadline
    sent = json.loads(out)["requests"]
    assert set(sent) == {"GET"} and 2 <= sent["GET"] <= 2 * RetryPolicy().max_attempts
    assert elapsed >= 1


@pytest.mark.parametrize("own_transport", [False, True], ids=["lanes", "httpx-transport"])
def test_an_endless_body_is_refused_at_the_limit(own_transport: bool) -> None:
    """Both transports: the lanes, and httpx's own (kept when proxies come from the environment)."""

    async def go() -> None:
        transport = httpx.AsyncHTTPTransport() if own_transport else None
        limited = config(max_response_size=1024 * 1024)
        target = ApimTarget.from_context_spec({"baseUrl": url})
        async with ApimClient(target, bearer(), limited, transport=transport) as c:
            with pytest.raises(UnexpectedResponseError) as info:
                await c.check_context()
        assert "larger than 1048576 bytes (--max-response-size)" in str(info.value)

    with misbehaving_server(endless()) as url:
        asyncio.run(go())


def test_sync_refuses_an_oversized_listing_for_that_context(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with misbehaving_server(endless()) as url:
        set_token_env(monkeypatch, url)
        repo = Repo(tmp_path / "repo", url)
        repo.write("orders.yaml", api_yaml("orders"))
        code = main(["sync", str(repo.root), "--max-response-size", "100000", "--output", "json"])
    out = capsys.readouterr().out
    assert code == 1
    assert "larger than 100000 bytes (--max-response-size)" in out
