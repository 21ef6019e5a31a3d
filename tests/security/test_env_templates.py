"""``[[ env ]]`` templates read only APIM_VAR_* variables, their values are sensitive unless the
operator says otherwise, and never the variable a credential comes from.

The attack: anyone who can open a pull request writes ``description: [[ env `...` ]]`` naming the
reconciler's own token (or a git token, or any RECONCILER_* setting) and reads it in the diff that
CI posts as a comment.
"""

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

TOKEN = "emulator-token"
CANARY = "cnry-var-7e6d5c4b3a2f1e0d"


def repo(root: Path, base_url: str, description: str) -> Path:
    return write_repo(
        root,
        {
            "ctx.yaml": context_yaml("apim", base_url),
            "api.yaml": api_yaml("probe", description=json.dumps(description)),
        },
    )


def secrets(tmp_path: Path, bound_to: str | None = None) -> Path:
    folder = tmp_path / "secrets"
    write_secret(folder, "apim", "bearerToken", TOKEN)
    if bound_to is not None:
        write_secret(folder, "apim", "baseUrl", bound_to)
    return folder


@pytest.mark.parametrize(
    "variable",
    [
        "APIM_SECRET_DEFAULT_APIM_BEARERTOKEN",  # the context's own token, as an env variable
        "RECONCILER_CNRY_SETTING",  # the reconciler's configuration
        "GIT_TOKEN",  # the git token the operator handed over with --git-token-env
        "HOME",
    ],
)
def test_an_env_template_outside_the_prefix_is_refused_at_its_line(
    tmp_path: Path, emulator: RunningEmulator, variable: str
) -> None:
    root = repo(tmp_path / "repo", emulator.base_url, f"leak: [[ env `{variable}` ]]")
    env = clean_env(**{variable: CANARY})
    before = emulator.dump_state()

    validate = cli("validate", root, env=env)
    line = line_of(root / "api.yaml", "description:")
    assert validate.returncode == 1
    assert f"api.yaml:{line}:" in validate.stdout and variable in validate.stdout
    assert "env templates read only variables whose name starts with APIM_VAR_" in validate.stdout

    outputs = [validate.stdout + validate.stderr]
    # Every format for the worst case (the context's own token); one for the others.
    formats = ("text", "json", "markdown") if variable.startswith("APIM_SECRET_") else ("markdown",)
    for fmt in formats:
        diff = cli("diff", root, "--secrets-dir", secrets(tmp_path), "--output", fmt, env=env)
        assert diff.returncode == 1
        outputs.append(diff.stdout + diff.stderr)
    sync = cli("sync", root, "--secrets-dir", secrets(tmp_path), "--git-token-env", "GIT_TOKEN", env=env)
    assert sync.returncode == 1 and "APIM was not changed" in sync.stdout
    outputs.append(sync.stdout + sync.stderr)
    assert_no_leak("\n".join(outputs), {variable: CANARY})
    assert emulator.dump_state() == before


def test_the_git_credential_variable_is_refused_even_with_the_prefix(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    """An operator may name their git token variable APIM_VAR_...: a template still cannot read it."""
    root = repo(tmp_path / "repo", emulator.base_url, "[[ env `APIM_VAR_GIT_TOKEN` ]]")
    env = clean_env(APIM_VAR_GIT_TOKEN=CANARY)
    for command, flag in (("diff", "--git-token-env"), ("sync", "--git-password-env")):
        run = cli(command, root, "--secrets-dir", secrets(tmp_path), flag, "APIM_VAR_GIT_TOKEN", env=env)
        assert run.returncode == 1
        assert "env APIM_VAR_GIT_TOKEN: is where the operator's git credential is read from" in run.stderr
        assert_no_leak(run.stdout + run.stderr, {"git token": CANARY})
    assert not emulator.dump_state()["apis"]


def test_env_values_are_sensitive_unless_declared_public(tmp_path: Path, emulator: RunningEmulator) -> None:
    root = repo(tmp_path / "repo", emulator.base_url, "[[ env `APIM_VAR_DESCRIPTION` ]]")
    env = clean_env(APIM_VAR_DESCRIPTION=CANARY)
    store = secrets(tmp_path, bound_to=emulator.base_url)

    hidden = cli("diff", root, "--secrets-dir", store, "--output", "json", env=env)
    assert hidden.returncode == 0, hidden.stderr
    (change,) = [c for c in json.loads(hidden.stdout)["actions"][0]["changes"] if c["path"] == "description"]
    assert change["new"] == "(sensitive)" and change["sensitive"]
    assert_no_leak(hidden.stdout + hidden.stderr, {"env value": CANARY})

    for public in (["--public-var", "APIM_VAR_DESCRIPTION"], []):
        env_public = (
            {**env, "RECONCILER_PUBLIC_VARS": "APIM_VAR_OTHER,APIM_VAR_DESCRIPTION"} if not public else env
        )
        shown = cli("diff", root, "--secrets-dir", store, *public, env=env_public)
        assert shown.returncode == 0, shown.stderr
        assert f'+ description: "{CANARY}"' in shown.stdout

    wrong = cli("diff", root, "--secrets-dir", store, "--public-var", "HOME", env=env)
    assert wrong.returncode == 64 and "env templates read only APIM_VAR_* variables" in wrong.stderr
