"""Retries against injected faults, counted by the emulator: backoff, Retry-After, budget, fail-fast."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import replace

import httpx
import pytest

from reconciler.apim import (
    ApimClient,
    ApimTarget,
    ClientConfig,
    RateLimitedError,
    RetryBudgetExhaustedError,
    RetryCoordinator,
    RetryPolicy,
    ServerError,
    Timeouts,
    TransportError,
)
from reconciler.apim.retry import backoff_delay, http_date, parse_retry_after
from reconciler.emulator import Fault, RunningEmulator
from tests.apim.helpers import FAST, FAST_RETRY, api_spec, bearer, client, closed_port, run

ENV_ROUTE = "GET /management/v2/organizations/{orgId}/environments/{envId}"
ENV_PATH = "/management/v2/organizations/DEFAULT/environments/DEFAULT"
PUT_ROUTE = "PUT /automation/organizations/{orgId}/environments/{envId}/apis"
SEARCH_ROUTE = "POST /management/v2/organizations/{orgId}/environments/{envId}/apis/_search"
LIST_ROUTE = "GET /management/v2/organizations/{orgId}/environments/{envId}/apis"


def count(emulator: RunningEmulator, route: str) -> int:
    return int(emulator.stats()["requests"].get(route, 0))


@pytest.mark.parametrize("action", ["502", "504", "reset"])
def test_transient_failures_are_retried(emulator: RunningEmulator, action: str) -> None:
    emulator.set_faults([Fault.parse(f"GET {ENV_PATH}={action}:2")])

    async def go() -> None:
        async with client(emulator.base_url) as c:
            await c.check_context()
            assert c.stats.retries == 2

    run(go())
    assert count(emulator, ENV_ROUTE) == 3


def test_a_hung_request_times_out_and_is_retried(emulator: RunningEmulator) -> None:
    emulator.set_faults([Fault.parse(f"GET {ENV_PATH}=hang:1")])
    config = replace(FAST, timeouts=Timeouts(connect=1, read=0.3, write=1, pool=1))

    async def go() -> None:
        async with client(emulator.base_url, config=config) as c:
            await c.check_context()

    run(go())
    assert count(emulator, ENV_ROUTE) == 2


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(emulator: RunningEmulator, status: int) -> None:
    emulator.set_faults([Fault.parse(f"GET {ENV_PATH}={status}:1")])  # the emulator sends Retry-After: 1

    async def go() -> float:
        async with client(emulator.base_url) as c:
            started = time.monotonic()
            await c.check_context()
            return time.monotonic() - started

    assert run(go()) >= 0.95
    assert count(emulator, ENV_ROUTE) == 2


def test_a_429_pauses_every_request_to_the_server(emulator: RunningEmulator) -> None:
    emulator.set_faults([Fault.parse("GET */apis/default-limited=429:1")])

    async def go() -> float:
        async with client(emulator.base_url) as c:
            started = time.monotonic()

            async def other() -> float:
                await asyncio.sleep(0.2)  # by now the first request has been told to wait 1 s
                await c.get_automation("apis", "default-other")
                return time.monotonic() - started

            _, elapsed = await asyncio.gather(c.get_automation("apis", "default-limited"), other())
            return elapsed

    assert run(go()) >= 0.9


def test_a_500_on_put_is_reported_not_retried(emulator: RunningEmulator) -> None:
    emulator.set_faults([Fault.parse("PUT */apis=500")])

    async def go(config: ClientConfig) -> None:
        async with client(emulator.base_url, config=config) as c:
            with pytest.raises(ServerError) as info:
                await c.put_automation("apis", api_spec())
            assert info.value.status == 500

    run(go(FAST))
    assert count(emulator, PUT_ROUTE) == 1
    emulator.reset_stats()
    run(go(replace(FAST, retry=replace(FAST_RETRY, retry_server_error_once=True))))
    assert count(emulator, PUT_ROUTE) == 2


def test_the_listing_is_retried_but_a_post_is_not(emulator: RunningEmulator) -> None:
    emulator.set_faults([Fault.parse("GET */apis=502:1")])

    async def go() -> None:
        async with client(emulator.base_url) as c:
            assert [a async for a in c.list_apis()] == []
            emulator.set_faults([Fault.parse("POST */apis/_search=502:1")])
            with pytest.raises(ServerError):
                await c.request("POST", f"{c.target.mapi_v2_env}/apis/_search", body={})

    run(go())
    assert count(emulator, LIST_ROUTE) == 2
    assert count(emulator, SEARCH_ROUTE) == 1


def test_retry_budget_is_shared_and_then_fails_fast(emulator: RunningEmulator) -> None:
    emulator.set_faults([Fault.parse(f"GET {ENV_PATH}=502")])
    retry = RetryCoordinator(replace(FAST_RETRY, max_attempts=10, budget=3))
    config = replace(FAST, retry=retry.policy)

    async def go() -> None:
        async with (
            client(emulator.base_url, config=config, retry=retry) as a,
            client(emulator.base_url, config=config, retry=retry) as b,
        ):
            with pytest.raises(ServerError):
                await a.check_context()  # 1 try + the whole budget of 3 retries
            with pytest.raises(RetryBudgetExhaustedError, match="retry budget"):
                await b.check_context()  # another client, same server: not even sent
            retry.new_sync()
            emulator.set_faults([])
            await b.check_context()

    run(go())
    assert count(emulator, ENV_ROUTE) == 5


def test_a_dead_server_does_not_stall() -> None:
    target = ApimTarget.from_context_spec({"baseUrl": f"http://127.0.0.1:{closed_port()}"})

    async def go() -> None:
        async with ApimClient(target, bearer(), FAST) as c:
            with pytest.raises(TransportError, match="cannot connect"):
                await c.check_context()
            for _ in range(20):
                with pytest.raises(TransportError):
                    await c.get_automation("apis", "x")
            # No clock (the machine is shared): what would stall is retrying, so attempts are counted.
            # The retries stay within the budget, so each call is sent once, bar those retries.
            assert c.stats.retries <= FAST_RETRY.budget
            assert c.stats.total <= 21 + c.stats.retries

    run(go())


def test_a_retry_after_longer_than_allowed_is_an_error_at_once() -> None:
    """Mocked transport: the emulator always sends `Retry-After: 1`."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(
            429, headers={"Retry-After": "3600"}, json={"httpStatus": 429, "message": "slow"}
        )

    async def go() -> None:
        target = ApimTarget.from_context_spec({"baseUrl": "http://apim.test"})
        async with ApimClient(target, bearer(), FAST, transport=httpx.MockTransport(handler)) as c:
            with pytest.raises(RateLimitedError, match="3600s"):
                await c.check_context()

    run(go())
    assert calls == ["GET"]


