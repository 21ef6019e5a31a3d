"""What a template may read: its own namespace only (as GKO), never a context's credentials outside
`spec.auth`; and what an error about a resolved value may say: the template, never the value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.emulator import RunningEmulator
from tests.security.helpers import (
    api_yaml,
    assert_no_leak,
    clean_env,
    cli,
    context_yaml,
    line_of,
    write_repo,
    write_secret,
)

CANARY = "cnry-xns-3c2b1a0f9e8d7c6b"
TOKEN = "emulator-token"


@pytest.mark.parametrize("kind", ["secret", "configmap"])
def test_a_template_cannot_read_another_namespace(
    tmp_path: Path, emulator: RunningEmulator, kind: str
) -> None:
    """GKO reads `name/key` in the object's namespace (its compiler's ksPropertyLength = 2); a
    `namespace/name/key` template would let a team's manifest read another team's secrets."""
    root = write_repo(
        tmp_path / "repo",
        {
            "ctx.yaml": context_yaml("apim", emulator.base_url),
            "api.yaml": api_yaml("probe", description=f'"[[ {kind} `team-b/db/password` ]]"'),
        },
    )
    secrets, config = tmp_path / "secrets", tmp_path / "config"
    write_secret(secrets, "apim", "bearerToken", TOKEN)
    write_secret(secrets / "team-b", "db", "password", CANARY)
    write_secret(config / "team-b", "db", "password", CANARY)

    validate = cli("validate", root)
    assert validate.returncode == 1
    line = line_of(root / "api.yaml", "description:")
    assert f"api.yaml:{line}:" in validate.stdout
    assert "names a namespace: like GKO" in validate.stdout and "write `db/password`" in validate.stdout

    sync = cli("sync", root, "--secrets-dir", secrets, "--config-dir", config, "--output", "json")
    assert sync.returncode == 1 and json.loads(sync.stdout)["summary"] is None
    assert_no_leak(validate.stdout + sync.stdout + sync.stderr, {"other namespace": CANARY})
    assert not emulator.dump_state()["apis"]


@pytest.mark.parametrize(
    ("auth", "template"),
    [
        # the secret of spec.auth.secretRef, any key of it
        ("    secretRef:\n      name: apim\n", "[[ secret `apim/bearerToken` ]]"),
        # the secret an inline templated token reads
        ('    bearerToken: "[[ secret `apim-pat/token` ]]"\n', "Token: [[ secret `apim-pat/token` ]]"),
        # the variable an inline templated token reads
        ('    bearerToken: "[[ env `APIM_VAR_TOKEN` ]]"\n', "[[ env `APIM_VAR_TOKEN` ]]"),
    ],
)
def test_a_contexts_credentials_cannot_be_written_into_an_api(
    tmp_path: Path, emulator: RunningEmulator, auth: str, template: str
) -> None:
    """Else the APIM token becomes an API's description, readable by every user who sees the API."""
    context = context_yaml("apim", emulator.base_url).split("  auth:\n")[0] + "  auth:\n" + auth
    root = write_repo(
        tmp_path / "repo",
        {"ctx.yaml": context, "api.yaml": api_yaml("probe", description=json.dumps(template))},
    )
    secrets = tmp_path / "secrets"
    write_secret(secrets, "apim", "bearerToken", TOKEN)
    write_secret(secrets, "apim-pat", "token", TOKEN)
    env = clean_env(APIM_VAR_TOKEN=TOKEN)

    validate = cli("validate", root)
    assert validate.returncode == 1
    line = line_of(root / "api.yaml", "description:")
    assert f"api.yaml:{line}:" in validate.stdout
    assert "which ManagementContext/default/apim authenticates to APIM with" in validate.stdout

    sync = cli("sync", root, "--secrets-dir", secrets, env=env)
    assert sync.returncode == 1 and "APIM was not changed" in sync.stdout
    assert TOKEN not in json.dumps(emulator.dump_state())
    assert not emulator.dump_state()["apis"]


@pytest.mark.parametrize("source", ["secret", "configmap", "env"])
def test_an_error_about_a_resolved_value_names_the_template_not_the_value(
    tmp_path: Path, emulator: RunningEmulator, source: str
) -> None:
    """A template that stands for an enum resolves to something invalid: the message says which
    field, which template and what was expected; the value (a secret, or a config map or variable
    that may well be one) is in no output."""
    template = {
        "secret": "[[ secret `plan/type` ]]",
        "configmap": "[[ configmap `plan/type` ]]",
        "env": "[[ env `APIM_VAR_PLAN_TYPE` ]]",
    }[source]
    api = api_yaml("probe").replace("type: KEY_LESS", f'type: "{template}"')
    root = write_repo(
        tmp_path / "repo", {"ctx.yaml": context_yaml("apim", emulator.base_url), "api.yaml": api}
    )
    secrets, config = tmp_path / "secrets", tmp_path / "config"
    write_secret(secrets, "apim", "bearerToken", TOKEN)
    write_secret(secrets, "plan", "type", CANARY)
    write_secret(config, "plan", "type", CANARY)
    env = clean_env(APIM_VAR_PLAN_TYPE=CANARY)
    assert cli("validate", root).returncode == 0  # a whole template may stand for an enum

    outputs = []
    for fmt in ("text", "json", "markdown") if source == "secret" else ("text",):
        diff = cli("diff", root, "--secrets-dir", secrets, "--config-dir", config, "--output", fmt, env=env)
        assert diff.returncode == 1
        outputs.append(diff.stdout + diff.stderr)
    line = line_of(root / "api.yaml", 'type: "[[')
    expected = f"after resolving templates: the value of {template} is not one of"
    assert f"api.yaml:{line}:" in outputs[0] and expected in outputs[0]
    assert "security.type" in outputs[0]
    assert_no_leak("\n".join(outputs), {f"{source} value": CANARY})
