"""Where Kubernetes-style secrets and config maps come from when there is no Kubernetes.

A secret (or config map) key is looked for, in order:

1. a file in the Kubernetes secret-volume layout under a directory: ``<dir>/<namespace>/<name>/<key>``,
   then ``<dir>/<name>/<key>`` (one mounted secret, any namespace);
2. an environment variable ``APIM_SECRET_<NAMESPACE>_<NAME>_<KEY>`` (``APIM_CONFIGMAP_...`` for config
   maps), upper-cased, every character other than A-Z and 0-9 written as ``_``.

Files are read again on every lookup: that is a few syscalls, and it is what makes a rotated token
(kubelet swaps the ``..data`` symlink) take effect without a restart. Reads are confined to the
directory: names and keys are checked before they touch the file system, and the real path of what
is opened must still be inside the real path of the directory, so the ``key -> ..data/key`` links
that kubelet writes work while a link to /etc/passwd does not.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from reconciler.defaults import DEFAULT_SECRETS_DIR
from reconciler.secrets.errors import SecretPathError, SecretResolutionError
from reconciler.secrets.redaction import MIN_SCRUB_LENGTH, Redactor, default_redactor
from reconciler.secrets.value import Secret

# Kubernetes object names (DNS subdomain) and data keys; a key may not be "." or "..", nor start with
# "..", which is where kubelet keeps its own timestamped directories and the `..data` link.
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_ENV_UNSAFE = re.compile(r"[^A-Z0-9]")
_ROTATION_RETRIES = 3
MAX_SECRET_FILE_SIZE = 64 * 1024
"""A token, a password or a PEM bundle is far smaller; a larger file is a mistake (or an attack:
a 20 MB "token" once took 70 s and 3.2 GB to turn into a header)."""


def read_capped(path: Path, limit: int = MAX_SECRET_FILE_SIZE) -> bytes | None:
    """The file's bytes, or None when it holds more than `limit`: never more than limit + 1 is read."""
    with path.open("rb") as file:
        data = file.read(limit + 1)
    return None if len(data) > limit else data


class SecretFileError(ValueError):
    """A secret file that cannot serve: the message names the file, never its content."""


def read_secret_text(path: Path, what: str) -> str:
    """A secret file's text (surrounding whitespace dropped), registered with the redactor before it is
    returned; refused when unreadable, larger than `MAX_SECRET_FILE_SIZE`, not UTF-8 or empty."""
    try:
        data = read_capped(path)
    except OSError as error:
        raise SecretFileError(f"cannot read the {what} file {path}: {error.strerror}") from None
    if data is None:
        raise SecretFileError(f"the {what} file {path} is larger than {MAX_SECRET_FILE_SIZE} bytes")
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise SecretFileError(f"the {what} file {path} is not UTF-8 text") from None
    if not text:
        raise SecretFileError(f"the {what} file {path} is empty (or only whitespace)")
    default_redactor().add(text)
    return text


class SourceKind(StrEnum):
    SECRET = "secret"  # a kind of source, not a value  # nosec B105
    CONFIGMAP = "configmap"

    @property
    def env_prefix(self) -> str:
        return "APIM_SECRET" if self is SourceKind.SECRET else "APIM_CONFIGMAP"


def env_var_name(kind: SourceKind, namespace: str, name: str, key: str) -> str:
    """``APIM_SECRET_DEFAULT_APIM_PROD_BEARERTOKEN`` for secret default/apim-prod, key bearerToken."""
    parts = (kind.env_prefix, namespace, name, key)
    return "_".join(_ENV_UNSAFE.sub("_", part.upper()) for part in parts)


@dataclass(frozen=True)
class EnvTemplatePolicy:
    """What ``[[ env `APIM_VAR_...` ]]`` templates may read, as the operator set it (never the repository).

    `public`: variables whose values are not secret (a URL, a stage name), shown in diffs; every
    other value is a `Secret`. `refused`: variables the operator named as the source of a
    credential (``--git-token-env``), refused even with the prefix.
    """

    public: frozenset[str] = frozenset()
    refused: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Lookup:
    """The outcome of looking one key up: its value (None when absent) and every place searched."""

    value: str | None
    looked: tuple[str, ...]
    found_in: str | None = None


def check_name(kind: SourceKind, namespace: str, name: str, key: str) -> None:
    """Refuse a namespace, name or key that could leave the directory, before any file is touched."""
    ref = f"{kind} {namespace}/{name}/{key}"
    for label, part in (("namespace", namespace), ("name", name)):
        if not _NAME.match(part) or ".." in part:
            raise SecretPathError(ref, f"{label} {part!r} is not a valid Kubernetes name")
    if not _KEY.match(key) or key in (".", "..") or key.startswith(".."):
        raise SecretPathError(ref, f"key {key!r} is not a valid Kubernetes secret key")


