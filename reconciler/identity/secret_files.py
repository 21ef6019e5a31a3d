"""Writing a secret in the Kubernetes secret-volume layout, atomically, so that readers never see half.

The secret store reads ``<dir>/<namespace>/<name>/<key>`` then ``<dir>/<name>/<key>`` before every
request, so a rotation must never expose a missing or truncated key. Two layouts are kept as found:

* **kubelet layout** (``..data`` is a symlink): the keys are written into a new ``..<timestamp>``
  directory next to a copy of the other keys, a ``..data_tmp`` link to it is renamed over ``..data``
  (one atomic ``rename``, as kubelet does), then the old directory is removed. The secret store already
  copes with a directory removed while it reads.
* **plain files**: each key goes to a temporary file in the same directory (mode 0600, fsynced) that is
  renamed over the key. Keys are written in the order given, so callers put the one that matters first.

Every file is created with mode 0600 and every directory made here with 0700. Names and keys are checked
with the secret store's own rules before anything is touched, and the secret's directory must resolve
inside the secrets directory.
"""

from __future__ import annotations

import contextlib
import os
import secrets as _random
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reconciler.identity.model import IdentityError
from reconciler.secrets.store import SourceKind, check_name
from reconciler.secrets.value import Secret

FILE_MODE = 0o600
DIR_MODE = 0o700
DATA_LINK = "..data"


@dataclass(frozen=True)
class SecretLocation:
    """The directory of one secret, and whether kubelet's `..data` layout is in use there."""

    directory: Path
    kubelet_layout: bool

    def key_path(self, key: str) -> Path:
        return self.directory / key


def locate(secrets_dir: Path, namespace: str, name: str) -> SecretLocation:
    """Where secret `namespace/name` lives, or will: the first existing of `DIR/NS/NAME` and `DIR/NAME`,
    else `DIR/NAME` (the layout of one mounted secret, which the store also reads)."""
    check_name(SourceKind.SECRET, namespace, name, "bearerToken")
    for candidate in (secrets_dir / namespace / name, secrets_dir / name):
        if candidate.is_dir():
            return location_of(secrets_dir, candidate)
    return SecretLocation(secrets_dir / name, kubelet_layout=False)


def location_of(secrets_dir: Path, directory: Path) -> SecretLocation:
    """The location of an existing secret directory, refused if it resolves outside `secrets_dir`."""
    try:
        root = secrets_dir.resolve(strict=True)
        real = directory.resolve(strict=True)
    except OSError as exc:
        raise IdentityError(f"cannot use secret directory {directory}: {exc.strerror}") from None
    if not real.is_relative_to(root):
        raise IdentityError(f"secret directory {directory} points outside {secrets_dir}")
    return SecretLocation(directory, kubelet_layout=(directory / DATA_LINK).is_symlink())


def write_keys(location: SecretLocation, data: Mapping[str, Secret | str]) -> None:
    """Write `data` (key -> value) into the secret, atomically per key (plain) or as a whole (kubelet)."""
    for key in data:
        check_name(SourceKind.SECRET, "default", "secret", key)
    location.directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if location.kubelet_layout:
        _swap_data_dir(location.directory, data)
    else:
        for key, value in data.items():
            _replace_file(location.directory / key, value)
    _fsync_dir(location.directory)


def read_key(location: SecretLocation, key: str) -> str | None:
    """A key's current value (trailing newlines stripped, as the store does), or None when absent."""
    try:
        return location.key_path(key).read_text(encoding="utf-8").rstrip("\r\n")
    except FileNotFoundError:
        return None


def _reveal(value: Secret | str) -> bytes:
    return (value.reveal() if isinstance(value, Secret) else value).encode("utf-8")


def _write_new(path: Path, value: Secret | str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(_reveal(value))
        fh.flush()
        os.fsync(fh.fileno())


def _replace_file(path: Path, value: Secret | str) -> None:
    if path.is_symlink():
        raise IdentityError(f"{path} is a symlink outside kubelet's ..data layout: not overwriting it")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(_reveal(value))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _swap_data_dir(directory: Path, data: Mapping[str, Secret | str]) -> None:
    link = directory / DATA_LINK
    old_name = os.readlink(link)
    old_dir = directory / old_name
    stamp = datetime.now(UTC).strftime("..%Y_%m_%d_%H_%M_%S.%f")
    new_name = f"{stamp}.{_random.token_hex(4)}"
    new_dir = directory / new_name
    new_dir.mkdir(mode=DIR_MODE)
    try:
        if old_dir.is_dir():  # keep the secret's other keys
            for child in old_dir.iterdir():
                if child.name not in data and child.is_file() and not child.name.startswith(".."):
                    _write_new(new_dir / child.name, child.read_text(encoding="utf-8"))
        for key, value in data.items():
            _write_new(new_dir / key, value)
        _fsync_dir(new_dir)
        tmp_link = directory / f"{DATA_LINK}_tmp"
        with contextlib.suppress(FileNotFoundError):
            tmp_link.unlink()
        os.symlink(new_name, tmp_link)
        os.replace(tmp_link, link)  # the one atomic step: readers see the old set or the new one
    except BaseException:
        _remove_tree(new_dir)
        raise
    for key in data:
        key_link = directory / key
        if not key_link.is_symlink():
            tmp = directory / f".{key}.link"
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            os.symlink(f"{DATA_LINK}/{key}", tmp)
            os.replace(tmp, key_link)
    if old_dir.is_dir() and old_name != new_name:
        _remove_tree(old_dir)


def _remove_tree(directory: Path) -> None:
    for child in directory.iterdir():
        child.unlink()
    directory.rmdir()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
