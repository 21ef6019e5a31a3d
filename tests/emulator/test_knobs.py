"""Latency, in-flight cap, faults, statistics, state dump/load and persistence."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator import Fault, RunningEmulator
from reconciler.emulator.server import DELAY_HEADER
from tests.emulator.support import AUTO, V2

AUTH = ("admin", "admin")


def _get(emu: RunningEmulator, path: str = V2, timeout: float = 5) -> httpx.Response:
    return httpx.get(emu.base_url + path, auth=AUTH, timeout=timeout)


def test_latency_and_jitter(make_emulator: Any) -> None:
    # No upper bound on any time (the machine is shared): the emulator reports the delay it drew, and
    # a lower bound, measured around the request alone on an open connection, shows it was slept.
    emu = make_emulator(latency_ms=100, jitter_ms=40, seed=1)
    with httpx.Client(base_url=emu.base_url, auth=AUTH, timeout=30) as client:
        assert client.get("/_emulator/health").status_code == 200  # connected before anything is timed
        delays = []
        for _ in range(4):
            start = time.perf_counter()
            response = client.get(V2)
            elapsed_ms = (time.perf_counter() - start) * 1000
            assert response.status_code == 200
            delay = float(response.headers[DELAY_HEADER])
            assert 100 <= delay <= 140
            assert elapsed_ms >= delay - 1  # the sleep ran (1 ms: the clock's and the rounding's slack)
            delays.append(delay)
        assert len(set(delays)) == 4  # jitter: a new delay drawn for each request
        control = client.get("/_emulator/stats")
    assert control.status_code == 200 and DELAY_HEADER not in control.headers  # control endpoints: no delay
    undelayed = make_emulator()
    assert DELAY_HEADER not in _get(undelayed).headers  # no knob, no header: the answers stay APIM's


def test_max_inflight_queues(make_emulator: Any) -> None:
    emu = make_emulator(latency_ms=100, max_inflight=1)
    start = time.perf_counter()
    with ThreadPoolExecutor(3) as pool:
        statuses = list(pool.map(lambda _: _get(emu).status_code, range(3)))
    elapsed = time.perf_counter() - start
    assert statuses == [200, 200, 200]
    assert elapsed >= 0.3  # served one after the other, none refused


@pytest.mark.parametrize(("status", "retry_after"), [(500, False), (503, True), (429, True)])
def test_status_faults(emulator: RunningEmulator, status: int, retry_after: bool) -> None:
    emulator.set_faults([Fault.parse(f"GET */environments/*={status}:1")])
    r = _get(emulator)
    assert r.status_code == status
    assert r.json()["httpStatus"] == status
    assert ("retry-after" in r.headers) is retry_after
    assert _get(emulator).status_code == 200  # count 1: spent


def test_reset_fault(emulator: RunningEmulator) -> None:
    emulator.set_faults([Fault.parse("GET *=reset:1")])
    with pytest.raises(httpx.TransportError):
        _get(emulator)
    assert _get(emulator).status_code == 200


def test_empty_success_faults_answer_without_the_object_and_store_nothing(
    emulator: RunningEmulator, api_spec: dict[str, Any]
) -> None:
    emulator.set_faults([Fault.parse("PUT */apis=empty:1"), Fault.parse("PUT */apis=nocontent:1")])
    empty = httpx.put(emulator.base_url + AUTO + "/apis", json=api_spec, auth=AUTH)
    assert (empty.status_code, empty.json()) == (200, {})
    none = httpx.put(emulator.base_url + AUTO + "/apis", json=api_spec, auth=AUTH)
    assert (none.status_code, none.content) == (204, b"")
    assert emulator.dump_state()["apis"] == []  # neither request was processed
    assert httpx.put(emulator.base_url + AUTO + "/apis", json=api_spec, auth=AUTH).json()["hrid"]


def test_hang_fault(emulator: RunningEmulator) -> None:
    emulator.set_faults([Fault.parse("GET */environments/DEFAULT=hang")])
    start = time.perf_counter()
    with pytest.raises(httpx.ReadTimeout):
        _get(emulator, timeout=0.2)
    assert time.perf_counter() - start >= 0.2  # no answer: the client gave up at its own timeout
    emulator.set_faults([])
    assert _get(emulator).status_code == 200


def test_rate_fault_and_method_filter(make_emulator: Any) -> None:
    emu = make_emulator(faults=(Fault.parse("GET */environments/*=503:0.5"),), seed=7)
    with httpx.Client(base_url=emu.base_url, auth=AUTH) as client:
        codes = [client.get(V2).status_code for _ in range(200)]
        assert client.put(f"{AUTO}/apis", json={}).status_code == 400  # PUT is not faulted
    failed = codes.count(503)
    assert 60 < failed < 140 and failed + codes.count(200) == 200


def test_fault_parsing() -> None:
    fault = Fault.parse("PUT */apis=503:0.1")
    assert (fault.method, fault.path_glob, fault.action, fault.rate, fault.count) == (
        "PUT",
        "*/apis",
        "503",
        0.1,
        None,
    )
    assert Fault.parse("* *=reset:3").count == 3
    assert Fault.from_json({"method": "get", "path": "*", "action": "HANG"}) == Fault("GET", "*", "hang")
    for bad in (
        "PUT */apis",
        "PUT */apis=boom",
        "PUT */apis=503:1.5",
        "PUT */apis=503:0",
        "PUT */apis=503:x",
    ):
        with pytest.raises(ValueError):
            Fault.parse(bad)


def test_faults_over_http(emulator: RunningEmulator) -> None:
    faults = [
        {"method": "GET", "path": "*/environments/*", "action": "503", "count": 2},
        "PUT */apis=500:0.5",
    ]
    r = httpx.put(f"{emulator.base_url}/_emulator/faults", json=faults)
    assert r.status_code == 200
    assert r.json()[0] == {
        "method": "GET",
        "path": "*/environments/*",
        "action": "503",
        "count": 2,
        "remaining": 2,
    }
    assert [_get(emulator).status_code for _ in range(3)] == [503, 503, 200]
    assert httpx.get(f"{emulator.base_url}/_emulator/faults").json()[0]["remaining"] == 0
    assert (
        httpx.put(f"{emulator.base_url}/_emulator/faults", json=[{"path": "*", "action": "nope"}]).status_code
        == 400
    )
    assert httpx.put(f"{emulator.base_url}/_emulator/faults", json=[]).json() == []


def test_stats_and_reset(emulator: RunningEmulator, client: httpx.Client, api_spec: dict[str, Any]) -> None:
    client.put(f"{AUTO}/apis", json=api_spec)
    for _ in range(3):
        client.get(f"{AUTO}/apis/{api_spec['hrid']}")
    client.get("/nowhere")
    expected = {
        "requests": {
            "GET (unmatched)": 1,
            "GET /automation/organizations/{orgId}/environments/{envId}/apis/{hrid}": 3,
            "PUT /automation/organizations/{orgId}/environments/{envId}/apis": 1,
        },
        "total": 5,
    }
    assert emulator.stats() == expected
    assert httpx.get(f"{emulator.base_url}/_emulator/stats").json() == expected
    assert httpx.post(f"{emulator.base_url}/_emulator/reset").status_code == 204
    assert emulator.stats() == {"requests": {}, "total": 0}
    client.get(V2)
    emulator.reset_stats()
    assert emulator.stats()["total"] == 0


def test_state_dump_and_load(
    emulator: RunningEmulator, make_emulator: Any, client: httpx.Client, api_spec: dict[str, Any]
) -> None:
    client.put(f"{AUTO}/apis", json=api_spec)
    state = client.get(f"{AUTO}/apis/{api_spec['hrid']}").json()
    dumped = emulator.dump_state()
    assert httpx.get(f"{emulator.base_url}/_emulator/state").json() == dumped
    assert [a["id"] for a in dumped["apis"]] == [state["id"]]

    other = make_emulator()
    other.load_state(dumped)
    r = httpx.get(f"{other.base_url}{AUTO}/apis/{api_spec['hrid']}", auth=AUTH)
    assert r.json() == state
    third = make_emulator()
    assert httpx.put(f"{third.base_url}/_emulator/state", json=dumped).status_code == 204
    assert httpx.get(f"{third.base_url}{V2}/apis/{state['id']}", auth=AUTH).status_code == 200
    assert httpx.put(f"{third.base_url}/_emulator/state", json={"format": "other"}).status_code == 400
    # paths are indexed after a load: a clash is still detected
    clash = httpx.put(f"{third.base_url}{AUTO}/apis", json=api_spec | {"hrid": "default-x"}, auth=AUTH)
    assert clash.status_code == 400


def test_state_file_persistence(make_emulator: Any, tmp_path: Path, api_spec: dict[str, Any]) -> None:
    state_file = tmp_path / "state" / "emulator.json"
    first = make_emulator(state_file=state_file)
    created = httpx.put(f"{first.base_url}{AUTO}/apis", json=api_spec, auth=AUTH).json()
    first.close()
    saved = json.loads(state_file.read_text())
    assert [a["id"] for a in saved["apis"]] == [created["id"]]
    assert [p.name for p in state_file.parent.iterdir()] == ["emulator.json"]  # no temp files left

    second = make_emulator(state_file=state_file)
    again = httpx.put(f"{second.base_url}{AUTO}/apis", json=api_spec, auth=AUTH).json()
    assert again["id"] == created["id"]  # found again by its crossId after the restart
    # a real PUT always updates (and redeploys): no "unchanged" shortcut (ImportApiCRDUseCase.update)
    assert json.loads(state_file.read_text())["apis"][0]["updatedAt"] > saved["apis"][0]["updatedAt"]
    assert httpx.delete(f"{second.base_url}{AUTO}/apis/{api_spec['hrid']}", auth=AUTH).status_code == 204
    assert json.loads(state_file.read_text())["apis"] == []


def test_the_state_file_keeps_tokens_minted_and_revoked_before_a_restart(
    make_emulator: Any, tmp_path: Path
) -> None:
    """A real APIM keeps users, roles and tokens in its database: a service account's token works
    after a restart, a revoked one stays revoked, role ids stay the same, and the file holds no token
    value (APIM keeps only a BCrypt encoding of it; the emulator a SHA-256 digest)."""
    org = "/management/organizations/DEFAULT"
    state_file = tmp_path / "emulator.json"
    first = make_emulator(state_file=state_file)
    user = httpx.post(
        f"{first.base_url}{org}/users", json={"service": True, "lastname": "robot"}, auth=AUTH
    ).json()
    roles = httpx.get(f"{first.base_url}{org}/configuration/rolescopes/ORGANIZATION/roles", auth=AUTH).json()
    admin_role = next(r["id"] for r in roles if r["name"] == "ADMIN")
    httpx.put(
        f"{first.base_url}{org}/users/{user['id']}/roles",
        json={
            "user": user["id"],
            "referenceId": "DEFAULT",
            "referenceType": "ORGANIZATION",
            "roles": [admin_role],
        },
        auth=AUTH,
    ).raise_for_status()
    kept, revoked = (
        httpx.post(f"{first.base_url}{org}/users/{user['id']}/tokens", json={"name": name}, auth=AUTH).json()
        for name in ("kept", "revoked")
    )
    httpx.delete(
        f"{first.base_url}{org}/users/{user['id']}/tokens/{revoked['id']}", auth=AUTH
    ).raise_for_status()
    first.close()
    saved = state_file.read_text()
    assert kept["token"] not in saved and revoked["token"] not in saved
    assert "emulator-token" not in saved  # the users file's own tokens are seeded, not written

    second = make_emulator(state_file=state_file)
    assert "identity" not in httpx.get(f"{second.base_url}/_emulator/state").json()  # never served
    me = httpx.get(f"{second.base_url}{org}/user", headers={"Authorization": f"Bearer {kept['token']}"})
    assert me.status_code == 200 and me.json()["id"] == user["id"]
    gone = httpx.get(f"{second.base_url}{org}/user", headers={"Authorization": f"Bearer {revoked['token']}"})
    assert gone.status_code == 401
    listed = httpx.get(f"{second.base_url}{org}/users/{user['id']}/tokens", auth=AUTH).json()
    assert [t["name"] for t in listed] == ["kept"]
    roles_after = httpx.get(
        f"{second.base_url}{org}/configuration/rolescopes/ORGANIZATION/roles", auth=AUTH
    ).json()
    assert next(r["id"] for r in roles_after if r["name"] == "ADMIN") == admin_role
    assert httpx.get(f"{second.base_url}{org}/users/{user['id']}", auth=AUTH).json()["id"] == user["id"]
    assert (
        httpx.get(f"{second.base_url}{V2}", headers={"Authorization": "Bearer emulator-token"}).status_code
        == 200
    )
