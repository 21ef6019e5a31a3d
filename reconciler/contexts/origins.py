"""Where a ManagementContext's credentials come from: the repository itself, or somewhere outside it.

A credential written in the manifest (a literal `bearerToken` or password) is already known to
whoever can write the repository. One read from a mounted secret, a config map or the environment
(`auth.secretRef`, or a `[[ secret ]]`, `[[ configmap ]]` or `[[ env ]]` template inside `auth`) is
not, and must only be sent where the operator bound it (`reconciler.contexts.binding`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.manifests.model import Resource
from reconciler.manifests.templates import TemplateKind, TemplateSyntaxError, has_template, parse_templates
from reconciler.secrets.store import SourceKind, env_var_name


class OriginKind(StrEnum):
    SECRET = "secret"  # a kind of place, not a value  # nosec B105
    CONFIGMAP = "configmap"
    ENV = "env"


@dataclass(frozen=True, order=True)
class CredentialOrigin:
    """One place outside the repository that a credential is read from.

    For a secret or a config map, `namespace`/`name` name it (the operator may bind it with keys
    beside the credential); for an environment variable, `name` is the variable, and `env_prefix`,
    when set, names the variables beside it that bind it (`APIM_ADMIN` for `APIM_ADMIN_BASEURL`).
    """

    kind: OriginKind
    name: str
    namespace: str = ""
    env_prefix: str = ""

    @property
    def has_keys(self) -> bool:
        """Whether binding keys (`baseUrl`, `allowedUrls`) can sit beside the credential."""
        return self.kind is not OriginKind.ENV or bool(self.env_prefix)

    @property
    def source_kind(self) -> SourceKind:
        return SourceKind.CONFIGMAP if self.kind is OriginKind.CONFIGMAP else SourceKind.SECRET

    def key_env(self, key: str) -> str:
        """The variable that holds `key` beside the credential (`APIM_SECRET_NS_NAME_KEY`)."""
        if self.kind is OriginKind.ENV:
            return f"{self.env_prefix}_{key.upper()}"
        return env_var_name(self.source_kind, self.namespace, self.name, key)

    def __str__(self) -> str:
        if self.kind is OriginKind.ENV:
            return f"environment variable {self.name}"
        return f"{self.kind} {self.namespace}/{self.name}"


def auth_origins(context: Resource) -> tuple[CredentialOrigin, ...]:
    """Every place outside the repository that `spec.auth` reads from, sorted; () when it reads none."""
    auth = context.spec.get("auth")
    if not isinstance(auth, Mapping):
        return ()
    found: set[CredentialOrigin] = set()
    ref = auth.get("secretRef")
    if isinstance(ref, Mapping) and isinstance(ref.get("name"), str) and ref["name"]:
        namespace = ref.get("namespace")
        found.add(
            CredentialOrigin(
                OriginKind.SECRET,
                ref["name"],
                namespace if isinstance(namespace, str) and namespace else context.namespace,
            )
        )
    for text in _strings(auth):
        if not has_template(text):
            continue
        try:
            templates = parse_templates(text)
        except TemplateSyntaxError:
            continue  # validate reports it, and resolution fails before anything is sent
        for template in templates:
            if template.kind is TemplateKind.ENV:
                found.add(CredentialOrigin(OriginKind.ENV, template.key))
            else:
                kind = OriginKind.SECRET if template.kind is TemplateKind.SECRET else OriginKind.CONFIGMAP
                found.add(CredentialOrigin(kind, template.name, context.namespace))
    return tuple(sorted(found))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
