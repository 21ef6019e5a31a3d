"""SecretStore: the secret-volume file layout, env fallback, confinement to the directory, rotation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.secrets import Redactor, SecretPathError, SecretResolutionError, SecretStore, SourceKind
from reconciler.secrets.store import env_var_name
from tests.secrets.helpers import rotate, secret_volume


def store(tmp_path: Path, environ: dict[str, str] | None = None) -> SecretStore:
    return SecretStore(tmp_path / "secrets", tmp_path / "config", environ=environ or {}, redactor=Redactor())


def test_reads_namespaced_layout_and_strips_trailing_newlines(tmp_path: Path) -> None:
    secret_volume(tmp_path / "secrets" / "prod" / "apim", {"bearerToken": "tok-123\n"})
    assert store(tmp_path).secret("prod", "apim", "bearerToken").reveal() == "tok-123"


def test_namespaced_file_wins_over_unnamespaced_and_env(tmp_path: Path) -> None:
    (tmp_path / "secrets" / "apim").mkdir(parents=True)
    (tmp_path / "secrets" / "apim" / "password").write_text("flat\n")
    env = {"APIM_SECRET_PROD_APIM_PASSWORD": "from-env"}
    assert store(tmp_path, env).secret("prod", "apim", "password").reveal() == "flat"
    (tmp_path / "secrets" / "prod" / "apim").mkdir(parents=True)
    (tmp_path / "secrets" / "prod" / "apim" / "password").write_text("namespaced")
    assert store(tmp_path, env).secret("prod", "apim", "password").reveal() == "namespaced"


def test_env_fallback_and_name_mangling(tmp_path: Path) -> None:
    assert env_var_name(SourceKind.SECRET, "default", "apim-prod", "bearerToken") == (
        "APIM_SECRET_DEFAULT_APIM_PROD_BEARERTOKEN"
    )
    assert env_var_name(SourceKind.CONFIGMAP, "my-ns", "cfg.v1", "a.b") == "APIM_CONFIGMAP_MY_NS_CFG_V1_A_B"
    env = {"APIM_SECRET_DEFAULT_APIM_PROD_BEARERTOKEN": "env-token"}
    assert store(tmp_path, env).secret("default", "apim-prod", "bearerToken").reveal() == "env-token"


def test_missing_secret_names_the_secret_and_every_place_looked(tmp_path: Path) -> None:
    with pytest.raises(SecretResolutionError) as info:
        store(tmp_path).secret("default", "apim-prod", "bearerToken")
    text = str(info.value)
    assert "secret default/apim-prod/bearerToken" in text
    assert str(tmp_path / "secrets" / "default" / "apim-prod" / "bearerToken") in text
    assert str(tmp_path / "secrets" / "apim-prod" / "bearerToken") in text
    assert "APIM_SECRET_DEFAULT_APIM_PROD_BEARERTOKEN" in text


def test_configmaps_have_their_own_directory_and_env_prefix(tmp_path: Path) -> None:
    (tmp_path / "config" / "default" / "settings").mkdir(parents=True)
    (tmp_path / "config" / "default" / "settings" / "host").write_text("api.example.com\n")
    s = store(tmp_path, {"APIM_CONFIGMAP_DEFAULT_SETTINGS_PORT": "8443"})
    assert s.configmap("default", "settings", "host") == "api.example.com"
    assert s.configmap("default", "settings", "port") == "8443"
    with pytest.raises(SecretResolutionError, match="configmap default/settings/nope"):
        s.configmap("default", "settings", "nope")


@pytest.mark.parametrize(
    ("namespace", "name", "key"),
    [
        ("default", "..", "bearerToken"),
        ("..", "apim", "bearerToken"),
        ("default", "apim", ".."),
        ("default", "apim", "..data"),
        ("default", "/etc", "passwd"),
        ("default", "apim", "../../etc/passwd"),
        ("/etc", "apim", "passwd"),
        ("default", "a/b", "key"),
    ],
)
def test_names_that_could_leave_the_directory_are_refused(
    tmp_path: Path, namespace: str, name: str, key: str
) -> None:
    with pytest.raises(SecretPathError):
        store(tmp_path).secret(namespace, name, key)


def test_symlink_out_of_the_directory_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "outside.txt"
    target.write_text("root:x:0:0")
    (tmp_path / "secrets" / "default" / "apim").mkdir(parents=True)
    os.symlink("/etc/passwd", tmp_path / "secrets" / "default" / "apim" / "password")
    os.symlink(target, tmp_path / "secrets" / "default" / "apim" / "username")
    s = store(tmp_path)
    for key in ("password", "username"):
        with pytest.raises(SecretPathError, match="outside") as info:
            s.secret("default", "apim", key)
        assert "root:" not in str(info.value)


def test_symlinked_secret_directory_out_of_the_tree_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "apim"
    elsewhere.mkdir(parents=True)
    (elsewhere / "password").write_text("stolen")
    (tmp_path / "secrets").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "secrets" / "default")
    with pytest.raises(SecretPathError):
        store(tmp_path).secret("default", "apim", "password")


def test_rotation_through_the_data_symlink_swap_is_seen_at_the_next_read(tmp_path: Path) -> None:
    volume = secret_volume(tmp_path / "secrets" / "default" / "apim", {"bearerToken": "first"})
    s = store(tmp_path)
    assert s.secret("default", "apim", "bearerToken").reveal() == "first"
    rotate(volume, {"bearerToken": "second"})
    assert s.secret("default", "apim", "bearerToken").reveal() == "second"
    rotate(volume, {"bearerToken": "third", "username": "added"})
    assert s.secret("default", "apim", "bearerToken").reveal() == "third"
    assert s.secret("default", "apim", "username").reveal() == "added"


def test_resolved_values_are_registered_with_the_redactor(tmp_path: Path) -> None:
    s = store(tmp_path, {"APIM_SECRET_DEFAULT_APIM_PASSWORD": "hunter2-long"})
    s.secret("default", "apim", "password")
    assert s.redactor.scrub("pw=hunter2-long;") == "pw=(sensitive);"
