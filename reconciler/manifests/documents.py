"""From YAML documents to our resources: sort out what is ours, skip the rest with a word why."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from reconciler.manifests.model import (
    API_VERSION,
    JSON,
    OTHER_GKO_KINDS,
    RECONCILED_KINDS,
    FieldPath,
    Position,
    Positions,
    Problem,
    Resource,
    ResourceId,
    Severity,
)
from reconciler.manifests.schema import validate_body
from reconciler.manifests.templates import TemplateSyntaxError, has_template, parse_templates

NOT_A_MANIFEST_HINT = (
    "if this file is not a manifest (Helm values, a Chart.yaml), list it in a .sourceignore file"
)


def to_resource(
    body: JSON,
    positions: Positions,
    default_namespace: str,
    nulls: tuple[tuple[FieldPath, Position], ...] = (),
) -> tuple[Resource | None, list[Problem]]:
    """The resource a document declares (None if it is not one of ours) and its problems.

    `nulls`: the fields written as null, which the document leaves out (Kubernetes prunes them);
    a required one of them is reported missing at the line where it was written."""

    def problem(severity: Severity, message: str, path: FieldPath = ()) -> Problem:
        return Problem(severity, message, positions.of(path), None, path)

    if not isinstance(body, dict):
        return None, [
            problem(Severity.ERROR, "a manifest must be a mapping with apiVersion, kind and metadata")
        ]
    api_version, kind = body.get("apiVersion"), body.get("kind")
    has_version = isinstance(api_version, str) and bool(api_version)
    has_kind = isinstance(kind, str) and bool(kind)
    if not has_version and not has_kind:
        # An error, never a skip: a manifest whose apiVersion and kind were lost in an edit would
        # otherwise count as deleted, and its APIM object be pruned.
        return None, [problem(Severity.ERROR, f"no apiVersion and no kind; {NOT_A_MANIFEST_HINT}")]
    if not isinstance(api_version, str) or not api_version:
        return None, [problem(Severity.ERROR, "missing apiVersion")]
    if not isinstance(kind, str) or not kind:
        helm = "" if api_version == API_VERSION else f"; {NOT_A_MANIFEST_HINT}"  # Chart.yaml: apiVersion v2
        return None, [problem(Severity.ERROR, f"missing kind{helm}")]
    if api_version == API_VERSION and kind not in RECONCILED_KINDS + OTHER_GKO_KINDS:
        hint = difflib.get_close_matches(kind, RECONCILED_KINDS + OTHER_GKO_KINDS, n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        return None, [
            problem(Severity.ERROR, f"unknown kind {kind!r} for {API_VERSION}{suggestion}", ("kind",))
        ]
    if api_version != API_VERSION or kind not in RECONCILED_KINDS:
        return None, _skipped(body, api_version, kind, problem)

    metadata = body.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    name = metadata.get("name")
    namespace = metadata.get("namespace") or default_namespace
    identity = (
        ResourceId(kind, namespace, name) if isinstance(name, str) and isinstance(namespace, str) else None
    )
    problems = _at_nulls(validate_body(kind, body, positions, identity), nulls)
    spec = body.get("spec")
    has_templates = False
    if isinstance(spec, dict):
        template_problems, has_templates = _template_problems(spec, positions, identity)
        problems.extend(template_problems)
    problems.extend(_templates_outside_spec(body, positions, identity))
    if identity is None or not name:
        return None, problems
    resource = Resource(
        identity, spec if isinstance(spec, dict) else {}, metadata, positions, has_templates=has_templates
    )
    if kind != "ManagementContext" and resource.context_ref is None:
        problems.append(
            Problem(
                Severity.WARNING,
                "no spec.contextRef: GKO syncs this resource to the gateway only (local mode); "
                "apim-reconciler leaves it alone",
                resource.position,
                identity,
            )
        )
    return resource, problems


def _at_nulls(problems: list[Problem], nulls: tuple[tuple[FieldPath, Position], ...]) -> list[Problem]:
    """A required field written as null is missing (Kubernetes drops it): say so at its own line."""
    if not nulls:
        return problems
    out = []
    for found in problems:
        if found.message.startswith("missing required field"):
            null = next(
                (
                    (path, where)
                    for path, where in nulls
                    if path[:-1] == found.field and repr(path[-1]) in found.message
                ),
                None,
            )
            if null is not None:
                found = Problem(
                    found.severity,
                    f"{found.message}: it is written as null, which Kubernetes drops",
                    null[1],
                    found.resource,
                    found.field,
                )
        out.append(found)
    return out


def _skipped(body: Mapping[str, Any], api_version: str, kind: str, problem: Any) -> list[Problem]:
    if api_version == API_VERSION:
        reason = f"skipped {kind}: apim-reconciler does not reconcile this GKO kind yet"
    else:
        reason = f"skipped {api_version}/{kind}: not a resource that apim-reconciler reconciles"
    problems: list[Problem] = [problem(Severity.WARNING, reason, ("kind",))]
    if kind == "Secret" and api_version == "v1" and (body.get("data") or body.get("stringData")):
        problems.append(
            problem(
                Severity.WARNING,
                "a Secret with inline data: secrets do not belong in git; mount them in the secrets "
                "directory or pass them as environment variables",
                ("data",) if body.get("data") else ("stringData",),
            )
        )
    return problems


def _strings(value: JSON, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _template_problems(
    spec: Mapping[str, JSON], positions: Positions, rid: ResourceId | None
) -> tuple[list[Problem], bool]:
    """Malformed templates of a spec, and whether it has any template at all."""
    problems = []
    found = False
    for path, text in _strings(dict(spec), ("spec",)):
        if not has_template(text):
            continue
        found = True
        try:
            parse_templates(text)
        except TemplateSyntaxError as exc:
            problems.append(Problem(Severity.ERROR, str(exc), positions.of(path), rid, path))
    return problems, found


def _templates_outside_spec(
    body: Mapping[str, JSON], positions: Positions, rid: ResourceId | None
) -> list[Problem]:
    problems = []
    for key, value in body.items():
        if key == "spec":
            continue
        for path, text in _strings(value, (key,)):
            if has_template(text) and "]]" in text:
                problems.append(
                    Problem(
                        Severity.ERROR,
                        "templates are only resolved under spec; this one would reach APIM as written",
                        positions.of(path),
                        rid,
                        path,
                    )
                )
    return problems
