"""`service-account create` and `check` as subprocesses against the emulator."""

from __future__ import annotations

import base64
import json
import stat
import time
from collections.abc import Callable
from pathlib import Path

from ruamel.yaml import YAML

from reconciler.emulator import RunningEmulator
from tests.identity.helpers import (
    ADMIN_ENV,
    SECRET,
    admin_get,
    bind_secret,
    cli,
    hs256_jwt,
    make_repo,
    read_token,
    sa,
    token_file,
    whoami,
)


def test_create_twice_is_idempotent_and_the_context_works_at_once(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    context, secrets = make_repo(tmp_path, emulator.base_url), tmp_path / "secrets"
    first = sa("create", context, secrets, "--name", "apim-reconciler", env=ADMIN_ENV)
    assert first.returncode == 0, first.stdout + first.stderr
    assert ": created" in first.stdout and "context:      default/apim: ok" in first.stdout
    token = read_token(secrets)
    mode = stat.S_IMODE(token_file(secrets).stat().st_mode)
    assert mode == 0o600 and stat.S_IMODE((secrets / SECRET).stat().st_mode) == 0o700
    assert stat.S_IMODE((secrets / SECRET / "tokenId").stat().st_mode) == 0o600

    second = sa("create", context, secrets, "--name", "apim-reconciler", env=ADMIN_ENV)
    assert second.returncode == 0, second.stdout + second.stderr
    assert ": found" in second.stdout and "kept" in second.stdout
    assert read_token(secrets) == token  # the working token is kept, no second token

    users = admin_get(emulator.base_url, "/users", q="apim-reconciler")["data"]
    assert len(users) == 1 and users[0]["serviceAccount"] is True
    user = admin_get(emulator.base_url, f"/users/{users[0]['id']}")
    assert [r["name"] for r in user["roles"]] == ["ADMIN"]
    assert [r["name"] for r in user["envRoles"]["DEFAULT"]] == ["API_PUBLISHER"]
    assert len(admin_get(emulator.base_url, f"/users/{users[0]['id']}/tokens")) == 1

    checked = cli("check-context", context, "--secrets-dir", secrets)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_wrong_admin_credentials_write_nothing(tmp_path: Path, emulator: RunningEmulator) -> None:
    context, secrets = make_repo(tmp_path, emulator.base_url), tmp_path / "secrets"
    bad = {"APIM_ADMIN_USERNAME": "admin", "APIM_ADMIN_PASSWORD": "wrong-password"}
    result = sa("create", context, secrets, "--name", "robot", env=bad)
    assert result.returncode == 1
    assert "administrator credentials were refused (401)" in result.stderr
    assert not secrets.exists()
    none = sa("create", context, secrets, "--name", "robot")
    assert none.returncode == 1 and "APIM_ADMIN_TOKEN" in none.stderr


def test_admin_secret_resolves_like_a_secret_ref(tmp_path: Path, emulator: RunningEmulator) -> None:
    context, secrets = make_repo(tmp_path, emulator.base_url), tmp_path / "secrets"
    (secrets / "apim-admin").mkdir(parents=True)
    (secrets / "apim-admin" / "bearerToken").write_text("emulator-token\n")
    (secrets / "apim-admin" / "baseUrl").write_text(emulator.base_url + "\n")
    result = sa("create", context, secrets, "--name", "robot", "--admin-secret", "apim-admin")
    assert result.returncode == 0, result.stdout + result.stderr
    assert whoami(emulator.base_url, read_token(secrets)).json()["sourceId"] == "robot"


def test_check_names_the_missing_roles(tmp_path: Path, emulator: RunningEmulator) -> None:
    context, secrets = make_repo(tmp_path, emulator.base_url), tmp_path / "secrets"
    # Organization ADMIN passes every permission check in APIM (PermissionServiceImpl): with it, the
    # environment role does not matter.
    created = sa("create", context, secrets, "--name", "reader", "--env-role", "USER", env=ADMIN_ENV)
    assert created.returncode == 0, created.stdout + created.stderr
    check = sa("check", context, secrets, "--output", "json")
    assert check.returncode == 0
    report = json.loads(check.stdout)
    assert report["missingRoles"] == []
    assert report["organizationRoles"] == ["ADMIN"] and report["environmentRoles"] == ["USER"]
    assert report["serviceAccount"] is True and report["revoked"] is False

    # Without ADMIN on the organization, that is what is missing (and the env roles cannot be read).
    sa("create", context, secrets, "--name", "reader", "--org-role", "USER", env=ADMIN_ENV)
    text = sa("check", context, secrets)
    assert text.returncode == 1
    assert "error:        missing roles: ADMIN on organization DEFAULT" in text.stdout
    assert "environment:  DEFAULT: unknown" in text.stdout


def test_personal_credentials_are_a_warning_not_a_failure(
    tmp_path: Path, make_emulator: Callable[..., RunningEmulator]
) -> None:
    # A password other than the user name: output shows the user, and the password is scrubbed
    # wherever it appears (admin/admin would hide the name too).
    users = {
        "organizations": [{"id": "DEFAULT", "environments": [{"id": "DEFAULT", "name": "Default"}]}],
        "users": [{"username": "ops", "password": "ops-password-1", "organizations": ["*"]}],
    }
    emu = make_emulator(users=users)
    context, secrets = make_repo(tmp_path, emu.base_url), tmp_path / "secrets"
    (secrets / SECRET).mkdir(parents=True)
    (secrets / SECRET / "username").write_text("ops")
    (secrets / SECRET / "password").write_text("ops-password-1")
    bind_secret(secrets, emu.base_url)
    check = sa("check", context, secrets)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Basic credentials of a person (ops), not a service account" in check.stdout
    assert "ops-password-1" not in check.stdout + check.stderr


def test_expiry_warnings(tmp_path: Path, make_emulator: Callable[..., RunningEmulator]) -> None:
    emu = make_emulator(token_ttl_seconds=10 * 86400)
    context, secrets = make_repo(tmp_path, emu.base_url), tmp_path / "secrets"
    assert sa("create", context, secrets, "--name", "robot", env=ADMIN_ENV).returncode == 0
    check = sa("check", context, secrets)
    assert check.returncode == 0
    assert "warning:      the token expires in 9 day(s)" in check.stdout  # 10 days minus a moment
    quiet = sa("check", context, secrets, "--warn-days", "5", "--output", "json")
    report = json.loads(quiet.stdout)
    assert quiet.returncode == 0 and report["warnings"] == []
    assert report["token"]["identifiedBy"] == "tokenId key of the secret"
    assert report["token"]["expiresAt"].endswith("Z")


def test_an_expired_token_fails_the_check(
    tmp_path: Path, make_emulator: Callable[..., RunningEmulator]
) -> None:
    emu = make_emulator(token_ttl_seconds=1.5)
    context, secrets = make_repo(tmp_path, emu.base_url), tmp_path / "secrets"
    assert sa("create", context, secrets, "--name", "robot", env=ADMIN_ENV).returncode == 0
    time.sleep(1.6)
    check = sa("check", context, secrets, "--output", "json")
    report = json.loads(check.stdout)
    assert check.returncode == 1 and report["revoked"] is True
    assert "revoked or has expired" in report["error"]


def test_jwt_expiry_is_read_from_its_exp_claim(
    tmp_path: Path, make_emulator: Callable[..., RunningEmulator]
) -> None:
    users = {
        "jwtSecret": "console-signing-key",
        "organizations": [{"id": "DEFAULT", "environments": [{"id": "DEFAULT"}]}],
        "users": [{"username": "admin", "password": "admin", "organizations": ["DEFAULT"]}],
    }
    emu = make_emulator(users=users)
    context, secrets = make_repo(tmp_path, emu.base_url), tmp_path / "secrets"
    bind_secret(secrets, emu.base_url)
    exp = int(time.time()) + 3 * 86400
    (secrets / SECRET / "bearerToken").write_text(
        hs256_jwt("console-signing-key", {"sub": "admin", "exp": exp})
    )
    check = sa("check", context, secrets, "--output", "json")
    report = json.loads(check.stdout)
    assert check.returncode == 0, check.stdout + check.stderr
    assert report["auth"] == "bearer token (console JWT)" and report["token"]["source"] == "JWT exp claim"
    assert report["token"]["expiresAt"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp))
    assert any("expires in 2 day(s)" in w for w in report["warnings"])

    # An unsigned JWT (alg none) that has expired: APIM refuses it, and check says when it expired.
    head = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    body = (
        base64.urlsafe_b64encode(json.dumps({"sub": "admin", "exp": 1700000000}).encode())
        .rstrip(b"=")
        .decode()
    )
    (secrets / SECRET / "bearerToken").write_text(f"{head}.{body}.")
    expired = sa("check", context, secrets)
    assert expired.returncode == 1 and "the JWT expired at 2023-11-14T22:13:20Z" in expired.stdout