def test_retry_after_as_an_http_date() -> None:
    """Mocked transport: the emulator only sends delta-seconds."""
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return httpx.Response(503, headers={"Retry-After": http_date(-5)})
        return httpx.Response(200, json={"id": "DEFAULT"})

    async def go() -> None:
        target = ApimTarget.from_context_spec({"baseUrl": "http://apim.test"})
        async with ApimClient(target, bearer(), FAST, transport=httpx.MockTransport(handler)) as c:
            await c.check_context()

    run(go())
    assert len(calls) == 2


def test_parse_retry_after() -> None:
    stamp = 1_800_000_010.0  # Fri, 15 Jan 2027 08:00:10 GMT
    date = "Fri, 15 Jan 2027 08:00:10 GMT"
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(date, now=lambda: stamp - 10) == pytest.approx(10.0)
    assert parse_retry_after(date, now=lambda: stamp + 10) == 0.0  # in the past: no wait
    # the date is made from the clock between `before` and `after`, and rounded down to the second
    before = time.time()
    when = http_date(30)
    after = time.time()
    assert 29 < (parse_retry_after(when, now=lambda: before) or 0) <= 30 + (after - before)
    for bad in (None, "", "soon", "-3", "nan"):
        assert parse_retry_after(bad) is None


def test_backoff_is_full_jitter_and_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4)
    rng = random.Random(1)
    samples = [backoff_delay(n, policy, rng) for n in range(12) for _ in range(50)]
    assert min(samples) >= 0 and max(samples) <= 4
    assert max(backoff_delay(0, policy, rng) for _ in range(200)) <= 0.5
