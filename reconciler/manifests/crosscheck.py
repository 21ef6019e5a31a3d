"""Checks that look across resources and files, after each document passed its schema.

Each check is a small function from resources to problems; they read specs defensively, since a
resource with schema errors still takes part (its other problems are worth knowing too).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence

from reconciler.manifests.hrid import key_hrid, resource_hrid
from reconciler.manifests.limits import check_limits
from reconciler.manifests.model import (
    API_DEFINITION,
    API_V4_DEFINITION,
    JSON,
    MANAGEMENT_CONTEXT,
    FieldPath,
    Problem,
    Resource,
    ResourceId,
    Severity,
)
from reconciler.manifests.templates import TemplateKind, TemplateRef, TemplateSyntaxError, parse_templates

APIS = (API_V4_DEFINITION, API_DEFINITION)


def cross_check(resources: Sequence[Resource]) -> list[Problem]:
    checks: list[Callable[[Sequence[Resource]], Iterator[Problem]]] = [
        _duplicate_identities,
        _contexts_sharing_an_environment,
        _unknown_context_refs,
        _colliding_hrids,
        _clashing_listener_paths,
        _colliding_plan_and_page_keys,
        check_limits,  # names and sizes that APIM refuses (limits.py)
        _credentials_outside_auth,
    ]
    return [problem for check in checks for problem in check(resources)]


def _error(
    message: str, resource: Resource, path: FieldPath = (), involves: Resource | None = None
) -> Problem:
    """An error at `resource`; `involves`: the other resource of a clash, which is not OK either."""
    others = (involves.id,) if involves is not None and involves.id != resource.id else ()
    return Problem(Severity.ERROR, message, resource.positions.of(path), resource.id, path, others)


def _duplicate_identities(resources: Sequence[Resource]) -> Iterator[Problem]:
    first: dict[ResourceId, Resource] = {}
    for resource in resources:
        seen = first.setdefault(resource.id, resource)
        if seen is not resource:
            yield _error(
                f"duplicate {resource.id}: first defined at {seen.position}", resource, ("metadata", "name")
            )


def _environment_of(context: Resource) -> tuple[str, str, str, str] | None:
    spec = context.spec
    base, org, env = spec.get("baseUrl"), spec.get("organizationId"), spec.get("environmentId")
    if not isinstance(base, str):
        return None
    url = re.sub(r"/+(management(/v2)?|automation)?/*$", "", base.strip().lower())
    path = spec.get("path") if isinstance(spec.get("path"), str) else ""
    return url, str(path), str(org or "DEFAULT"), str(env or "DEFAULT")


def _contexts_sharing_an_environment(resources: Sequence[Resource]) -> Iterator[Problem]:
    """Legal, but usually a copy-paste slip: worth a word."""
    first: dict[tuple[str, str, str, str], Resource] = {}
    for context in resources:
        target = _environment_of(context) if context.kind == MANAGEMENT_CONTEXT else None
        if target is None:
            continue
        seen = first.setdefault(target, context)
        if seen is not context and seen.id != context.id:
            yield Problem(
                Severity.WARNING,
                f"targets the same APIM environment as {seen.id} ({seen.position}); each context "
                "manages and prunes only what it wrote itself",
                context.positions.of(("spec", "baseUrl")),
                context.id,
                ("spec", "baseUrl"),
            )


def _unknown_context_refs(resources: Sequence[Resource]) -> Iterator[Problem]:
    contexts = {r.id for r in resources if r.kind == MANAGEMENT_CONTEXT}
    for resource in resources:
        ref = resource.context_ref
        if ref is not None and ref.id not in contexts:
            known = ", ".join(f"{c.namespace}/{c.name}" for c in sorted(contexts)) or "none"
            yield _error(
                f"contextRef {ref.namespace}/{ref.name} names no ManagementContext in the repository "
                f"(known: {known})",
                resource,
                ("spec", "contextRef", "name"),
            )


def _colliding_hrids(resources: Sequence[Resource]) -> Iterator[Problem]:
    """`a-b/c` and `a/b-c` both become HRID `a-b-c`: APIM would see one resource, not two."""
    seen: dict[tuple[object, str, str], Resource] = {}
    for resource in resources:
        ref = resource.context_ref
        if ref is None or resource.kind == MANAGEMENT_CONTEXT:
            continue
        family = "api" if resource.kind in APIS else resource.kind
        key = (ref.id, family, resource_hrid(resource.namespace, resource.name))
        other = seen.setdefault(key, resource)
        if other is not resource and other.id != resource.id:
            yield _error(
                f"HRID {key[2]!r} is also the HRID of {other.id} ({other.position}): "
                "APIM would see them as one resource",
                resource,
                ("metadata", "name"),
                involves=other,
            )


def _normalise_path(path: str) -> str:
    path = "/" + path.strip().strip("/")
    path = re.sub(r"/+", "/", path)
    return path if path.endswith("/") else path + "/"


def _host(entry: dict[str, object]) -> str:
    host = entry.get("host")
    return host.lower() if isinstance(host, str) else ""


def _listener_paths(resource: Resource) -> Iterator[tuple[str, str, FieldPath]]:
    """(host, normalised path, field) for every HTTP entry path an API claims."""
    spec = resource.spec
    if resource.kind == API_V4_DEFINITION:
        listeners = spec.get("listeners")
        for i, listener in enumerate(listeners if isinstance(listeners, list) else []):
            if not isinstance(listener, dict) or listener.get("type", "HTTP") != "HTTP":
                continue
            paths = listener.get("paths")
            for j, entry in enumerate(paths if isinstance(paths, list) else []):
                if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                    yield (
                        _host(entry),
                        _normalise_path(entry["path"]),
                        ("spec", "listeners", i, "paths", j, "path"),
                    )
    elif resource.kind == API_DEFINITION:
        proxy = spec.get("proxy")
        hosts = proxy.get("virtual_hosts") if isinstance(proxy, dict) else None
        for i, entry in enumerate(hosts if isinstance(hosts, list) else []):
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                yield (
                    _host(entry),
                    _normalise_path(entry["path"]),
                    ("spec", "proxy", "virtual_hosts", i, "path"),
                )


def _clashing_listener_paths(resources: Sequence[Resource]) -> Iterator[Problem]:
    claimed: dict[tuple[object, str, str], Resource] = {}
    for resource in resources:
        ref = resource.context_ref
        if resource.kind not in APIS or ref is None:
            continue
        for host, path, field in _listener_paths(resource):
            owner = claimed.setdefault((ref.id, host, path), resource)
            if owner is not resource:
                where = f" on host {host}" if host else ""
                yield _error(
                    f"path {path}{where} is already used by {owner.id} ({owner.position}) in the same "
                    "management context",
                    resource,
                    field,
                    involves=owner,
                )


def _colliding_plan_and_page_keys(resources: Sequence[Resource]) -> Iterator[Problem]:
    for resource in resources:
        if resource.kind not in APIS:
            continue
        for section in ("plans", "pages"):
            entries = resource.spec.get(section)
            if not isinstance(entries, dict):
                continue
            seen: dict[str, str] = {}
            for key in entries:
                normalised = key_hrid(key)
                first = seen.setdefault(normalised, key)
                if first != key:
                    yield _error(
                        f"{section[:-1]} keys {first!r} and {key!r} both become HRID {normalised!r} "
                        "(spaces and dots become dashes)",
                        resource,
                        ("spec", section, key),
                    )


def _templates(value: JSON, path: FieldPath) -> Iterator[tuple[FieldPath, TemplateRef]]:
    """Every well-formed template under `value` with the path of its string (malformed ones are
    reported by the loader)."""
    if isinstance(value, str):
        if "[[" in value:
            try:
                refs = parse_templates(value)
            except TemplateSyntaxError:
                return
            yield from ((path, ref) for ref in refs)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _templates(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _templates(item, (*path, index))


def _credentials_outside_auth(resources: Sequence[Resource]) -> Iterator[Problem]:
    """A template elsewhere that reads what a ManagementContext authenticates with would send the
    APIM credentials to APIM as an API's field (readable by anyone with access to the API), or put
    them in a diff: the secret of `spec.auth.secretRef`, and any secret or variable that a template
    in `spec.auth` reads. They may be read in `spec.auth` of a context, nowhere else."""
    secrets: dict[tuple[str, str], Resource] = {}
    variables: dict[str, Resource] = {}
    for context in resources:
        auth = context.spec.get("auth") if context.kind == MANAGEMENT_CONTEXT else None
        if not isinstance(auth, Mapping):
            continue
        ref = auth.get("secretRef")
        if isinstance(ref, Mapping) and isinstance(ref.get("name"), str) and ref["name"]:
            namespace = ref.get("namespace")
            namespace = namespace if isinstance(namespace, str) and namespace else context.namespace
            secrets.setdefault((namespace, ref["name"]), context)
        for _, template in _templates(auth, ()):
            if template.kind is TemplateKind.SECRET:
                secrets.setdefault((context.namespace, template.name), context)
            elif template.kind is TemplateKind.ENV:
                variables.setdefault(template.key, context)
    if not secrets and not variables:
        return
    for resource in resources:
        if not resource.has_templates:  # the loader found no "[[" in its spec: nothing to walk
            continue
        for path, template in _templates(resource.spec, ("spec",)):
            if resource.kind == MANAGEMENT_CONTEXT and path[:2] == ("spec", "auth"):
                continue
            if template.kind is TemplateKind.SECRET:
                owner = secrets.get((resource.namespace, template.name))
                what = f"secret {resource.namespace}/{template.name}"
            elif template.kind is TemplateKind.ENV:
                owner = variables.get(template.key)
                what = f"variable {template.key}"
            else:
                continue
            if owner is not None:
                yield _error(
                    f"{template.source} reads {what}, which {owner.id} authenticates to APIM with "
                    f"({owner.position}): its credentials would be written into this field; "
                    "give this field a secret of its own",
                    resource,
                    path,
                )
