"""`apim-reconciler check-context` as a subprocess against the emulator, and the canary-leak scan."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from reconciler.emulator import RunningEmulator
from tests.manifests.helpers import write

REPO = Path(__file__).resolve().parents[2]
CANARY_TOKEN = "canary-token-7f3a9c1e5b"
CANARY_PASSWORD = "canary-password-2d8e4f6a"


def context(base_url: str, auth: str, name: str = "ctx") -> str:
    return (
        "apiVersion: gravitee.io/v1alpha1\nkind: ManagementContext\n"
        f"metadata:\n  name: {name}\nspec:\n  baseUrl: {base_url}\n  organizationId: DEFAULT\n"
        f"  environmentId: DEFAULT\n  auth:\n{auth}"
    )


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_reports_who_and_where_for_each_context(tmp_path: Path, emulator: RunningEmulator) -> None:
    secrets = tmp_path / "secrets"
    write(secrets, "apim/bearerToken", "emulator-token\n")
    write(secrets, "apim/baseUrl", emulator.base_url + "\n")  # the operator binds the token to its APIM
    write(tmp_path / "repo", "ok.yaml", context(emulator.base_url, "    secretRef:\n      name: apim\n"))
    write(
        tmp_path / "repo",
        "basic.yaml",
        context(
            emulator.base_url + "/management",
            "    credentials:\n      username: admin\n      password: admin\n",
            "basic",
        ),
    )
    result = run("check-context", tmp_path / "repo", "--secrets-dir", secrets, "--output", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = {r["context"]["name"]: r for r in json.loads(result.stdout)}
    assert report["ctx"]["ok"] and report["ctx"]["auth"] == "bearer token (personal access token)"
    assert report["basic"]["ok"] and report["basic"]["auth"].startswith("basic")
    assert report["basic"]["server"] == emulator.base_url
    assert report["ctx"]["binding"] == f"secret default/apim key baseUrl ({emulator.base_url})"
    assert report["basic"]["binding"] == "none needed: the credential is written in the repository itself"


def test_canary_secrets_never_reach_any_output(tmp_path: Path, emulator: RunningEmulator) -> None:
    """Wrong credentials from every source, debug logging, text and JSON: no canary byte anywhere."""
    secrets = tmp_path / "secrets"
    write(secrets, "apim/bearerToken", CANARY_TOKEN + "\n")
    write(secrets, "apim/allowedUrls", f"{emulator.base_url},http://127.0.0.1:9\n")
    repo = tmp_path / "repo"
    write(repo, "file.yaml", context(emulator.base_url, "    secretRef:\n      name: apim\n", "file"))
    write(repo, "env.yaml", context(emulator.base_url, "    secretRef:\n      name: from-env\n", "env"))
    write(
        repo,
        "inline.yaml",
        context(
            emulator.base_url,
            f"    credentials:\n      username: admin\n      password: {CANARY_PASSWORD}\n",
            "inline",
        ),
    )
    write(repo, "down.yaml", context("http://127.0.0.1:9", "    secretRef:\n      name: apim\n", "down"))
    env = {
        "APIM_SECRET_DEFAULT_FROM_ENV_BEARERTOKEN": CANARY_TOKEN + "-env",
        "APIM_SECRET_DEFAULT_FROM_ENV_BASEURL": emulator.base_url,
    }
    for output in ("text", "json"):
        result = run(
            "check-context",
            repo,
            "--secrets-dir",
            secrets,
            "--output",
            output,
            "--log-level",
            "debug",
            env=env,
        )
        assert result.returncode == 1
        everything = result.stdout + result.stderr
        assert "authentication" in everything or "401" in everything
        for canary in (CANARY_TOKEN, CANARY_PASSWORD):
            assert canary not in everything
            assert canary[:12] not in everything
