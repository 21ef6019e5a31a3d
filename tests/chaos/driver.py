"""The chaos driver: the daemon, the emulator and a git server as real processes on 127.0.0.1, and the
faults a production install meets, done to them one episode at a time.

Each episode injects one fault (some push a commit in the middle of it), ends it, and waits for the
daemon to recover: serving, its last applied revision the branch's head, a successful sync that
started after the fault ended, and, for a console edit, the edit reverted. The time from the end of
the fault to that point is the episode's time to recover. Everything the driver does is bounded in
count (the episode list) and in time (every wait has a deadline), and random only through its seed.
"""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from tests.apply.helpers import api_yaml
from tests.daemon.support import DaemonProcess, parse_metrics, wait_for
from tests.secrets.helpers import secret_volume
from tests.source.gitservers import GitDaemon, Upstream, free_port, git

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN = ("admin", "admin")
SECRET = "apim-token"  # the context's auth.secretRef
MAPI = "/management/v2/organizations/DEFAULT/environments/DEFAULT"
RECOVERY_TIMEOUT = 180.0
# the daemon as an operator would run it here: quick polls, a resync that reverts console edits
DAEMON_FLAGS = (
    "--interval", "1", "--resync-interval", "5", "--full-read-interval", "30", "--timeout", "5",
    "--concurrency", "4", "--shutdown-timeout", "15", "--allow-rollback",
)  # fmt: skip
BROKEN = "apiVersion: gravitee.io/v1alpha1\nkind: ApiV4Definition\nmetadata:\n  name: broken\nspec: [\n"