class KeyValueSource:
    """One kind of source (secrets or config maps): a directory, the environment, or both."""

    def __init__(self, kind: SourceKind, directory: Path | None, environ: Mapping[str, str] | None) -> None:
        self.kind = kind
        self.directory = directory
        self._environ = environ

    def lookup(self, namespace: str, name: str, key: str) -> Lookup:
        check_name(self.kind, namespace, name, key)
        looked: list[str] = []
        if self.directory is not None:
            for candidate in (self.directory / namespace / name / key, self.directory / name / key):
                looked.append(f"file {candidate}")
                value = self._read_confined(candidate, f"{self.kind} {namespace}/{name}/{key}")
                if value is not None:
                    return Lookup(value, tuple(looked), str(candidate))
        var = env_var_name(self.kind, namespace, name, key)
        looked.append(f"env {var}")
        environ = os.environ if self._environ is None else self._environ
        value = environ.get(var)
        if value is not None:
            return Lookup(value, tuple(looked), f"env {var}")
        return Lookup(None, tuple(looked))

    def _read_confined(self, path: Path, ref: str) -> str | None:
        assert self.directory is not None  # callers check the directory first (type narrowing)  # nosec B101
        try:
            root = self.directory.resolve(strict=True)
        except OSError:
            return None  # no directory: nothing mounted, fall through to the environment
        for _ in range(_ROTATION_RETRIES):
            try:
                real = path.resolve(strict=True)
            except FileNotFoundError:
                return None
            except (OSError, RuntimeError):  # a symlink loop, a permission problem
                raise SecretPathError(ref, f"cannot read {path}") from None
            if not real.is_relative_to(root):
                raise SecretPathError(ref, f"{path} points outside {self.directory}")
            if not real.is_file():
                return None
            try:
                # Open the resolved path, not the link, so what is read is what was checked.
                data = read_capped(real)
            except FileNotFoundError:
                continue  # kubelet removed the old ..2026_xx directory after we resolved: look again
            except OSError:
                raise SecretPathError(ref, f"cannot read {path}") from None
            if data is None:
                raise SecretResolutionError(ref, f"{path} is larger than {MAX_SECRET_FILE_SIZE} bytes")
            try:
                return data.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise SecretResolutionError(ref, f"{path} is not UTF-8 text") from None
        return None


class SecretStore:
    """Reads secret and config map keys and environment variables for templates and auth.

    Every secret value it returns is registered with the redactor, so that logging scrubs it.
    """

    def __init__(
        self,
        secrets_dir: Path | None = DEFAULT_SECRETS_DIR,
        config_dir: Path | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        redactor: Redactor | None = None,
        env_policy: EnvTemplatePolicy = EnvTemplatePolicy(),
    ) -> None:
        self.secrets = KeyValueSource(SourceKind.SECRET, secrets_dir, environ)
        self.configmaps = KeyValueSource(SourceKind.CONFIGMAP, config_dir, environ)
        self._environ = environ
        self.env_policy = env_policy
        self.redactor = redactor or default_redactor()
        self._warned_short: set[str] = set()

    def lookup_secret(self, namespace: str, name: str, key: str) -> tuple[Secret | None, Lookup]:
        """A key that may be absent (a secretRef holds `bearerToken` or `username`/`password`)."""
        found = self.secrets.lookup(namespace, name, key)
        if found.value is None:
            return None, found
        self._register(found.value, f"{namespace}/{name}/{key}")
        return Secret(found.value), found

    def secret(self, namespace: str, name: str, key: str) -> Secret:
        value, found = self.lookup_secret(namespace, name, key)
        if value is None:
            raise SecretResolutionError(f"secret {namespace}/{name}/{key}", "not found", looked=found.looked)
        return value

    def configmap(self, namespace: str, name: str, key: str) -> str:
        found = self.configmaps.lookup(namespace, name, key)
        if found.value is None:
            raise SecretResolutionError(
                f"configmap {namespace}/{name}/{key}", "not found", looked=found.looked
            )
        return found.value

    def env(self, variable: str) -> str | Secret:
        """An env template's variable: a `Secret` unless the operator declared it public."""
        if variable in self.env_policy.refused:
            raise SecretResolutionError(
                f"env {variable}",
                "is where the operator's git credential is read from (--git-token-env or "
                "--git-password-env): no template may read it",
            )
        environ = os.environ if self._environ is None else self._environ
        value = environ.get(variable)
        if value is None:
            raise SecretResolutionError(f"env {variable}", "not set", looked=(f"env {variable}",))
        if variable in self.env_policy.public:
            return value
        self._register(value, f"env {variable}")
        return Secret(value)

    def register(self, value: str | Secret, *, atomic: bool = True) -> None:
        """Register a value with the redactor: a token read elsewhere (`atomic`), or a derived one
        (an interpolated string, a header: `atomic=False`, see `Redactor.add`)."""
        self.redactor.add(value, atomic=atomic)

    def _register(self, value: str, where: str) -> None:
        self.redactor.add(value)
        if 0 < len(value) < MIN_SCRUB_LENGTH and where not in self._warned_short:
            self._warned_short.add(where)
            import structlog  # here: the flags' defaults come from this module, and --help logs nothing

            _log = structlog.get_logger("reconciler.secrets")
            _log.warning(
                "secrets.value_too_short_to_scrub",
                secret=where,
                min_length=MIN_SCRUB_LENGTH,
            )
