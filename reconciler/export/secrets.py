"""Which exported values are secrets, and their replacement by GKO secret templates.

APIM hands the export its configuration in clear: endpoint passwords, OAuth client secrets, API keys
sent to backends. Written as they are, they would land in git. So every value that *looks* secret is
replaced by ``[[ secret `<name>/<key>` ]]`` and reported, by name and key only, as a Kubernetes Secret
to create (or a file under ``--secrets-dir``, or an ``APIM_SECRET_*`` variable). The value itself is
never written nor printed.

The heuristic (deliberately broad: a false positive costs one Secret to create, a false negative
leaks a credential into git history for good). A string value is secret when

1. its key, lower-cased with ``-``, ``_`` and ``.`` removed, ends with one of `SECRET_KEY_SUFFIXES`
   (``password``, ``secret``, ``token``, ``apikey``, ``privatekey``, ...) or equals one of
   `SECRET_KEYS` (``authorization``, ``credentials``, ``jwks``...), e.g. ``clientSecret``,
   ``keyStorePassword``, ``x-api-key``, ``accessToken``; or
2. it is the ``value`` of a ``{name|key: ..., value: ...}`` pair (HTTP headers, API properties,
   metadata) whose name passes rule 1 (``Authorization``, ``X-Api-Key``), or which is marked
   ``encrypted: true`` (an encrypted API property).

Not replaced: empty strings, values that already hold a template (``[[ ... ]]``), Gravitee EL
expressions (``{#...}``, which read the value from elsewhere at run time), and keys that only name a
secret's *location* (``tokenEndpoint``, ``secretRef``: they end in something else).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.secrets.redaction import default_redactor

JSON = Any

SECRET_KEY_SUFFIXES = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "secretkey",
    "token",
    "apikey",
    "privatekey",
    "accesskey",
    "sessionkey",
)
SECRET_KEYS = frozenset(("pwd", "authorization", "proxyauthorization", "credentials", "cookie"))
_NOT_SECRET = frozenset(("tokentype", "secrettype", "secretref", "tokenendpoint", "apikeyheader"))
_KEY_CHARS = re.compile(r"[^-._a-zA-Z0-9]+")


@dataclass(frozen=True)
class SecretRef:
    """One value taken out of a manifest: where it was, and the Secret key that now holds it."""

    namespace: str
    name: str
    key: str
    path: str
    """Where the value sat in the spec, for people (``endpointGroups[default].endpoints[...]...``)."""

    @property
    def template(self) -> str:
        return f"[[ secret `{self.name}/{self.key}` ]]"


def looks_secret(key: str) -> bool:
    """Rule 1: a key whose name says it holds a credential."""
    folded = key.lower().replace("-", "").replace("_", "").replace(".", "")
    if folded in _NOT_SECRET:
        return False
    return folded in SECRET_KEYS or folded.endswith(SECRET_KEY_SUFFIXES)


def _replaceable(value: JSON) -> bool:
    return isinstance(value, str) and value != "" and "[[" not in value and "{#" not in value


def _pair_is_secret(item: Mapping[str, JSON]) -> bool:
    """Rule 2: a name/value pair whose name looks secret, or an encrypted property."""
    if item.get("encrypted") is True:
        return True
    label = item.get("name", item.get("key"))
    return isinstance(label, str) and looks_secret(label)


def _label(item: JSON, index: int) -> str:
    if isinstance(item, Mapping):
        for field in ("name", "key", "hrid", "username", "type"):
            if isinstance(item.get(field), str) and item[field]:
                return str(item[field])
    return str(index)


class _Extractor:
    def __init__(self, namespace: str, secret_name: str) -> None:
        self.namespace = namespace
        self.secret_name = secret_name
        self.found: list[SecretRef] = []
        self._keys: set[str] = set()

    def take(self, path: list[str]) -> str:
        # The key reads like the path, minus what every plugin path repeats ("configuration").
        short = [p for p in path if p != "configuration"]
        if len(short) > 1 and short[-1] == "value":
            short = short[:-1]  # a name/value pair: the name says it all
        base = _KEY_CHARS.sub("-", ".".join(short)).strip(".-") or "value"
        key, n = base, 2
        while key in self._keys:
            key, n = f"{base}-{n}", n + 1
        self._keys.add(key)
        ref = SecretRef(self.namespace, self.secret_name, key, _display(path))
        self.found.append(ref)
        return ref.template

    def walk(self, node: JSON, path: list[str]) -> JSON:
        if isinstance(node, Mapping):
            pair = _pair_is_secret(node) and "value" in node
            out: dict[str, JSON] = {}
            for k, v in node.items():
                here = [*path, str(k)]
                secret = looks_secret(str(k)) or (pair and k == "value")
                if secret and _replaceable(v):
                    default_redactor().add(str(v))  # never written; never printed either
                    out[k] = self.take(here)
                else:
                    out[k] = self.walk(v, here)
            return out
        if isinstance(node, list):
            return [self.walk(item, [*path, _label(item, i)]) for i, item in enumerate(node)]
        return node


def _display(path: list[str]) -> str:
    return ".".join(path)


def extract_secrets(
    spec: Mapping[str, JSON], namespace: str, secret_name: str
) -> tuple[JSON, list[SecretRef]]:
    """A copy of `spec` with every secret-looking value replaced by a template into one Secret.

    Keys of the Secret are the dotted paths of the values (list items named by their ``name``,
    ``key`` or ``hrid``), so a reviewer can tell what each one is for.
    """
    extractor = _Extractor(namespace, secret_name)
    return extractor.walk(spec, []), extractor.found