def test_secret_manifest_output(tmp_path: Path, emulator: RunningEmulator) -> None:
    context, secrets = make_repo(tmp_path, emulator.base_url), tmp_path / "secrets"
    result = sa("create", context, secrets, "--name", "robot", "--output", "secret-manifest", env=ADMIN_ENV)
    assert result.returncode == 0, result.stderr
    manifest = YAML(typ="safe").load(result.stdout)
    assert manifest["apiVersion"] == "v1" and manifest["kind"] == "Secret" and manifest["type"] == "Opaque"
    assert manifest["metadata"]["name"] == SECRET and manifest["metadata"]["namespace"] == "default"
    token = base64.b64decode(manifest["data"]["bearerToken"]).decode()
    assert whoami(emulator.base_url, token).json()["sourceId"] == "robot"
    assert token not in result.stdout and token not in result.stderr  # only base64, in the manifest
    assert "context:      default/apim: ok" in result.stderr  # the summary stays off stdout
    assert not secrets.exists()


def test_a_personal_user_of_that_name_is_never_made_the_service_account(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    import httpx

    person = {"firstname": "Robert", "lastname": "robot", "email": "robert@example.com"}
    httpx.post(
        f"{emulator.base_url}/management/organizations/DEFAULT/users",
        json=person,
        auth=("admin", "admin"),
        timeout=5,
    ).raise_for_status()
    context, secrets = make_repo(tmp_path, emulator.base_url), tmp_path / "secrets"
    result = sa("create", context, secrets, "--name", "robot", env=ADMIN_ENV)
    assert result.returncode == 1
    assert "a personal user named 'robot' exists already" in result.stdout + result.stderr
    [user] = admin_get(emulator.base_url, "/users", q="robot")["data"]
    assert admin_get(emulator.base_url, f"/users/{user['id']}/tokens") == [] and not secrets.exists()


def test_a_token_that_cannot_be_written_is_revoked_at_once(tmp_path: Path, emulator: RunningEmulator) -> None:
    context, secrets = make_repo(tmp_path, emulator.base_url), tmp_path / "secrets"
    (secrets / SECRET / "tokenId" / "in-the-way").mkdir(parents=True)  # a folder where a key goes
    result = sa("create", context, secrets, "--name", "apim-reconciler", env=ADMIN_ENV)
    assert result.returncode == 1, result.stdout + result.stderr
    [user] = admin_get(emulator.base_url, "/users", q="apim-reconciler")["data"]
    assert admin_get(emulator.base_url, f"/users/{user['id']}/tokens") == []
    requests = emulator.stats()["requests"]  # it was created, then revoked
    assert requests["POST /management/organizations/{orgId}/users/{userId}/tokens"] == 1
    assert requests["DELETE /management/organizations/{orgId}/users/{userId}/tokens/{tokenId}"] == 1
