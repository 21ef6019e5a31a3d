"""GKO's spec templates: ``[[ secret `name/key` ]]``, ``[[ configmap `ns/name/key` ]]``, and our
``[[ env `VAR` ]]``.

GKO evaluates Go templates with `[[ ]]` delimiters in any string under `spec`; we recognise the
three functions above, with the argument in backticks or double quotes, anywhere inside a string.
This module only parses; resolution needs secrets and belongs to a later stage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class TemplateKind(StrEnum):
    SECRET = "secret"  # the template function's name  # nosec B105
    CONFIGMAP = "configmap"
    ENV = "env"


@dataclass(frozen=True)
class TemplateRef:
    """One parsed template; `namespace` is None when the template leaves it to the resource."""

    kind: TemplateKind
    namespace: str | None
    name: str
    key: str
    start: int
    end: int

    @property
    def text(self) -> str:
        if self.kind is TemplateKind.ENV:
            return f"env {self.key}"
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}/{self.key}"


class TemplateSyntaxError(ValueError):
    """A `[[ ... ]]` that is not one of the templates we understand."""


_OPEN, _CLOSE = "[[", "]]"
_BODY = re.compile(r"^\s*(?P<func>[A-Za-z_][\w-]*)\s+(?P<quote>[`\"])(?P<arg>[^`\"]*)(?P=quote)\s*$")
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def has_template(value: str) -> bool:
    return _OPEN in value


def is_whole_template(value: str) -> bool:
    """True when the string is exactly one template, so that it may stand for an enum, number or bool."""
    stripped = value.strip()
    if not (stripped.startswith(_OPEN) and stripped.endswith(_CLOSE)):
        return False
    try:
        refs = parse_templates(stripped)
    except TemplateSyntaxError:
        return False
    return len(refs) == 1 and refs[0].start == 0 and refs[0].end == len(stripped)


def parse_templates(value: str) -> list[TemplateRef]:
    """Every template in a string, in order; raises TemplateSyntaxError on a malformed one."""
    refs: list[TemplateRef] = []
    pos = 0
    while (start := value.find(_OPEN, pos)) != -1:
        end = value.find(_CLOSE, start + 2)
        if end == -1:
            raise TemplateSyntaxError(f"unterminated template: {_OPEN!r} without {_CLOSE!r}")
        refs.append(_parse_one(value[start + 2 : end], start, end + 2))
        pos = end + 2
    return refs


def _parse_one(body: str, start: int, end: int) -> TemplateRef:
    match = _BODY.match(body)
    if match is None:
        raise TemplateSyntaxError(
            "malformed template: expected [[ secret `name/key` ]], [[ configmap `name/key` ]] "
            "or [[ env `VAR` ]]"
        )
    func, arg = match["func"], match["arg"]
    try:
        kind = TemplateKind(func)
    except ValueError:
        raise TemplateSyntaxError(
            f"unknown template function {func!r}: expected secret, configmap or env"
        ) from None
    if kind is TemplateKind.ENV:
        if not _ENV_NAME.match(arg):
            raise TemplateSyntaxError(f"env template needs a variable name, got {arg!r}")
        return TemplateRef(kind, None, "", arg, start, end)
    parts = arg.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise TemplateSyntaxError(f"{func} template needs `name/key` or `namespace/name/key`, got {arg!r}")
    *names, key = parts
    namespace = names[0] if len(names) == 2 else None
    for name in names:
        if not _K8S_NAME.match(name):
            raise TemplateSyntaxError(f"{func} template: {name!r} is not a valid Kubernetes name")
    if not _SECRET_KEY.match(key):
        raise TemplateSyntaxError(f"{func} template: {key!r} is not a valid key")
    return TemplateRef(kind, namespace, names[-1], key, start, end)
