"""A small GitOps repository builder for end-to-end tests against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main

TOKEN_ENV = "APIM_SECRET_DEFAULT_APIM_TOKEN_BEARERTOKEN"


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
