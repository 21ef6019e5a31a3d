"""Input that GKO (through kubectl and the API server) accepts: explicit nulls, `kind: List`, and the
Kubernetes-only kinds that stay skipped with a warning."""

from __future__ import annotations

import textwrap
from pathlib import Path

from reconciler.manifests.model import ResourceId, Severity
from reconciler.plan.desired import DesiredBuild, build_desired
from tests.manifests.helpers import CONTEXT, api_v4, load, only_error, write

# An API with a null at every depth: top level, metadata, spec, inside a list item, inside a plan.
WITH_NULLS = textwrap.dedent(
    """\
    apiVersion: gravitee.io/v1alpha1
    kind: ApiV4Definition
    status: null
    metadata:
      name: echo
      namespace: ~
      labels:
    spec:
      contextRef:
        name: ctx
        namespace: null
      name: echo
      description: null
      version: "1.0"
      type: PROXY
      listeners:
        - type: HTTP
          paths:
            - path: /echo
              host: null
          entrypoints:
            - type: http-proxy
              qos: ~
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
          description: null
          security:
            type: KEY_LESS
            configuration: null
    """
)


def _without_nulls(text: str) -> str:
    """The same document with every null-valued field commented out: the same lines for the rest."""
    lines = text.splitlines()
    out = []
    for index, line in enumerate(lines):
        key, colon, value = line.partition(":")
        indent = len(line) - len(line.lstrip())
        following = lines[index + 1] if index + 1 < len(lines) else ""
        opens_block = len(following) - len(following.lstrip()) > indent
        is_null = colon and not key.lstrip().startswith("-") and value.strip() in ("null", "~", "")
        out.append("#" + line if is_null and not opens_block else line)
    return "\n".join(out) + "\n"


def test_null_fields_are_absent_and_the_rest_keeps_its_lines(tmp_path: Path) -> None:
    with_nulls, without = tmp_path / "with", tmp_path / "without"
    write(with_nulls, "ctx.yaml", CONTEXT)
    write(without, "ctx.yaml", CONTEXT)
    write(with_nulls, "api.yaml", WITH_NULLS)
    write(without, "api.yaml", _without_nulls(WITH_NULLS))
    assert _without_nulls(WITH_NULLS).count("\n#") == 9  # every null above, and nothing else
    a, b = load(with_nulls), load(without)
    assert a.ok and b.ok and not a.problems and not b.problems
    assert a.resources == b.resources  # same kind, name, spec and metadata
    (api_a,) = a.of_kind("ApiV4Definition")
    (api_b,) = b.of_kind("ApiV4Definition")
    assert "description" not in api_a.spec and "labels" not in api_a.metadata
    assert api_a.spec["listeners"][0]["paths"][0] == {"path": "/echo"}
    moved = {path: (pos.line, pos.column) for path, pos in api_a.positions.by_path.items()}
    assert moved == {path: (pos.line, pos.column) for path, pos in api_b.positions.by_path.items()}
    key_less = WITH_NULLS.splitlines().index("        type: KEY_LESS") + 1
    assert api_a.at("plans", "Keyless", "security", "type").line == key_less
    # ... and plans the same: the same APIM bodies, hashes and ids.
    plan_a, plan_b = build_desired(a.resources), build_desired(b.resources)
    assert not plan_a.problems and _bodies(plan_a) == _bodies(plan_b)


def _bodies(build: DesiredBuild) -> dict[ResourceId, tuple[str, str, object]]:
    """What the planner sends APIM for each resource: HRID, hash and body."""
    return {r.id: (r.hrid, r.spec_hash, r.body) for s in build.states.values() for r in s.resources}


def test_a_required_field_given_as_null_is_missing_at_its_line(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "api.yaml", api_v4("echo").replace("  type: PROXY\n", "  type: null\n"))
    error = only_error(load(tmp_path))
    assert str(error.position).endswith("api.yaml:10:3")  # the `type: null` line, not `spec:`
    assert error.message == "missing required field 'type': it is written as null, which Kubernetes drops"
    assert error.field == ("spec",)