def process_env() -> dict[str, str]:
    """This process's environment without APIM_*/RECONCILER_* settings: the daemon's only credential
    is the mounted secret."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("APIM_", "RECONCILER_"))}


def cli(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *map(str, args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**process_env(), **(env or {})},
        check=False,
    )


class Emulator:
    """The emulator in its own process, on a fixed port, with its store (and accounts) in a state
    file, so that it can be killed and started again as a real APIM restarts."""

    def __init__(self, workdir: Path, seed: int) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.state = workdir / "emulator-state.json"
        self.log = workdir / "emulator.log"
        self.seed = seed
        self.proc: subprocess.Popen[bytes] | None = None
        self.latency_ms = 0

    def start(self, latency_ms: int = 0) -> None:
        self.latency_ms = latency_ms
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "reconciler", "emulator", "--port", str(self.port),
                 "--state", str(self.state), "--seed", str(self.seed), "--latency-ms", str(latency_ms)],
                cwd=REPO_ROOT, stdout=log, stderr=log, env=process_env(), start_new_session=True,
            )  # fmt: skip
        wait_for(self._up, "the emulator", timeout=30)

    def _up(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, "the emulator exited"
        try:
            return httpx.get(f"{self.base_url}/_emulator/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def faults(self, rules: list[dict[str, Any]]) -> None:
        httpx.put(f"{self.base_url}/_emulator/faults", json=rules, timeout=5).raise_for_status()

    def apis(self) -> list[dict[str, Any]]:
        """Every API the store holds (its own dump: no listing, no search index in between)."""
        state = httpx.get(f"{self.base_url}/_emulator/state", timeout=30).json()
        return list(state["apis"])

    def console_edit(self, name: str, description: str) -> None:
        """What a console user does: mAPI v2 GET, then PUT with the ETag."""
        with httpx.Client(base_url=self.base_url, auth=ADMIN, timeout=10) as client:
            listed = client.get(f"{MAPI}/apis", params={"perPage": 100}).json()["data"]
            (item,) = [i for i in listed if i["name"] == name]
            current = client.get(f"{MAPI}/apis/{item['id']}")
            keep = ("name", "apiVersion", "definitionVersion", "type", "listeners", "endpointGroups")
            body = {k: v for k, v in current.json().items() if k in keep} | {"description": description}
            answer = client.put(
                f"{MAPI}/apis/{item['id']}", json=body, headers={"If-Match": current.headers["ETag"]}
            )
            assert answer.status_code == 200, answer.text


@dataclass
class Pushed:
    sha: str
    files: dict[str, str]
    good: bool


class Git:
    """A bare repository served by ``git daemon`` (which can be stopped), and its history as pushed."""

    def __init__(self, base: Path) -> None:
        self.upstream = Upstream(base)
        self.server = GitDaemon(base)
        self.url = self.server.url(self.upstream.relative)
        self.history: list[Pushed] = []
        self.up = False

    def start(self) -> None:
        self.server.start()
        self.up = True

    def stop(self) -> None:
        self.server.stop()
        self.up = False

    @property
    def head(self) -> Pushed:
        return self.history[-1]

    def push(self, files: dict[str, str], message: str, *, good: bool = True) -> Pushed:
        """Commit the tree ``files`` (every other file removed) and push it to the bare repository
        (the driver pushes with the server up or down: a push is a write to the repository itself)."""
        before = dict(self.history[-1].files) if self.history else {}
        changes: dict[str, str | None] = {name: None for name in before if name not in files}
        changes.update({k: v for k, v in files.items() if before.get(k) != v})
        sha = self.upstream.commit(changes, message)
        self.history.append(Pushed(sha, dict(files), good))
        return self.history[-1]

    def force_push(self, older: Pushed) -> Pushed:
        """Reset the branch to an older commit and force-push it."""
        git("reset", "--quiet", "--hard", older.sha, cwd=self.upstream.work)
        git("push", "--quiet", "--force", "origin", "HEAD:refs/heads/main", cwd=self.upstream.work)
        self.history.append(Pushed(older.sha, dict(older.files), older.good))
        return self.history[-1]

    def names_at(self, sha: str) -> set[str]:
        """The API names a commit holds (one file per API, named after it)."""
        listed = git("ls-tree", "--name-only", f"{sha}:apis", cwd=self.upstream.work).split()
        return {name.removesuffix(".yaml") for name in listed if name != "broken.yaml"}


class ServiceAccount:
    """The daemon's own APIM account: created once by an administrator, its token mounted as kubelet
    mounts a secret, rotated (``..data`` swap, old token revoked) by ``service-account rotate``."""

    def __init__(self, secrets: Path, context: Path, base_url: str) -> None:
        self.secrets, self.context, self.base_url = secrets, context, base_url
        self.tokens: list[str] = []  # every value minted: the canaries no output may show

    def create(self) -> None:
        admin = {"APIM_ADMIN_USERNAME": "admin", "APIM_ADMIN_PASSWORD": "admin"}
        made = cli("service-account", "create", "--context", self.context, "--secrets-dir", self.secrets,
                   "--name", "apim-reconciler", env={**admin, "APIM_ADMIN_BASEURL": self.base_url})  # fmt: skip
        assert made.returncode == 0, made.stdout + made.stderr
        self.outputs = [made.stdout, made.stderr]
        folder = self.secrets / SECRET
        data = {p.name: p.read_text(encoding="utf-8").strip() for p in folder.iterdir() if p.is_file()}
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
        secret_volume(folder, data)  # the same keys, in kubelet's layout
        self.tokens.append(data["bearerToken"])

    def rotate(self) -> None:
        rotated = cli("service-account", "rotate", "--context", self.context, "--secrets-dir", self.secrets)
        assert rotated.returncode == 0, rotated.stdout + rotated.stderr
        self.outputs += [rotated.stdout, rotated.stderr]
        assert (self.secrets / SECRET / "..data").is_symlink()
        self.tokens.append((self.secrets / SECRET / "bearerToken").read_text(encoding="utf-8").strip())


@dataclass
class Figures:
    seed: int
    seconds: float
    faults: Counter[str] = field(default_factory=Counter)
    pushes: Counter[str] = field(default_factory=Counter)
    recoveries: list[float] = field(default_factory=list)
    daemon_starts: int = 0
    rss_mib: list[float] = field(default_factory=list)
    syncs: Counter[str] = field(default_factory=Counter)  # by outcome, summed over daemon processes

    def to_json(self) -> dict[str, Any]:
        ordered = sorted(self.recoveries) or [0.0]
        return {
            "seed": self.seed,
            "seconds": round(self.seconds, 1),
            "faults_injected": dict(sorted(self.faults.items())),
            "faults_total": sum(self.faults.values()),
            "commits_pushed": dict(sorted(self.pushes.items())),
            "daemon_starts": self.daemon_starts,
            "syncs": dict(sorted(self.syncs.items())),
            "syncs_ok": self.syncs["success"],
            "syncs_failed": sum(v for k, v in self.syncs.items() if k != "success"),
            "recoveries": len(self.recoveries),
            "recovery_p50_s": round(statistics.median(ordered), 2),
            "recovery_p95_s": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
            "recovery_max_s": round(ordered[-1], 2),
            "daemon_rss_mib_max": round(max(self.rss_mib, default=0.0), 1),
        }


class Monitor(threading.Thread):
    """Samples the running daemon every 0.5 s: its sync counters (kept per process, since a killed
    daemon's counters die with it) and its memory."""

    def __init__(self, figures: Figures) -> None:
        super().__init__(daemon=True)
        self.figures = figures
        self.daemon_process: DaemonProcess | None = None
        self.last: dict[int, Counter[str]] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            self.sample()

    def sample(self) -> None:
        current = self.daemon_process
        if current is None or current.proc.poll() is not None:
            return
        try:
            text = httpx.get(f"http://127.0.0.1:{current.port}/metrics", timeout=2).text
            status = Path(f"/proc/{current.proc.pid}/status").read_text()
        except (httpx.HTTPError, OSError):
            return
        counts: Counter[str] = Counter()
        for (name, labels), value in parse_metrics(text).items():
            if name == "apim_reconciler_syncs_total":
                counts[dict(labels)["outcome"]] = int(value)
        self.last[current.proc.pid] = counts
        rss = next((line for line in status.splitlines() if line.startswith("VmRSS:")), None)
        if rss is not None:  # a process killed between the two reads is a zombie with no memory
            self.figures.rss_mib.append(int(rss.split()[1]) / 1024)

    def totals(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for counts in self.last.values():
            total.update(counts)
        return total


def canary_forms(value: str) -> Iterator[str]:
    """A secret as it could leak: as is, re-cased, base64 (alone or as a Basic credential)."""
    yield from (value, value.upper(), value.lower(), base64.b64encode(value.encode()).decode())


def iso_time(text: str | None) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else 0.0


def recovered(daemon: DaemonProcess, head: str, since: float, extra: Callable[[], bool]) -> bool:
    """The daemon has applied ``head`` in a sync that ended after ``since`` (wall clock)."""
    if daemon.proc.poll() is not None:
        raise AssertionError(f"the daemon exited with {daemon.proc.returncode}:\n{daemon.log_text()[-3000:]}")
    try:
        status = httpx.get(f"http://127.0.0.1:{daemon.port}/status", timeout=5).json()
    except (httpx.HTTPError, json.JSONDecodeError):
        return False
    return (
        status["lastAppliedRevision"] == head
        and iso_time(status["lastSuccessfulSyncTime"]) > since
        and extra()
    )


def random_api(rng: random.Random, files: dict[str, str]) -> str:
    return rng.choice(sorted(name for name in files if name.startswith("apis/")))


def api_file(name: str, description: str) -> tuple[str, str]:
    return f"apis/{name}.yaml", api_yaml(name, description=description)


def sigterm(daemon: DaemonProcess) -> int:
    daemon.proc.send_signal(signal.SIGTERM)
    return daemon.proc.wait(timeout=60)
