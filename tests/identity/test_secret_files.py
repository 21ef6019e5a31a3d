"""Atomic secret writes in both layouts, read back through the real SecretStore; and JWT expiry decoding."""

from __future__ import annotations

import base64
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler.identity.jwt import jwt_expiry
from reconciler.identity.model import IdentityError
from reconciler.identity.secret_files import locate, write_keys
from reconciler.secrets import Secret, SecretStore
from reconciler.secrets.errors import SecretPathError
from tests.secrets.helpers import secret_volume


def test_plain_layout_replaces_each_key_with_a_0600_file(tmp_path: Path) -> None:
    location = locate(tmp_path, "default", "apim")
    assert location.directory == tmp_path / "apim" and not location.kubelet_layout
    write_keys(location, {"bearerToken": Secret("first-token"), "tokenId": "id-1"})
    inode = (tmp_path / "apim" / "bearerToken").stat().st_ino
    write_keys(location, {"bearerToken": Secret("second-token")})
    path = tmp_path / "apim" / "bearerToken"
    assert path.stat().st_ino != inode  # replaced by rename, never rewritten in place
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SecretStore(tmp_path, environ={}).secret("default", "apim", "bearerToken") == Secret(
        "second-token"
    )
    assert sorted(p.name for p in (tmp_path / "apim").iterdir()) == ["bearerToken", "tokenId"]


def test_namespaced_directory_is_preferred_when_it_exists(tmp_path: Path) -> None:
    (tmp_path / "prod" / "apim").mkdir(parents=True)
    assert locate(tmp_path, "prod", "apim").directory == tmp_path / "prod" / "apim"


def test_kubelet_layout_swaps_data_and_keeps_other_keys(tmp_path: Path) -> None:
    volume = secret_volume(tmp_path / "default" / "apim", {"bearerToken": "old-token", "username": "u"})
    old_generation = os.readlink(volume / "..data")
    location = locate(tmp_path, "default", "apim")
    assert location.kubelet_layout
    write_keys(location, {"bearerToken": Secret("new-token"), "tokenId": "id-2"})
    assert os.readlink(volume / "..data") != old_generation and not (volume / old_generation).exists()
    store = SecretStore(tmp_path, environ={})
    assert store.secret("default", "apim", "bearerToken") == Secret("new-token")
    assert store.secret("default", "apim", "username") == Secret("u")
    assert os.readlink(volume / "tokenId") == "..data/tokenId"


def test_names_and_escapes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SecretPathError):
        locate(tmp_path, "default", "../etc")
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "apim").symlink_to(outside)
    with pytest.raises(IdentityError, match="points outside"):
        locate(tmp_path / "secrets", "default", "apim")


def _jwt(claims: object) -> str:
    def enc(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return f"{enc(b'{}')}.{enc(json.dumps(claims).encode())}.sig"


def test_jwt_expiry_is_decoded_without_verification() -> None:
    assert jwt_expiry(_jwt({"exp": 1700000000})) == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert jwt_expiry(_jwt({"sub": "no-exp"})) is None
    assert jwt_expiry(_jwt({"exp": "tomorrow"})) is None
    assert jwt_expiry(_jwt([1, 2])) is None
    assert jwt_expiry("a-personal-access-token") is None
    assert jwt_expiry("not.base64!.x") is None
