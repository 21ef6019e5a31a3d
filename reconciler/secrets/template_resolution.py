"""Resolving GKO templates (``[[ secret ... ]]``, ``[[ configmap ... ]]``, ``[[ env ... ]]``) in a spec.

The result is a new spec in which every templated string is replaced: a string that held a secret
template (alone or inside a longer text) becomes one `Secret` of the whole interpolated string, so
that the secret part never travels as a plain `str`; config map templates give plain
strings, and env templates `Secret`s too unless the operator declared the variable public. Values
stay strings even where the schema wants a number or an enum: re-validation of the resolved spec is
the validator's job (`validate_resolved`, whose messages name the template, never the value).

All failing references of a spec are reported together (`SecretResolutionErrors`), each with the
field path, so the CLI can point at `file:line` for every one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.manifests.model import JSON, FieldPath, Problem, Resource, Severity
from reconciler.manifests.templates import (
    TemplateKind,
    TemplateRef,
    TemplateSyntaxError,
    has_template,
    parse_templates,
)
from reconciler.secrets.errors import SecretResolutionError, SecretResolutionErrors
from reconciler.secrets.store import SecretStore
from reconciler.secrets.value import Secret


def resolve_templates(
    spec: Mapping[str, JSON], namespace: str, store: SecretStore, *, field_prefix: FieldPath = ("spec",)
) -> dict[str, Any]:
    """A copy of `spec` with every template resolved; raises SecretResolutionErrors listing failures."""
    errors: list[SecretResolutionError] = []
    resolved = _walk(spec, namespace, store, field_prefix, errors)
    if errors:
        raise SecretResolutionErrors(errors)
    assert isinstance(resolved, dict)  # a mapping in gives a mapping out (type narrowing)  # nosec B101
    return resolved


def resolve_resource_templates(resource: Resource, store: SecretStore) -> dict[str, Any]:
    """`resolve_templates` for a resource's spec, in the resource's namespace."""
    return resolve_templates(resource.spec, resource.namespace, store)


def resolution_problems(resource: Resource, errors: SecretResolutionErrors) -> list[Problem]:
    """The errors as manifest problems pointing at the line of each templated field."""
    problems = []
    for error in errors.errors:
        spec_path = error.field[1:] if error.field[:1] == ("spec",) else error.field
        problems.append(
            Problem(
                Severity.ERROR,
                f"{error.ref}: {error.reason}"
                + (f" (looked in {', '.join(error.looked)})" if error.looked else ""),
                resource.at(*spec_path),
                resource.id,
                error.field,
            )
        )
    return problems


def _walk(
    value: Any, namespace: str, store: SecretStore, path: FieldPath, errors: list[SecretResolutionError]
) -> Any:
    if isinstance(value, str):
        return _resolve_string(value, namespace, store, path, errors) if has_template(value) else value
    if isinstance(value, Mapping):
        return {k: _walk(v, namespace, store, (*path, k), errors) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(v, namespace, store, (*path, i), errors) for i, v in enumerate(value)]
    return value


def _resolve_string(
    text: str, namespace: str, store: SecretStore, path: FieldPath, errors: list[SecretResolutionError]
) -> str | Secret:
    try:
        refs = parse_templates(text)
    except TemplateSyntaxError as exc:
        errors.append(SecretResolutionError("template", str(exc), field=path))
        return text
    out: list[str] = []
    secret = False
    pos = 0
    failed = False
    for ref in refs:
        out.append(text[pos : ref.start])
        pos = ref.end
        try:
            piece = _resolve_ref(ref, namespace, store)
        except SecretResolutionError as exc:
            errors.append(exc.at_field(path))
            failed = True
            continue
        if isinstance(piece, Secret):
            secret = True
            out.append(piece.reveal())
        else:
            out.append(piece)
    out.append(text[pos:])
    if failed:
        return text
    joined = "".join(out)
    if secret:
        store.register(joined, atomic=False)
        return Secret(joined)
    return joined


def _resolve_ref(ref: TemplateRef, namespace: str, store: SecretStore) -> str | Secret:
    if ref.kind is TemplateKind.ENV:
        return store.env(ref.key)
    if ref.kind is TemplateKind.SECRET:
        return store.secret(namespace, ref.name, ref.key)
    return store.configmap(namespace, ref.name, ref.key)
