"""What a documented block needs before it runs (`<!-- runnable setup=NAME -->`): the state a reader
would have reached by following the document up to there.

A setup named after a folder of `files/` copies that folder into the scratch folder; the others are
the functions of `SETUPS`. Each gets the block's `Scene`: its folder, its environment (which it may
add to) and, for `emulator` blocks, the emulator's address.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.docs.blocks import Block
from tests.docs.session import Scene, substitute_port

REPO = Path(__file__).resolve().parents[2]
FILES = Path(__file__).resolve().parent / "files"
TOKEN = "emulator-token"
AUTO = "/automation/organizations/DEFAULT/environments/DEFAULT"
MAPI_V2 = "/management/v2/organizations/DEFAULT/environments/DEFAULT"
MAPI_V1 = "/management/organizations/DEFAULT/environments/DEFAULT"


def copy_files(name: str, scene: Scene, target: str | None = None) -> None:
    """`files/NAME` into the scene's folder, the emulator's port written where the documents show 8083."""
    source = FILES / name
    destination = scene.folder / (target or name)
    shutil.copytree(source, destination)
    for path in destination.rglob("*"):
        if path.is_file():
            path.write_text(substitute_port(path.read_text(), scene.port))


def _client(scene: Scene) -> httpx.Client:
    assert scene.base_url is not None, "this setup needs the `emulator` option"
    return httpx.Client(base_url=scene.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)


def _ok(response: httpx.Response) -> None:
    assert response.status_code in (200, 201), (
        f"{response.request.method} {response.request.url}: {response.text}"
    )


def _cli(scene: Scene, *args: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=scene.folder,
        env={**scene.env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        f"setup: apim-reconciler {' '.join(args)}\n{result.stdout}\n{result.stderr}"
    )


def samples_token(scene: Scene) -> dict[str, str]:
    """The secret `apim-emulator` of samples/ as variables: its token, and the URL it may go to."""
    return {
        "APIM_SECRET_DEFAULT_APIM_EMULATOR_BEARERTOKEN": TOKEN,
        "APIM_SECRET_DEFAULT_APIM_EMULATOR_BASEURL": str(scene.base_url),
    }


def drifted_samples(scene: Scene) -> None:
    """samples/ synced, then the Petstore's description edited in the console (mAPI v2, with If-Match)."""
    _cli(scene, "sync", "samples/", env=samples_token(scene))
    with _client(scene) as http:
        found = http.post(f"{MAPI_V2}/apis/_search", json={"query": "Petstore"}).json()["data"][0]
        current = http.get(f"{MAPI_V2}/apis/{found['id']}")
        body = current.json()
        kept = (
            "name",
            "apiVersion",
            "definitionVersion",
            "type",
            "visibility",
            "lifecycleState",
            "tags",
            "labels",
        )
        update = {
            k: body[k] for k in (*kept, "listeners", "endpointGroups", "flowExecution", "flows") if k in body
        }
        update["description"] = "Edited by hand in the console"
        _ok(
            http.put(
                f"{MAPI_V2}/apis/{found['id']}", json=update, headers={"If-Match": current.headers["ETag"]}
            )
        )