def test_a_null_merged_over_an_anchor_removes_the_field(tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: base}\ndata: &d {a: '1', b: '2'}\n---\n"
        + api_v4("echo").replace("  name: echo\n  version", "  name: echo\n  labels: [x]\n  version")
    )
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "api.yaml", text.replace("  labels: [x]\n", "  labels: null\n  labels2: null\n"))
    manifests = load(tmp_path)
    assert not manifests.errors, manifests.errors
    (api,) = manifests.of_kind("ApiV4Definition")
    assert "labels" not in api.spec and "labels2" not in api.spec


def test_a_null_key_repeated_with_a_value_is_a_duplicate(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(
        tmp_path,
        "api.yaml",
        api_v4("echo").replace('  version: "1.0"\n', '  version: null\n  version: "1.0"\n'),
    )
    error = only_error(load(tmp_path))
    assert error.message == "duplicate key 'version' with a different value (first defined at line 9)"
    assert error.position is not None and error.position.line == 10


def test_null_items_of_a_list_stay_and_the_schema_judges_them(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(
        tmp_path,
        "api.yaml",
        api_v4("echo").replace('  version: "1.0"\n', '  version: "1.0"\n  tags: [a, null]\n'),
    )
    error = only_error(load(tmp_path))
    assert error.field == ("spec", "tags", 1)
    assert error.position is not None and error.position.line == 10


def _listed(*documents: str, indent: str = "  ") -> str:
    items = []
    for document in documents:
        lines = document.splitlines()
        items.append("\n".join([f"{indent}- {lines[0]}", *(f"{indent}  {line}" for line in lines[1:])]))
    return "\n".join(items) + "\n"


def test_a_list_is_expanded_item_by_item_each_at_its_line(tmp_path: Path) -> None:
    text = 'apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: ""\nitems:\n' + _listed(
        CONTEXT, api_v4("first", "/first"), api_v4("second", "/second")
    )
    write(tmp_path, "exported.yaml", text)
    manifests = load(tmp_path)
    assert manifests.ok and not manifests.problems, manifests.problems
    by_name = {r.name: r for r in manifests.resources}
    assert sorted(by_name) == ["ctx", "first", "second"]
    lines = text.splitlines()
    for name, resource in by_name.items():
        line = resource.position.line
        assert lines[line - 1] == "  - apiVersion: gravitee.io/v1alpha1"
        assert resource.position.column == 5
        assert f"  name: {name}" in "\n".join(lines[line : line + 4])
    listener = by_name["second"].at("listeners", 0, "paths", 0, "path")
    assert lines[listener.line - 1].strip() == "- path: /second"


def test_the_same_resources_from_a_list_or_from_files(tmp_path: Path) -> None:
    as_list, as_files = tmp_path / "list", tmp_path / "files"
    write(as_list, "all.yaml", "apiVersion: v1\nkind: List\nitems:\n" + _listed(CONTEXT, api_v4("echo")))
    write(as_files, "ctx.yaml", CONTEXT)
    write(as_files, "echo.yaml", api_v4("echo"))
    a, b = load(as_list), load(as_files)
    assert a.resources == b.resources
    assert _bodies(build_desired(a.resources)) == _bodies(build_desired(b.resources))


def test_lists_inside_lists_and_typed_lists(tmp_path: Path) -> None:
    inner = "apiVersion: v1\nkind: List\nitems:\n" + _listed(api_v4("inner", "/inner"))
    typed = "apiVersion: gravitee.io/v1alpha1\nkind: ApiV4DefinitionList\nitems:\n" + _listed(
        api_v4("typed", "/t")
    )
    write(tmp_path, "nested.yaml", "apiVersion: v1\nkind: List\nitems:\n" + _listed(CONTEXT, inner, typed))
    manifests = load(tmp_path)
    assert manifests.ok and not manifests.problems, manifests.problems
    assert sorted(r.name for r in manifests.resources) == ["ctx", "inner", "typed"]


def test_a_broken_item_is_reported_at_its_line_and_the_others_load(tmp_path: Path) -> None:
    broken = api_v4("broken", "/broken").replace("  type: PROXY\n", "  type: SOAP\n")
    text = "apiVersion: v1\nkind: List\nitems:\n" + _listed(CONTEXT, broken, "kind: ApiV4Definition")
    write(tmp_path, "list.yaml", text)
    manifests = load(tmp_path)
    lines = text.splitlines()
    errors = {e.message: e.position for e in manifests.errors}
    soap = next(p for m, p in errors.items() if m.startswith('"SOAP" is not one of'))
    assert soap is not None and lines[soap.line - 1].strip() == "type: SOAP"
    missing = errors["missing apiVersion"]
    assert missing is not None and lines[missing.line - 1] == "  - kind: ApiV4Definition"
    assert {r.name for r in manifests.resources} == {"ctx", "broken"}


def test_a_list_whose_items_are_not_a_list_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "list.yaml", "apiVersion: v1\nkind: List\nitems:\n  name: oops\n")
    error = only_error(load(tmp_path))
    assert (
        error.message
        == "the items of a List must be a list of manifests, not a mapping: nothing in it is loaded"
    )
    assert str(error.position).endswith("list.yaml:3:1")


def test_an_empty_list_is_fine(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(
        tmp_path,
        "list.yaml",
        "apiVersion: v1\nkind: List\nitems: []\n---\napiVersion: v1\nkind: List\nitems:\n",
    )
    manifests = load(tmp_path)
    assert manifests.ok and not manifests.problems and len(manifests.resources) == 1


def test_kubernetes_only_kinds_stay_skipped_with_a_warning(tmp_path: Path) -> None:
    documents = {
        "gravitee.io/v1alpha1/GatewayClassParameters": "spec: {}",
        "gravitee.io/v1alpha1/KafkaRoute": "spec: {}",
        "gateway.networking.k8s.io/v1/Gateway": "spec: {gatewayClassName: gravitee}",
        "gateway.networking.k8s.io/v1/GatewayClass": "spec: {controllerName: apim.gravitee.io/gateway}",
        "gateway.networking.k8s.io/v1/HTTPRoute": "spec: {}",
        "networking.k8s.io/v1/Ingress": "spec: {ingressClassName: graviteeio}",
    }
    text = "---\n".join(
        f"apiVersion: {key.rsplit('/', 1)[0]}\nkind: {key.rsplit('/', 1)[1]}\nmetadata: {{name: x}}\n{body}\n"
        for key, body in documents.items()
    )
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "k8s.yaml", text)
    listed = "apiVersion: v1\nkind: List\nitems:\n" + _listed(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress"
    )
    write(tmp_path, "listed.yaml", listed)
    manifests = load(tmp_path)
    assert manifests.ok and len(manifests.resources) == 1
    assert all(w.severity is Severity.WARNING for w in manifests.warnings)
    assert [w.message for w in manifests.warnings] == [
        "skipped GatewayClassParameters: apim-reconciler does not reconcile this GKO kind yet",
        "skipped KafkaRoute: apim-reconciler does not reconcile this GKO kind yet",
        "skipped gateway.networking.k8s.io/v1/Gateway: not a resource that apim-reconciler reconciles",
        "skipped gateway.networking.k8s.io/v1/GatewayClass: not a resource that apim-reconciler reconciles",
        "skipped gateway.networking.k8s.io/v1/HTTPRoute: not a resource that apim-reconciler reconciles",
        "skipped networking.k8s.io/v1/Ingress: not a resource that apim-reconciler reconciles",
        "skipped networking.k8s.io/v1/Ingress: not a resource that apim-reconciler reconciles",
    ]
