"""GKO templates in specs: secrets and env values become Secret (env unless public), config maps stay
strings, errors point at fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.manifests.model import API_V4_DEFINITION
from reconciler.secrets import (
    Redactor,
    Secret,
    SecretResolutionErrors,
    SecretStore,
    resolution_problems,
    resolve_templates,
)
from reconciler.secrets.store import EnvTemplatePolicy
from tests.secrets.helpers import resource


@pytest.fixture
def store(tmp_path: Path) -> SecretStore:
    (tmp_path / "config" / "default" / "settings").mkdir(parents=True)
    (tmp_path / "config" / "default" / "settings" / "host").write_text("backend.internal\n")
    (tmp_path / "secrets" / "default" / "keys").mkdir(parents=True)
    (tmp_path / "secrets" / "default" / "keys" / "apiKey").write_text("k-123456")
    environ = {"APIM_SECRET_DEFAULT_DB_PASSWORD": "db-pass-1", "APIM_VAR_STAGE": "prod"}
    return SecretStore(tmp_path / "secrets", tmp_path / "config", environ=environ, redactor=Redactor())


def test_whole_secret_template_becomes_a_secret(store: SecretStore) -> None:
    out = resolve_templates({"password": "[[ secret `db/password` ]]"}, "default", store)
    assert out["password"] == Secret("db-pass-1")


def test_secret_inside_a_longer_string_makes_the_whole_string_secret(store: SecretStore) -> None:
    out = resolve_templates(
        {"url": "postgres://app:[[ secret `db/password` ]]@[[ env `APIM_VAR_STAGE` ]]-db"}, "default", store
    )
    assert isinstance(out["url"], Secret)
    assert out["url"].reveal() == "postgres://app:db-pass-1@prod-db"
    assert store.redactor.scrub(out["url"].reveal()) == "(sensitive)"


def test_configmap_and_env(store: SecretStore) -> None:
    spec = {
        "endpoints": [
            {
                "target": 'https://[[ configmap "settings/host" ]]/v1',
                "tags": ["[[ env `APIM_VAR_STAGE` ]]", 3],
            }
        ],
        "key": "[[ secret `keys/apiKey` ]]",
        "plain": "no template",
        "number": 42,
    }
    out = resolve_templates(spec, "default", store)
    assert out["endpoints"][0]["target"] == "https://backend.internal/v1"
    assert out["endpoints"][0]["tags"] == [Secret("prod"), 3]  # sensitive unless declared public
    assert out["key"] == Secret("k-123456")
    assert out["plain"] == "no template" and out["number"] == 42
    assert spec["endpoints"][0]["target"].startswith("https://[[")  # input untouched


def test_every_missing_reference_is_reported_with_its_field_path(store: SecretStore) -> None:
    spec = {
        "a": "[[ secret `db/nope` ]]",
        "list": ["ok", "[[ configmap `settings/missing` ]]"],
        "b": "[[ env `APIM_VAR_NOT_SET_ANYWHERE` ]]",
        "c": "[[ nonsense ]]",
    }
    with pytest.raises(SecretResolutionErrors) as info:
        resolve_templates(spec, "default", store)
    by_field = {e.field: e for e in info.value.errors}
    assert set(by_field) == {("spec", "a"), ("spec", "list", 1), ("spec", "b"), ("spec", "c")}
    assert by_field[("spec", "a")].ref == "secret default/db/nope"
    assert any("APIM_SECRET_DEFAULT_DB_NOPE" in p for p in by_field[("spec", "a")].looked)
    assert by_field[("spec", "list", 1)].ref == "configmap default/settings/missing"
    assert by_field[("spec", "b")].ref == "env APIM_VAR_NOT_SET_ANYWHERE"
    assert "db-pass-1" not in str(info.value)


def test_problems_point_at_the_line_of_the_field(store: SecretStore) -> None:
    api = resource(API_V4_DEFINITION, {"auth": {"token": "[[ secret `db/nope` ]]"}}, name="api")
    with pytest.raises(SecretResolutionErrors) as info:
        resolve_templates(api.spec, api.namespace, store)
    (problem,) = resolution_problems(api, info.value)
    assert str(problem.position) == "ctx.yml:9:1"  # the nearest written ancestor, spec.auth
    assert "secret default/db/nope" in problem.message


def test_a_public_variable_stays_a_string_and_a_credential_variable_is_refused(tmp_path: Path) -> None:
    environ = {"APIM_VAR_STAGE": "prod", "APIM_VAR_GIT_TOKEN": "git-token-value"}
    policy = EnvTemplatePolicy(
        public=frozenset({"APIM_VAR_STAGE"}), refused=frozenset({"APIM_VAR_GIT_TOKEN"})
    )
    store = SecretStore(None, None, environ=environ, redactor=Redactor(), env_policy=policy)
    assert resolve_templates({"stage": "[[ env `APIM_VAR_STAGE` ]]"}, "default", store) == {"stage": "prod"}
    with pytest.raises(SecretResolutionErrors) as info:
        resolve_templates({"d": "[[ env `APIM_VAR_GIT_TOKEN` ]]"}, "default", store)
    assert "git credential" in str(info.value) and "git-token-value" not in str(info.value)
