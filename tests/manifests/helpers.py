"""Small builders for manifest tests: write files, load them, find problems by text."""

from __future__ import annotations

import textwrap
from pathlib import Path

from reconciler.manifests import LoadOptions, ManifestSet, Problem, load_manifests

CONTEXT = """\
apiVersion: gravitee.io/v1alpha1
kind: ManagementContext
metadata:
  name: ctx
spec:
  baseUrl: http://127.0.0.1:8083
  organizationId: DEFAULT
  environmentId: DEFAULT
  auth:
    bearerToken: token
"""


def api_v4(name: str, path: str = "/echo", extra: str = "", context: str = "ctx") -> str:
    return (
        textwrap.dedent(
            f"""\
            apiVersion: gravitee.io/v1alpha1
            kind: ApiV4Definition
            metadata:
              name: {name}
            spec:
              contextRef:
                name: {context}
              name: {name}
              version: "1.0"
              type: PROXY
              listeners:
                - type: HTTP
                  paths:
                    - path: {path}
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
                        target: https://backend.example.com
              plans:
                Keyless:
                  name: Keyless
                  security:
                    type: KEY_LESS
            """
        )
        + extra
    )


def write(root: Path, name: str, text: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def load(*paths: Path, **options: object) -> ManifestSet:
    return load_manifests(paths, LoadOptions(**options))  # type: ignore[arg-type]


def only_error(manifests: ManifestSet) -> Problem:
    errors = manifests.errors
    assert len(errors) == 1, "\n".join(str(e) for e in manifests.problems)
    return errors[0]
