"""The client against the emulator over real HTTP on 127.0.0.1: auth forms, operations, typed errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.apim import (
    ApimClient,
    ApimTarget,
    AuthenticationError,
    ConflictError,
    ContextNotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator
from reconciler.secrets import Secret
from tests.apim.helpers import FAST, api_spec, basic, bearer, client, run

USERS: dict[str, Any] = {
    "organizations": [
        {
            "id": "DEFAULT",
            "name": "Default",
            "environments": [{"id": "DEFAULT", "name": "Default environment"}],
        },
        {"id": "OTHER", "name": "Other", "environments": [{"id": "DEFAULT", "name": "Other env"}]},
    ],
    "users": [
        {
            "username": "admin",
            "password": "admin",
            "tokens": ["emulator-token"],
            "organizations": ["DEFAULT"],
        },
    ],
}


@pytest.mark.parametrize("creds", [bearer(), basic()], ids=["bearer", "basic"])
def test_check_context_with_each_auth_form(emulator: RunningEmulator, creds: Any) -> None:
    async def go() -> None:
        async with client(emulator.base_url + "/management/", creds) as c:
            env = await c.check_context()
            assert (env.id, env.name, env.organization_id) == ("DEFAULT", "Default environment", "DEFAULT")
            assert c.stats.by_method == {"GET": 1}

    run(go())


def test_wrong_credentials_are_an_authentication_error(emulator: RunningEmulator) -> None:
    async def go() -> None:
        for creds in (bearer("nope"), basic("admin", "wrong"), bearer("looks.like.jwt")):
            async with client(emulator.base_url, creds) as c:
                with pytest.raises(AuthenticationError) as info:
                    await c.check_context()
                assert info.value.status == 401
                assert "wrong" not in str(info.value) and "nope" not in str(info.value)

    run(go())


def test_forbidden_organization_is_a_permission_error_with_the_roles_to_grant() -> None:
    with start_emulator(EmulatorConfig(users=USERS)) as emu:
        target = ApimTarget.from_context_spec({"baseUrl": emu.base_url, "organizationId": "OTHER"})

        async def go() -> None:
            async with ApimClient(target, bearer(), FAST) as c:
                with pytest.raises(PermissionDeniedError) as info:
                    await c.check_context()
            assert "ADMIN" in str(info.value) and "API_PUBLISHER" in str(info.value)

        run(go())


def test_unknown_environment_is_a_context_error(emulator: RunningEmulator) -> None:
    target = ApimTarget.from_context_spec({"baseUrl": emulator.base_url, "environmentId": "NOPE"})

    async def go() -> None:
        async with ApimClient(target, bearer(), FAST) as c:
            with pytest.raises(ContextNotFoundError, match="environmentId"):
                await c.check_context()

    run(go())


def test_automation_api_round_trip_and_dry_run(emulator: RunningEmulator) -> None:
    async def go() -> None:
        async with client(emulator.base_url) as c:
            assert await c.has_automation_route("apis") is True
            assert await c.get_automation("apis", "default-echo") is None
            state = await c.put_automation("apis", api_spec(), dry_run=True)
            assert state["hrid"] == "default-echo"
            assert await c.get_automation("apis", "default-echo") is None  # dry run stored nothing
            created = await c.put_automation("apis", api_spec())
            fetched = await c.get_automation("apis", "default-echo")
            assert fetched is not None and fetched["id"] == created["id"]
            assert await c.delete_automation("apis", "default-echo") is True
            assert await c.delete_automation("apis", "default-echo") is False
            assert c.stats.by_method == {"PUT": 3, "GET": 3, "DELETE": 2}

    run(go())


def test_validation_error_keeps_details_for_mapping_to_fields(emulator: RunningEmulator) -> None:
    async def go() -> None:
        async with client(emulator.base_url) as c:
            body = api_spec()
            del body["name"]
            with pytest.raises(ValidationError) as info:
                await c.put_automation("apis", body)
            assert info.value.status == 400
            assert any(d.location and d.location.endswith("name") for d in info.value.details)

    run(go())


def test_path_already_in_use_is_a_conflict(emulator: RunningEmulator) -> None:
    async def go() -> None:
        async with client(emulator.base_url) as c:
            await c.put_automation("apis", api_spec("default-a", "/same"))
            with pytest.raises(ConflictError, match="already exists"):
                await c.put_automation("apis", api_spec("default-b", "/same"))

    run(go())


def test_the_listing_iterates_over_every_page(emulator: RunningEmulator) -> None:
    async def go() -> None:
        async with client(emulator.base_url) as c:
            for i in range(5):
                await c.put_automation("apis", api_spec(f"default-api-{i}", f"/p{i}"))
            before = c.stats.by_method.get("GET", 0)
            found = [api async for api in c.list_apis(per_page=2)]
            assert len(found) == 5 and len({a["id"] for a in found}) == 5
            assert c.stats.by_method["GET"] - before == 3  # pages of 2, 2, 1
            one = await c.get_api_by_id(found[0]["id"])
            assert one["id"] == found[0]["id"]

    run(go())


def test_secret_values_in_a_body_are_revealed_only_on_the_wire(emulator: RunningEmulator) -> None:
    async def go() -> None:
        async with client(emulator.base_url) as c:
            body = api_spec()
            body["description"] = Secret("sent in clear to the server only")
            await c.put_automation("apis", body)
            state = await c.get_automation("apis", "default-echo")
            assert state is not None and state["description"] == "sent in clear to the server only"

    run(go())


def test_applications_listing_via_mapi_v1(emulator: RunningEmulator) -> None:
    async def go() -> None:
        async with client(emulator.base_url) as c:
            for i in range(3):
                await c.put_automation(
                    "applications",
                    {
                        "hrid": f"default-app-{i}",
                        "name": f"app {i}",
                        "description": "d",
                        "settings": {"app": {}},
                    },
                )
            names = sorted([a["name"] async for a in c.list_applications(per_page=2)])
            assert names == ["app 0", "app 1", "app 2"]

    run(go())


def test_capability_probe_on_a_server_without_the_automation_api() -> None:
    """Mocked transport: the emulator always serves the Automation API, APIM <= 4.11 did not."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/automation/"):
            return httpx.Response(404, text="<html>Not Found</html>")
        return httpx.Response(200, json={"id": "DEFAULT", "name": "Default"})

    async def go() -> None:
        target = ApimTarget.from_context_spec({"baseUrl": "http://old-apim.test"})
        async with ApimClient(target, bearer(), FAST, transport=httpx.MockTransport(handler)) as c:
            assert await c.has_automation_route("apis") is False

    run(go())


def test_the_error_shapes_of_every_api_family_are_read() -> None:
    """mAPI v1 `import-crd` answers a severe error with the bare `{severe, warning}` validation result
    (ApisResource.importDefinition), mAPI v1 errors carry `http_status`, and 409s exist (portal
    navigation): each is read into a message a user can act on, and a path clash is a ConflictError
    (so that a rename's write is retried after the deletions)."""
    from reconciler.apim.errors import ConflictError, ValidationError, error_for_status

    clash = error_for_status(
        "PUT", "/apis/import-crd", 400, {"severe": ["Path [/orders/] already exists"], "warning": []}
    )
    assert isinstance(clash, ConflictError) and "Path [/orders/] already exists" in str(clash)
    other = error_for_status("PUT", "/apis/import-crd", 400, {"severe": ["a", "b"], "warning": ["w"]})
    assert type(other) is ValidationError and "a; b" in str(other)
    v1 = error_for_status("GET", "/x", 400, {"message": "bad thing", "http_status": 400})
    assert "bad thing" in str(v1)
    conflict = error_for_status("PUT", "/portals", 409, {"message": "Navigation item [x] already exists"})
    assert isinstance(conflict, ConflictError) and "already exists" in str(conflict)
