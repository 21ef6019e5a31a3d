"""ManagementContext credentials: inline, secretRef, precedence, and the errors users will meet."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from reconciler.manifests import load_manifests
from reconciler.secrets import (
    AuthScheme,
    Credentials,
    Redactor,
    Secret,
    SecretResolutionError,
    SecretStore,
    resolve_credentials,
)
from tests.reference import REFERENCE
from tests.secrets.helpers import context, secret_volume

CONTEXT_VARIANTS = REFERENCE / "gko-context-variants"


def store(tmp_path: Path, environ: dict[str, str] | None = None) -> SecretStore:
    return SecretStore(tmp_path / "secrets", None, environ=environ or {}, redactor=Redactor())


def spec(auth: dict[str, object]) -> dict[str, object]:
    return {"baseUrl": "http://127.0.0.1:8083", "auth": auth}


def test_inline_bearer(tmp_path: Path) -> None:
    creds = resolve_credentials(context(spec({"bearerToken": "pat-1"})), store(tmp_path))
    assert creds.scheme is AuthScheme.BEARER
    assert creds.auth_header().reveal() == "Bearer pat-1"


def test_inline_basic(tmp_path: Path) -> None:
    creds = resolve_credentials(
        context(spec({"credentials": {"username": "admin", "password": "s3cret"}})), store(tmp_path)
    )
    assert creds.scheme is AuthScheme.BASIC
    assert creds.auth_header().reveal() == "Basic " + base64.b64encode(b"admin:s3cret").decode()


def test_bearer_wins_over_basic(tmp_path: Path) -> None:
    creds = resolve_credentials(
        context(spec({"bearerToken": "pat-1", "credentials": {"username": "a", "password": "b"}})),
        store(tmp_path),
    )
    assert creds.auth_header().reveal() == "Bearer pat-1"


def test_empty_bearer_falls_back_to_basic(tmp_path: Path) -> None:
    creds = resolve_credentials(
        context(spec({"bearerToken": "", "credentials": {"username": "a", "password": "b"}})), store(tmp_path)
    )
    assert creds.scheme is AuthScheme.BASIC


def test_secret_ref_keys_overwrite_inline_values(tmp_path: Path) -> None:
    secret_volume(tmp_path / "secrets" / "default" / "apim-creds", {"password": "from-secret"})
    creds = resolve_credentials(
        context(
            spec(
                {
                    "credentials": {"username": "admin", "password": "inline"},
                    "secretRef": {"name": "apim-creds"},
                }
            )
        ),
        store(tmp_path),
    )
    assert creds.basic is not None
    assert [s.reveal() for s in creds.basic] == ["admin", "from-secret"]


def test_secret_ref_bearer_beats_inline_basic(tmp_path: Path) -> None:
    env = {"APIM_SECRET_DEFAULT_APIM_PROD_BEARERTOKEN": "env-token"}
    creds = resolve_credentials(
        context(
            spec({"credentials": {"username": "a", "password": "b"}, "secretRef": {"name": "apim-prod"}})
        ),
        store(tmp_path, env),
    )
    assert creds.auth_header().reveal() == "Bearer env-token"


def test_secret_ref_namespace_defaults_to_the_contexts_and_can_be_set(tmp_path: Path) -> None:
    secret_volume(tmp_path / "secrets" / "team-a" / "apim", {"bearerToken": "team-a-token"})
    secret_volume(tmp_path / "secrets" / "shared" / "apim", {"bearerToken": "shared-token"})
    s = store(tmp_path)
    own = resolve_credentials(context(spec({"secretRef": {"name": "apim"}}), namespace="team-a"), s)
    other = resolve_credentials(
        context(spec({"secretRef": {"name": "apim", "namespace": "shared"}}), namespace="team-a"), s
    )
    assert own.auth_header().reveal() == "Bearer team-a-token"
    assert other.auth_header().reveal() == "Bearer shared-token"


def test_missing_secret_ref_names_the_secret_and_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(SecretResolutionError) as info:
        resolve_credentials(context(spec({"secretRef": {"name": "apim-prod"}})), store(tmp_path))
    error = info.value
    assert error.ref == "secret default/apim-prod"
    assert error.field == ("spec", "auth", "secretRef")
    text = str(error)
    assert "APIM_SECRET_DEFAULT_APIM_PROD_BEARERTOKEN" in text
    assert "APIM_SECRET_DEFAULT_APIM_PROD_PASSWORD" in text
    assert str(tmp_path / "secrets" / "default" / "apim-prod" / "bearerToken") in text


def test_basic_without_password_is_an_error(tmp_path: Path) -> None:
    env = {"APIM_SECRET_DEFAULT_APIM_USERNAME": "admin"}
    with pytest.raises(SecretResolutionError, match="without a password"):
        resolve_credentials(context(spec({"secretRef": {"name": "apim"}})), store(tmp_path, env))


@pytest.mark.parametrize("auth", [None, {}, {"bearerToken": ""}])
def test_no_credentials_is_an_error(tmp_path: Path, auth: dict[str, object] | None) -> None:
    body: dict[str, object] = {"baseUrl": "http://x"}
    if auth is not None:
        body["auth"] = auth
    with pytest.raises(SecretResolutionError, match="ManagementContext default/dev-ctx"):
        resolve_credentials(context(body), store(tmp_path))


def test_cloud_contexts_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(SecretResolutionError, match="Gravitee Cloud"):
        resolve_credentials(context({"cloud": {"token": "x.y.z"}}), store(tmp_path))


def test_inline_values_may_be_secrets_from_template_resolution(tmp_path: Path) -> None:
    creds = resolve_credentials(context(spec({"bearerToken": Secret("templated")})), store(tmp_path))
    assert creds.auth_header().reveal() == "Bearer templated"


def test_credentials_never_show_their_values() -> None:
    creds = Credentials(basic=(Secret("admin-user"), Secret("p4ssw0rd-value")))
    for text in (repr(creds), str(creds), creds.describe(), repr(creds.auth_header())):
        assert "p4ssw0rd" not in text and "admin-user" not in text
    assert Credentials(bearer=Secret("abc.def.ghi")).describe() == "bearer token (console JWT)"
    assert Credentials(bearer=Secret("abcdef")).describe() == "bearer token (personal access token)"
    with pytest.raises(ValueError):
        Credentials()


@pytest.mark.parametrize(
    ("variant", "header"),
    [
        ("dev/management-context-with-bearer-token.yml", "Bearer xxxx-yyyy-zzzz"),
        ("dev/management-context-with-credentials.yml", "Basic " + base64.b64encode(b"admin:admin").decode()),
        ("dev/management-context-with-secret-ref.yml", "Basic " + base64.b64encode(b"admin:admin").decode()),
    ],
)
def test_gko_context_variants(tmp_path: Path, variant: str, header: str) -> None:
    """GKO's own examples, loaded by our loader; the secretRef one reads the decoded example Secret."""
    if not CONTEXT_VARIANTS.is_dir():
        pytest.skip(f"no GKO context variants at {CONTEXT_VARIANTS}")
    secret_volume(
        tmp_path / "secrets" / "default" / "apim-context-credentials",
        {"username": "admin", "password": "admin"},
    )
    loaded = load_manifests([CONTEXT_VARIANTS / variant])
    (ctx,) = loaded.resources
    assert resolve_credentials(ctx, store(tmp_path)).auth_header().reveal() == header


def test_inline_templates_are_resolved_even_if_the_caller_did_not(tmp_path: Path) -> None:
    env = {"APIM_SECRET_DEFAULT_APIM_TOKEN": "templated-token"}
    creds = resolve_credentials(
        context(spec({"bearerToken": "[[ secret `apim/token` ]]"})), store(tmp_path, env)
    )
    assert creds.auth_header().reveal() == "Bearer templated-token"
    with pytest.raises(SecretResolutionError) as info:
        resolve_credentials(context(spec({"bearerToken": "[[ secret `apim/nope` ]]"})), store(tmp_path))
    assert info.value.field == ("spec", "auth", "bearerToken")
