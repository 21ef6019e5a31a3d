"""Shared helpers of the identity tests: a GitOps repo with one context, the CLI as a subprocess, JWTs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.apply.helpers import api_yaml, context_yaml

REPO = Path(__file__).resolve().parents[2]
SECRET = "apim-token"  # the secretRef name of `context_yaml`
ORG = "/management/organizations/DEFAULT"
ADMIN_ENV = {"APIM_ADMIN_USERNAME": "admin", "APIM_ADMIN_PASSWORD": "admin"}


def make_repo(root: Path, base_url: str, *, apis: tuple[str, ...] = ()) -> Path:
    """A repository with the context `apim` (secretRef apim-token) and the given APIs; returns its file."""
    (root / "repo").mkdir(parents=True, exist_ok=True)
    context = root / "repo" / "context.yaml"
    context.write_text(context_yaml(base_url), encoding="utf-8")
    for name in apis:
        (root / "repo" / f"{name}.yaml").write_text(api_yaml(name), encoding="utf-8")
    return context


def cli(
    *args: str | Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m reconciler ARGS` with a clean APIM_* environment plus `env`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("APIM_", "RECONCILER_"))}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**base, **(env or {})},
    )


def sa(
    action: str, context: Path, secrets: Path, *extra: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`service-account ACTION`, with the administrator's login (if `env` has one) bound to the server
    of the context, as the operator who runs it binds it (unless `env` binds it otherwise)."""
    env = dict(env or {})
    if any(k.startswith("APIM_ADMIN_") for k in env):
        env.setdefault("APIM_ADMIN_BASEURL", base_url_of(context))
    return cli("service-account", action, "--context", context, "--secrets-dir", secrets, *extra, env=env)


def base_url_of(context: Path) -> str:
    found = re.search(r"^\s*baseUrl:\s*(\S+)", context.read_text(encoding="utf-8"), re.MULTILINE)
    assert found, f"no baseUrl in {context}"
    return found.group(1)


def bind_secret(secrets: Path, base_url: str) -> None:
    """The operator's binding of secret apim-token: a `baseUrl` key beside the token."""
    (secrets / SECRET).mkdir(parents=True, exist_ok=True)
    (secrets / SECRET / "baseUrl").write_text(base_url + "\n", encoding="utf-8")


def token_file(secrets: Path) -> Path:
    return secrets / SECRET / "bearerToken"


def read_token(secrets: Path) -> str:
    return token_file(secrets).read_text(encoding="utf-8").strip()


def whoami(base_url: str, token: str) -> httpx.Response:
    return httpx.get(f"{base_url}{ORG}/user", headers={"Authorization": f"Bearer {token}"}, timeout=5)


def admin_get(base_url: str, path: str, **params: Any) -> Any:
    response = httpx.get(f"{base_url}{ORG}{path}", params=params, auth=("admin", "admin"), timeout=5)
    response.raise_for_status()
    return response.json()


def hs256_jwt(secret: str, claims: dict[str, Any]) -> str:
    """A console-style JWT signed with HS256 (what APIM's `jwt.secret` signs)."""

    def enc(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    head = enc(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = enc(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{enc(sig)}"
