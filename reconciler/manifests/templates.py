"""GKO's spec templates, ``[[ secret `name/key` ]]`` and ``[[ configmap `name/key` ]]``, and our
``[[ env `APIM_VAR_NAME` ]]``.

GKO evaluates Go templates with `[[ ]]` delimiters in any string under `spec`; we recognise the
three functions above, with the argument in backticks or double quotes, anywhere inside a string.
This module only parses; resolution needs secrets and belongs to a later stage.

What a template may read is limited here, so that `validate` refuses it offline, at its line:

- secrets and config maps only in the resource's own namespace, exactly as GKO (its template
  compiler splits the argument into exactly two parts, ``ksPropertyLength = 2``, and reads the
  object's namespace): a manifest cannot read another team's namespace;
- environment variables only with the prefix `ENV_PREFIX`, as decK does: never the reconciler's
  own credentials (``APIM_SECRET_*``), configuration (``RECONCILER_*``) or anything else in its
  environment (a git token), all of which a pull request could otherwise print in a diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class TemplateKind(StrEnum):
    SECRET = "secret"  # the template function's name  # nosec B105
    CONFIGMAP = "configmap"
    ENV = "env"


ENV_PREFIX = "APIM_VAR_"
"""The only variables an env template reads (distinct from APIM_SECRET_, APIM_CONFIGMAP_, RECONCILER_)."""


@dataclass(frozen=True)
class TemplateRef:
    """One parsed template, read in the resource's namespace; `name` is empty for env templates."""

    kind: TemplateKind
    name: str
    key: str
    start: int
    end: int

    @property
    def text(self) -> str:
        if self.kind is TemplateKind.ENV:
            return f"env {self.key}"
        return f"{self.kind} {self.name}/{self.key}"

    @property
    def source(self) -> str:
        """The template as a user would write it, for messages: ``[[ secret `backend/key` ]]``."""
        arg = self.key if self.kind is TemplateKind.ENV else f"{self.name}/{self.key}"
        return f"[[ {self.kind} `{arg}` ]]"


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
            f"or [[ env `{ENV_PREFIX}NAME` ]]"
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
        if not arg.startswith(ENV_PREFIX) or arg == ENV_PREFIX:
            raise TemplateSyntaxError(
                f"env template names {arg}: env templates read only variables whose name starts with "
                f"{ENV_PREFIX} (set {ENV_PREFIX}{arg.removeprefix(ENV_PREFIX) or 'NAME'} for the reconciler); "
                "other variables, its credentials and configuration above all, are never read"
            )
        return TemplateRef(kind, "", arg, start, end)
    parts = arg.split("/")
    if len(parts) == 3 and all(parts):
        raise TemplateSyntaxError(
            f"{func} template {arg!r} names a namespace: like GKO, a {func} is read only from the "
            f"resource's own namespace; write `{parts[1]}/{parts[2]}` and keep the {func} there"
        )
    if len(parts) != 2 or not all(parts):
        raise TemplateSyntaxError(f"{func} template needs `name/key`, got {arg!r}")
    name, key = parts
    if not _K8S_NAME.match(name):
        raise TemplateSyntaxError(f"{func} template: {name!r} is not a valid Kubernetes name")
    if not _SECRET_KEY.match(key):
        raise TemplateSyntaxError(f"{func} template: {key!r} is not a valid key")
    return TemplateRef(kind, name, key, start, end)
