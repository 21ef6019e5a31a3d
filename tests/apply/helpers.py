"""A small GitOps repository builder for end-to-end tests against the emulator."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from reconciler.cli import main
from tests.reference import GKO_EXAMPLES

TOKEN_ENV = "APIM_SECRET_DEFAULT_APIM_TOKEN_BEARERTOKEN"
BASEURL_ENV = "APIM_SECRET_DEFAULT_APIM_TOKEN_BASEURL"  # binds the token to a URL (contexts/binding.py)


def token_env(base_url: str, token: str = "emulator-token") -> dict[str, str]:
    """Secret default/apim-token as environment variables: the token, and the base URL it is bound to."""
    return {TOKEN_ENV: token, BASEURL_ENV: base_url}


def set_token_env(monkeypatch: pytest.MonkeyPatch, base_url: str, token: str = "emulator-token") -> None:
    for name, value in token_env(base_url, token).items():
        monkeypatch.setenv(name, value)


def context_yaml(base_url: str, name: str = "apim") -> str:
    return (
        "apiVersion: gravitee.io/v1alpha1\nkind: ManagementContext\n"
        f"metadata:\n  name: {name}\nspec:\n  baseUrl: {base_url}\n  organizationId: DEFAULT\n"
        "  environmentId: DEFAULT\n  auth:\n    secretRef:\n      name: apim-token\n"
    )


def api_yaml(name: str, path: str | None = None, description: str = "An API", context: str = "apim") -> str:
    return f"""\
apiVersion: gravitee.io/v1alpha1
kind: ApiV4Definition
metadata:
  name: {name}
spec:
  contextRef:
    name: {context}
  name: {name}
  description: {description}
  version: "1.0"
  type: PROXY
  listeners:
    - type: HTTP
      paths:
        - path: {path or "/" + name}
      entrypoints:
        - type: http-proxy
  endpointGroups:
    - name: default
      type: http-proxy
      endpoints:
        - name: default
          type: http-proxy
          inheritConfiguration: false
          configuration:
            target: https://{name}.example.com
  plans:
    Free:
      name: Free
      security:
        type: KEY_LESS
"""


def app_yaml(name: str, context: str = "apim") -> str:
    return (
        "apiVersion: gravitee.io/v1alpha1\nkind: Application\n"
        f"metadata:\n  name: {name}\nspec:\n  contextRef:\n    name: {context}\n  name: {name}\n"
        f"  description: Application {name}\n  settings:\n    app:\n      type: BACKEND_TO_BACKEND\n"
    )


class Repo:
    def __init__(self, root: Path, base_url: str) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.write("context.yaml", context_yaml(base_url))

    def write(self, name: str, text: str) -> None:
        (self.root / name).write_text(text)

    def remove(self, name: str) -> None:
        (self.root / name).unlink()


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    """Run the CLI in-process with --output json; return the exit code and the report."""
    code = main([*args, "--output", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def actions(report: dict[str, Any]) -> dict[str, str]:
    return {a["resource"]["name"]: a["action"] for a in report["actions"]}


def put_unowned_api(base_url: str, hrid: str, path: str) -> None:
    """An API written straight to the Automation API, as the console or a script would: no record of ours."""
    body = {
        "hrid": hrid,
        "name": hrid,
        "version": "1",
        "type": "PROXY",
        "state": "STARTED",
        "lifecycleState": "UNPUBLISHED",
        "listeners": [{"type": "HTTP", "paths": [{"path": path}], "entrypoints": [{"type": "http-proxy"}]}],
        "endpointGroups": [
            {"name": "g", "type": "http-proxy", "endpoints": [{"name": "e", "type": "http-proxy"}]}
        ],
    }
    response = httpx.put(
        f"{base_url}/automation/organizations/DEFAULT/environments/DEFAULT/apis",
        json=body,
        headers={"Authorization": "Bearer emulator-token"},
    )
    assert response.status_code == 200, response.text


def mount(kind: str, root: Path, examples: Path) -> None:
    """Write every example Secret (or ConfigMap) as <root>/<name>/<key>, like a volume mount."""
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = True  # one example repeats a key (with the same value) in an API
    for path in examples.rglob("*.yml"):
        for doc in yaml.load_all(path.read_text()):
            if not isinstance(doc, dict) or doc.get("kind") != kind:
                continue
            folder = root / doc["metadata"]["name"]
            folder.mkdir(parents=True, exist_ok=True)
            for key, value in (doc.get("data") or {}).items():
                raw = base64.b64decode(value) if kind == "Secret" else value.encode()
                (folder / key).write_bytes(raw)
            for key, value in (doc.get("stringData") or {}).items():
                (folder / key).write_text(value)


_NEEDS_OTHER_KINDS = re.compile(
    r"^[\s-]+(sharedPolicyGroupRef|ref|groups|groupRefs|notificationsRefs):", re.MULTILINE
)
"""v4 examples that lean on kinds GKO writes first (a shared policy group, an API resource, a group, a
notification): APIM drops what they refer to until those exist there, so they cannot converge alone."""


def gko_examples_repo(tmp_path: Path, base_url: str) -> tuple[Path, list[str]]:
    """GKO's examples as a repository whose context points at `base_url`, with their Secrets and
    ConfigMaps mounted as a cluster would; returns the repository and the flags that find them."""
    if not GKO_EXAMPLES.is_dir():
        pytest.skip(f"no GKO examples at {GKO_EXAMPLES}")
    repo = tmp_path / "repo"
    shutil.copytree(GKO_EXAMPLES, repo)
    for path in [*repo.rglob("*.yml"), *repo.rglob("*.yaml")]:
        if "kind: ApiV4Definition" in (text := path.read_text()) and _NEEDS_OTHER_KINDS.search(text):
            path.unlink()
    context = repo / "management_context" / "dev-ctx.yml"
    context.write_text(context.read_text().replace("http://localhost:30083", base_url))
    mount("Secret", tmp_path / "secrets", GKO_EXAMPLES)
    mount("ConfigMap", tmp_path / "config", GKO_EXAMPLES)
    return repo, ["--secrets-dir", str(tmp_path / "secrets"), "--config-dir", str(tmp_path / "config")]
