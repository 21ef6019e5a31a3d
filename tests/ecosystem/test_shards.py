"""Scale-out by shards, as the StatefulSet runs it: two processes (`--shards 2 --shard-index 0|1`)
against one APIM (the emulator, with one environment per ManagementContext). Each process must
talk to the environments of its own contexts only, and together they must cover every context."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator
from tests.apply.helpers import api_yaml, token_env

# Six contexts over two organizations, each on an environment of its own, so that a request's path
# (/organizations/{org}/environments/{env}/...) says which context it was made for.
CONTEXTS = {
    "payments": ("DEFAULT", "env-payments"),
    "orders": ("DEFAULT", "env-orders"),
    "catalog": ("DEFAULT", "env-catalog"),
    "search": ("acme", "env-search"),
    "billing": ("acme", "env-billing"),
    "identity": ("acme", "env-identity"),
}
USERS: dict[str, Any] = {
    "organizations": [
        {
            "id": org,
            "environments": [
                {"id": env, "hrids": [env.removeprefix("env-")], "name": env}
                for org2, env in CONTEXTS.values()
                if org2 == org
            ],
        }
        for org in ("DEFAULT", "acme")
    ],
    "users": [{"username": "ci", "password": "s3cret", "tokens": ["emulator-token"], "organizations": ["*"]}],
}
ENVIRONMENT = re.compile(r"/environments/([^/?]+)")


class _Requests(logging.Handler):
    """The emulator logs `METHOD PATH -> STATUS` per request at DEBUG: collect the environments."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.environments: list[str] = []
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if " -> " in message:
            self.lines.append(message)
            self.environments += ENVIRONMENT.findall(message)


@pytest.fixture
def emulator_log() -> Iterator[tuple[RunningEmulator, _Requests]]:
    handler = _Requests()
    logger = logging.getLogger("reconciler.emulator")
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        with start_emulator(EmulatorConfig(users=USERS)) as emu:
            yield emu, handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def _write_repo(root: Path, base_url: str, description: str) -> None:
    root.mkdir(exist_ok=True)
    for name, (org, env) in CONTEXTS.items():
        (root / f"{name}.yaml").write_text(
            "apiVersion: gravitee.io/v1alpha1\nkind: ManagementContext\n"
            f"metadata:\n  name: {name}\nspec:\n  baseUrl: {base_url}\n  organizationId: {org}\n"
            f"  environmentId: {env}\n  auth:\n    secretRef:\n      name: apim-token\n"
            "---\n" + api_yaml(f"{name}-api", path=f"/{name}", description=description, context=name)
        )


def _sync(repo: Path, index: int, base_url: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    env |= {**token_env(base_url), "RECONCILER_SECRETS_DIR": str(repo.parent / "no-secrets")}
    argv = [
        sys.executable,
        "-m",
        "reconciler",
        "sync",
        str(repo),
        "--shards",
        "2",
        "--shard-index",
        str(index),
    ]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen[str]) -> str:
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, f"{process.args}\n{stdout}\n{stderr}"
    return stdout


def _apis_by_environment(emu: RunningEmulator) -> dict[str, list[str]]:
    """Environment id -> names of the APIs stored there (the store's dump, whatever its layout)."""
    found: dict[str, list[str]] = {}
    for api in emu.dump_state()["apis"]:
        text = repr(api)
        env = next(e for _, e in CONTEXTS.values() if f"'{e}'" in text)
        name = next(n for n in CONTEXTS if f"'{n}-api'" in text)
        found.setdefault(env, []).append(name)
    return found


def test_two_shards_split_the_contexts_and_cover_them_all(
    tmp_path: Path, emulator_log: tuple[RunningEmulator, _Requests]
) -> None:
    emu, requests = emulator_log
    repo = tmp_path / "repo"
    _write_repo(repo, emu.base_url, "first")
    touched: list[set[str]] = []
    for index in (0, 1):  # one after the other, so that every request is the one process's
        requests.environments.clear()
        _finish(_sync(repo, index, emu.base_url))
        touched.append(set(requests.environments))
    all_envs = {env for _, env in CONTEXTS.values()}
    assert touched[0] and touched[1], f"a shard got nothing to do: {touched} (choose other names)"
    assert touched[0].isdisjoint(touched[1]), f"both shards talked to {touched[0] & touched[1]}"
    assert touched[0] | touched[1] == all_envs
    # Every context's API exists once, in its own environment.
    stored = _apis_by_environment(emu)
    assert stored == {env: [name] for name, (_, env) in CONTEXTS.items()}

    # Both at once, as a StatefulSet's pods run: an edit to every API is applied exactly once.
    _write_repo(repo, emu.base_url, "second")
    emu.reset_stats()
    requests.environments.clear()
    outputs = [_finish(p) for p in [_sync(repo, 0, emu.base_url), _sync(repo, 1, emu.base_url)]]
    updates = [int(re.search(r"(\d+) to update", out).group(1)) for out in outputs]  # type: ignore[union-attr]
    assert sorted(updates) == sorted([len(touched[0]), len(touched[1])]), outputs
    writes = emu.stats()["requests"].get("PUT /automation/organizations/{orgId}/environments/{envId}/apis", 0)
    assert writes == len(CONTEXTS), emu.stats()
    descriptions = ["'second'" in repr(api) for api in emu.dump_state()["apis"]]
    assert descriptions == [True] * len(CONTEXTS)
    assert set(requests.environments) == all_envs
