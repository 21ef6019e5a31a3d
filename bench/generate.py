"""Generated GitOps repositories for benchmarks: N realistic v4 APIs (with plans) and N/10 applications."""

from __future__ import annotations

from pathlib import Path

CONTEXT = """\
apiVersion: gravitee.io/v1alpha1
kind: ManagementContext
metadata:
  name: {name}
spec:
  baseUrl: {base_url}
  organizationId: DEFAULT
  environmentId: {env}
  auth:
    secretRef:
      name: apim-bench
"""

API = """\
apiVersion: gravitee.io/v1alpha1
kind: ApiV4Definition
metadata:
  name: api-{i:05d}
  labels:
    team: team-{team}
spec:
  contextRef:
    name: {context}
  name: API {i:05d}
  description: Generated API number {i} for benchmarks{suffix}
  version: "1.{rev}"
  type: PROXY
  labels: [generated, team-{team}]
  listeners:
    - type: HTTP
      paths:
        - path: /bench/api-{i:05d}
      entrypoints:
        - type: http-proxy
          qos: AUTO
  endpointGroups:
    - name: default
      type: http-proxy
      endpoints:
        - name: backend
          type: http-proxy
          inheritConfiguration: false
          configuration:
            target: https://backend-{team}.example.com/api-{i:05d}
          secondary: false
  flowExecution:
    mode: DEFAULT
    matchRequired: false
  plans:
    Free:
      name: Free
      description: Keyless, rate limited
      security:
        type: KEY_LESS
      flows:
        - name: rate
          enabled: true
          selectors:
            - type: HTTP
              path: /
              pathOperator: STARTS_WITH
          request:
            - name: Rate Limiting
              enabled: true
              policy: rate-limit
              configuration:
                rate:
                  limit: 100
                  periodTime: 1
                  periodTimeUnit: SECONDS
    Partners:
      name: Partners
      description: API key
      security:
        type: API_KEY
"""

APPLICATION = """\
apiVersion: gravitee.io/v1alpha1
kind: Application
metadata:
  name: app-{i:05d}
spec:
  contextRef:
    name: {context}
  name: Application {i:05d}
  description: Generated application {i}
  settings:
    app:
      type: BACKEND_TO_BACKEND
      clientId: app-{i:05d}
"""

CONTEXTS = ("bench-a", "bench-b")


def generate_repository(
    root: Path, n: int, base_url: str = "http://127.0.0.1:8083", revision: int = 0, suffix: str = ""
) -> Path:
    """Write N APIs and N/10 applications spread over two contexts (two environments)."""
    root.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(CONTEXTS):
        (root / f"context-{name}.yaml").write_text(
            CONTEXT.format(name=name, base_url=base_url, env="DEFAULT" if index == 0 else "BENCH")
        )
    apis = root / "apis"
    apis.mkdir(exist_ok=True)
    for i in range(n):
        context = CONTEXTS[i % 2]
        (apis / f"api-{i:05d}.yaml").write_text(
            API.format(i=i, team=i % 7, context=context, rev=revision, suffix=suffix)
        )
    apps = root / "applications"
    apps.mkdir(exist_ok=True)
    for i in range(n // 10):
        (apps / f"app-{i:05d}.yaml").write_text(APPLICATION.format(i=i, context=CONTEXTS[i % 2]))
    return root
