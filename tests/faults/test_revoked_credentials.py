"""The token is revoked in the middle of a sync: the run fails with the reason, nothing is duplicated,
and once a new token is mounted the next sync converges (the new token is read at once)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reconciler.cli import main
from reconciler.emulator import EmulatorConfig, start_emulator
from tests.apply.helpers import Repo, api_yaml
from tests.identity.helpers import ORG

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN = httpx.BasicAuth("admin", "admin")
PUTS = "PUT /automation/organizations/{orgId}/environments/{envId}/apis"


def new_token(base_url: str, user_id: str, name: str) -> dict[str, str]:
    response = httpx.post(f"{base_url}{ORG}/users/{user_id}/tokens", json={"name": name}, auth=ADMIN)
    response.raise_for_status()
    return dict(response.json())


def test_token_revoked_mid_sync(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with start_emulator(EmulatorConfig(latency_ms=30)) as emulator:
        user = httpx.post(
            f"{emulator.base_url}{ORG}/users", json={"service": True, "lastname": "bot"}, auth=ADMIN
        )
        user_id = user.json()["id"]
        # The roles `service-account create` gives (organization ADMIN: APIM shows an account without
        # it only its own objects). APIM takes role ids (random per installation): looked up by name.
        for scope, reference, role in (
            ("ORGANIZATION", "DEFAULT", "ADMIN"),
            ("ENVIRONMENT", "DEFAULT", "API_PUBLISHER"),
        ):
            roles = httpx.get(
                f"{emulator.base_url}{ORG}/configuration/rolescopes/{scope}/roles", auth=ADMIN
            ).json()
            httpx.put(
                f"{emulator.base_url}{ORG}/users/{user_id}/roles",
                json={
                    "user": user_id,
                    "referenceId": reference,
                    "referenceType": scope,
                    "roles": [next(r["id"] for r in roles if r["name"] == role)],
                },
                auth=ADMIN,
            ).raise_for_status()
        first = new_token(emulator.base_url, user_id, "first")
        secrets = tmp_path / "secrets" / "apim-token"
        secrets.mkdir(parents=True)
        (secrets / "bearerToken").write_text(first["token"])
        (secrets / "baseUrl").write_text(emulator.base_url)  # the URL the token is bound to

        repo = Repo(tmp_path / "repo", emulator.base_url)
        for i in range(40):
            repo.write(f"api{i:02d}.yaml", api_yaml(f"api{i:02d}"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("APIM_", "RECONCILER_"))}
        process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "sync", str(repo.root), "--secrets-dir", str(secrets.parent),
             "--concurrency", "2", "--output", "json"],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while emulator.stats()["requests"].get(PUTS, 0) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        httpx.delete(
            f"{emulator.base_url}{ORG}/users/{user_id}/tokens/{first['id']}", auth=ADMIN
        ).raise_for_status()
        out, err = process.communicate(timeout=60)
        report = json.loads(out)
        assert process.returncode == 1
        failed = [a["outcome"]["error"] for a in report["actions"] if a.get("outcome", {}).get("ok") is False]
        assert failed and all("401" in error for error in failed)
        assert first["token"] not in out + err
        written = sum(1 for a in report["actions"] if a.get("outcome", {}).get("ok"))
        assert 5 <= written < 40

        (secrets / "bearerToken").write_text(new_token(emulator.base_url, user_id, "second")["token"])
        monkeypatch.delenv("APIM_SECRET_DEFAULT_APIM_TOKEN_BEARERTOKEN", raising=False)
        code = main(["sync", str(repo.root), "--secrets-dir", str(secrets.parent), "--output", "json"])
        report = json.loads(capsys.readouterr().out)
        assert code == 0, report["failures"]
        kinds = [a["action"] for a in report["actions"]]
        assert kinds.count("create") == 40 - written and kinds.count("unchanged") == written