def _endpoint_group(target: str, configuration: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [
        {
            "name": "backends",
            "type": "http-proxy",
            "endpoints": [
                {
                    "name": "primary",
                    "type": "http-proxy",
                    "inheritConfiguration": False,
                    "configuration": {"target": target, **(configuration or {})},
                }
            ],
        }
    ]


def _listener(path: str) -> list[dict[str, Any]]:
    return [{"type": "HTTP", "paths": [{"path": path}], "entrypoints": [{"type": "http-proxy"}]}]


def environment_to_export(scene: Scene) -> None:
    """An APIM environment that others filled (the console, GKO, scripts), and a repository that holds
    only its ManagementContext, `gitops-repo/contexts/apim.yaml`, whose token is `apim-token`."""
    plan = {
        "hrid": "free",
        "name": "Free",
        "security": {"type": "KEY_LESS"},
        "status": "PUBLISHED",
        "type": "API",
        "mode": "STANDARD",
        "validation": "AUTO",
    }
    orders = {
        "hrid": "default-orders",
        "name": "Orders",
        "version": "2.1",
        "type": "PROXY",
        "state": "STARTED",
        "lifecycleState": "PUBLISHED",
        "listeners": _listener("/orders"),
        "endpointGroups": _endpoint_group(
            "https://orders.internal", {"http": {"username": "svc-orders", "password": "s3cr3t-0rders"}}
        ),
        "resources": [
            {
                "name": "idp",
                "type": "oauth2",
                "enabled": True,
                "configuration": {"clientId": "orders", "clientSecret": "s3cr3t-idp"},
            }
        ],
        "plans": [plan],
    }
    billing = {
        "hrid": "billing",
        "name": "Billing API",
        "version": "1",
        "type": "PROXY",
        "state": "STOPPED",
        "lifecycleState": "UNPUBLISHED",
        "listeners": _listener("/billing"),
        "endpointGroups": _endpoint_group("https://billing.internal"),
    }
    old_v2 = {  # imported long ago by GKO: a v2 API, with ids of its own
        "id": "52986723-2cd9-4d9c-9867-232cd9bd9c6a",
        "crossId": "2c6e2bb1-65b1-4ac8-ae2b-b165b1bac8e1",
        "name": "Old v2",
        "version": "1",
        "description": "The inventory, before v4",
        "state": "STARTED",
        "lifecycle_state": "PUBLISHED",
        "definition_context": {"origin": "kubernetes", "mode": "fully_managed", "syncFrom": "management"},
        "proxy": {
            "virtual_hosts": [{"path": "/inventory"}],
            "groups": [
                {
                    "name": "default",
                    "endpoints": [{"name": "backend", "target": "https://inventory.internal"}],
                }
            ],
        },
        "plans": [
            {
                "id": "0d1f5c57-2e3a-4a59-9f5c-572e3a0a5961",
                "crossId": "6b0f4a9e-1d2c-4f3b-8f4a-9e1d2c7f3b01",
                "name": "Free",
                "description": "Open",
                "security": "KEY_LESS",
                "status": "PUBLISHED",
                "type": "API",
                "validation": "AUTO",
            }
        ],
    }
    mobile = {
        "hrid": "default-mobile",
        "name": "Mobile",
        "description": "The mobile app",
        "settings": {"app": {"type": "MOBILE", "clientId": "mobile-client"}},
    }
    console_app = {"name": "Console app", "description": "made by hand", "settings": {"app": {"type": "WEB"}}}
    with _client(scene) as http:
        _ok(http.put(f"{AUTO}/apis", json=orders))
        _ok(http.put(f"{AUTO}/apis", json=billing))
        _ok(http.put(f"{MAPI_V1}/apis/import-crd", json=old_v2))
        _ok(http.put(f"{AUTO}/applications", json=mobile))
        _ok(http.put(f"{MAPI_V2}/applications/_import/crd", json=console_app))  # no HRID
    context = scene.folder / "gitops-repo" / "contexts" / "apim.yaml"
    context.parent.mkdir(parents=True)
    context.write_text(
        "apiVersion: gravitee.io/v1alpha1\nkind: ManagementContext\nmetadata:\n  name: apim\nspec:\n"
        f"  baseUrl: {scene.base_url}\n  organizationId: DEFAULT\n  environmentId: DEFAULT\n"
        "  auth:\n    secretRef:\n      name: apim-token\n"
    )


def service_account_created(scene: Scene) -> None:
    """`service-account create` run as the README shows it, the token written under secrets/."""
    admin = {
        "APIM_ADMIN_USERNAME": "admin",
        "APIM_ADMIN_PASSWORD": "admin",
        "APIM_ADMIN_BASEURL": str(scene.base_url),
    }
    _cli(
        scene,
        "service-account",
        "create",
        "--context",
        "samples/contexts/emulator.yaml",
        "--name",
        "apim-reconciler",
        "--secrets-dir",
        "secrets/",
        env=admin,
    )


def ci_job(scene: Scene) -> None:
    """A repository of manifests at apim/ whose contexts point at a real APIM, and the runner's temp folder."""
    copy_files("ci-apim", scene, "apim")
    (scene.folder / "runner-temp").mkdir()
    scene.env["RUNNER_TEMP"] = str(scene.folder / "runner-temp")


SETUPS: dict[str, Callable[[Scene], None]] = {
    "drifted-samples": drifted_samples,
    "environment-to-export": environment_to_export,
    "service-account-created": service_account_created,
    "ci-job": ci_job,
}


def prepare(block: Block, scene: Scene) -> Scene:
    """The scratch folder of a block: copies of samples/ and schemas/ (the emulator's port in the
    contexts), then the block's setups, in order."""
    for name in ("samples", "schemas"):
        shutil.copytree(REPO / name, scene.folder / name)
    for path in (scene.folder / "samples").rglob("*.yaml"):
        path.write_text(substitute_port(path.read_text(), scene.port))
    assert block.marker is not None
    for setup in block.marker.setups:
        apply_setup(setup, scene)
    return scene


def apply_setup(name: str, scene: Scene) -> None:
    if name in SETUPS:
        SETUPS[name](scene)
    elif (FILES / name).is_dir():
        copy_files(name, scene)
    else:
        raise AssertionError(
            f"unknown setup {name!r} (known: {', '.join(sorted(SETUPS))}, or a folder of {FILES})"
        )
