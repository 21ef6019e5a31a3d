"""The chaos soak: the daemon, the emulator and a git server for the whole run while the driver, at
random moments (seeded), pushes commits (changes, additions, removals under the prune threshold, a
broken commit and its revert, a force-push to an older commit), kills the daemon (SIGKILL) and starts
it again, sends it SIGHUP and SIGTERM, restarts the emulator, slows it, storms it with 503s, 429s,
resets and hangs, edits an API in the console once a minute, stops the git server, and rotates the
token files (kubelet's ``..data`` swap) with the old token revoked.

Then, faults off, the daemon must converge, and: a ``--full-read`` diff of the branch exits 0 (APIM
equals git object by object); the APIs in APIM are those of the head commit, none twice; no deletion
the daemon logged was of an API its commit held; no token minted in the run (as is, re-cased or in
base64) is in any log line or output; every SIGTERM ended in exit code 0. The figures are printed and,
with RECONCILER_CHAOS_RESULTS, written as JSON (docs/reliability.md quotes them).

`make test` runs it for 60 s (RECONCILER_CHAOS_SECONDS), `make chaos` for 10 minutes; the seed is
RECONCILER_CHAOS_SEED, so a failing run can be replayed. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.apply.helpers import context_yaml
from tests.chaos.driver import (
    BROKEN,
    DAEMON_FLAGS,
    RECOVERY_TIMEOUT,
    Emulator,
    Figures,
    Git,
    Monitor,
    ServiceAccount,
    api_file,
    canary_forms,
    cli,
    process_env,
    random_api,
    recovered,
    sigterm,
)
from tests.daemon.support import DaemonProcess, wait_for

SECONDS = float(os.environ.get("RECONCILER_CHAOS_SECONDS", "60"))
SEED = int(os.environ.get("RECONCILER_CHAOS_SEED", "20261204"))
RESULTS = os.environ.get("RECONCILER_CHAOS_RESULTS")
APIS = 30
CONSOLE_EVERY = 60.0
FAULTS = (
    "daemon_sigkill", "daemon_sigterm", "daemon_sighup", "emulator_restart", "emulator_slow",
    "storm_503", "storm_429", "connection_resets", "hangs", "git_outage", "token_rotation",
    "broken_commit", "force_push_older",
)  # fmt: skip


class Chaos:
    """The run: its processes, its history, its figures; one method per kind of episode."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.rng = random.Random(SEED)  # nosec B311: reproducible chaos, not security
        self.figures = Figures(SEED, SECONDS)
        self.emulator = Emulator(workdir, SEED)
        self.git = Git(workdir / "git")
        self.secrets = workdir / "secrets"
        self.monitor = Monitor(self.figures)
        self.daemons: list[DaemonProcess] = []
        self.exit_codes: list[int] = []
        self.revision = 0
        self.next_api = APIS
        self.last_console = time.monotonic()

    # -- processes -------------------------------------------------------------------------------

    @property
    def daemon(self) -> DaemonProcess:
        return self.daemons[-1]

    def start(self) -> None:
        self.emulator.start()
        self.git.start()
        files = dict(api_file(f"api-{i:02d}", "rev 0") for i in range(APIS))
        files["context.yaml"] = context_yaml(self.emulator.base_url)
        self.git.push(files, "initial")
        context = self.workdir / "context.yaml"
        context.write_text(files["context.yaml"])
        self.account = ServiceAccount(self.secrets, context, self.emulator.base_url)
        self.account.create()
        self.start_daemon()
        self.monitor.start()
        self.converge(time.time())

    def start_daemon(self) -> None:
        args = [self.git.url, "--secrets-dir", str(self.secrets), "--cache-dir", str(self.workdir / "cache"),
                *DAEMON_FLAGS]  # fmt: skip
        self.daemons.append(DaemonProcess(args, self.workdir / "daemon", env=process_env()).wait_serving())
        self.figures.daemon_starts += 1
        self.monitor.daemon_process = self.daemon

    def converge(self, since: float, extra: Callable[[], bool] = lambda: True) -> float:
        """Wait until the daemon has applied the head in a sync after ``since``; the time it took."""
        head = self.git.head.sha
        wait_for(
            lambda: recovered(self.daemon, head, since, extra),
            f"the daemon to apply {head[:8]} after the fault",
            timeout=RECOVERY_TIMEOUT,
            step=0.2,
        )
        return time.time() - since

    # -- commits ---------------------------------------------------------------------------------

    def push_random(self) -> None:
        files = dict(self.git.head.files)
        apis = [name for name in files if name.startswith("apis/")]
        choice = self.rng.choice(["change", "change", "add", "remove"])
        if choice == "add" or (choice == "remove" and len(apis) <= APIS - 3):
            path, text = api_file(f"api-{self.next_api:02d}", "added")
            files[path] = text
            self.next_api += 1
            choice = "add"
        elif choice == "remove":
            del files[random_api(self.rng, files)]  # one of ~30: far under the prune threshold
        else:
            self.revision += 1
            name = random_api(self.rng, files).removeprefix("apis/").removesuffix(".yaml")
            path, text = api_file(name, f"rev {self.revision}")
            files[path] = text
        self.git.push(files, choice)
        self.figures.pushes[choice] += 1

    # -- episodes --------------------------------------------------------------------------------

    def episode(self, kind: str) -> None:
        self.figures.faults[kind] += 1
        getattr(self, kind)()

    def daemon_sigkill(self) -> None:
        self.daemon.proc.send_signal(signal.SIGKILL)
        self.daemon.proc.wait(timeout=10)
        if self.rng.random() < 0.5:
            self.push_random()  # pushed while no daemon runs
        self.start_daemon()
        self.recovered_after(time.time())

    def daemon_sigterm(self) -> None:
        self.exit_codes.append(sigterm(self.daemon))
        self.start_daemon()
        self.recovered_after(time.time())

    def daemon_sighup(self) -> None:
        self.push_random()
        self.daemon.signal(signal.SIGHUP)  # sync now, without waiting for the poll
        self.recovered_after(time.time())

    def emulator_restart(self) -> None:
        self.emulator.kill()
        if self.rng.random() < 0.5:
            self.push_random()
        time.sleep(self.rng.uniform(0.5, 3))
        self.emulator.start()
        self.recovered_after(time.time())

    def emulator_slow(self) -> None:
        self.emulator.kill()
        self.emulator.start(latency_ms=150)
        self.push_random()
        time.sleep(self.rng.uniform(3, 8))
        self.emulator.kill()
        self.emulator.start()
        self.recovered_after(time.time())

    def storm(self, action: str, rate: float) -> None:
        rules = [
            {"method": "*", "path": path, "action": action, "rate": rate}
            for path in ("/management/*", "/automation/*")
        ]
        self.emulator.faults(rules)
        time.sleep(self.rng.uniform(1, 3))
        self.push_random()  # a change lands in the middle of the storm
        time.sleep(self.rng.uniform(2, 6))
        self.emulator.faults([])
        self.recovered_after(time.time())

    def storm_503(self) -> None:
        self.storm("503", 0.5)

    def storm_429(self) -> None:
        self.storm("429", 0.5)

    def connection_resets(self) -> None:
        self.storm("reset", 0.3)

    def hangs(self) -> None:
        # a few requests that never get an answer: each costs the daemon its --timeout
        self.emulator.faults([{"method": "*", "path": "/management/*", "action": "hang", "count": 3}])
        self.push_random()
        time.sleep(self.rng.uniform(3, 8))
        self.emulator.faults([])
        self.recovered_after(time.time())

    def git_outage(self) -> None:
        self.git.stop()
        time.sleep(self.rng.uniform(1, 3))
        self.push_random()  # pushed to the repository while its server is down
        time.sleep(self.rng.uniform(1, 5))
        self.git.start()
        self.recovered_after(time.time())

    def token_rotation(self) -> None:
        self.account.rotate()  # new token in place (..data swap), checked, then the old one revoked
        self.push_random()
        self.recovered_after(time.time())

    def console_edit(self) -> None:
        self.last_console = time.monotonic()
        name = random_api(self.rng, self.git.head.files).removeprefix("apis/").removesuffix(".yaml")
        wanted = self.description_in_git(name)
        self.emulator.console_edit(name, "edited in the console")
        self.recovered_after(time.time(), lambda: self.description_in_apim(name) == wanted)

    def broken_commit(self) -> None:
        self.converge(0.0)  # a commit pushed just before is applied first: it is not the broken one's doing
        before = self.fingerprint()
        good = self.git.head
        broken = self.git.push({**good.files, "apis/broken.yaml": BROKEN}, "broken", good=False)
        self.figures.pushes["broken"] += 1
        wait_for(
            lambda: self.daemon.status()["lastAttemptedRevision"] == broken.sha,
            "the daemon to try the broken commit",
            timeout=RECOVERY_TIMEOUT,
            step=0.2,
        )
        assert self.fingerprint() == before, "something was written on the strength of a broken commit"
        self.git.push(dict(good.files), "revert broken")
        self.figures.pushes["revert"] += 1
        self.recovered_after(time.time())

    def force_push_older(self) -> None:
        current = set(self.git.head.files)
        candidates = [
            p for p in self.git.history[-8:-1]
            if p.good and p.sha != self.git.head.sha and len(current - set(p.files)) <= 2
        ]  # fmt: skip
        if not candidates:
            self.push_random()
            candidates = [self.git.history[-2]]
        self.git.force_push(self.rng.choice(candidates))
        self.figures.pushes["force_push_older"] += 1
        self.recovered_after(time.time())

    def recovered_after(self, since: float, extra: Callable[[], bool] = lambda: True) -> None:
        self.figures.recoveries.append(self.converge(since, extra))

    # -- reading APIM ----------------------------------------------------------------------------

    def fingerprint(self) -> list[tuple[str, int]]:
        return sorted((str(a["spec"]["name"]), int(a["updatedAt"])) for a in self.emulator.apis())

    def description_in_apim(self, name: str) -> str | None:
        found = [a for a in self.emulator.apis() if a["spec"]["name"] == name]
        return str(found[0]["spec"].get("description")) if found else None

    def description_in_git(self, name: str) -> str:
        text = self.git.head.files[f"apis/{name}.yaml"]
        return next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("  description:"))

    # -- the run ---------------------------------------------------------------------------------

    def run(self) -> None:
        deadline = time.monotonic() + SECONDS
        # every kind once (in a random order) before any twice, so a short run still covers the most
        order: list[str] = []
        while time.monotonic() < deadline:
            if time.monotonic() - self.last_console >= CONSOLE_EVERY:
                self.episode("console_edit")
                continue
            if not order:
                order = list(FAULTS)
                self.rng.shuffle(order)
            self.episode(order.pop())
            if self.rng.random() < 0.5:
                self.push_random()
        if self.figures.faults["console_edit"] == 0:
            self.episode("console_edit")  # a short run still edits once

    def stop(self) -> None:
        self.monitor.stopping.set()
        for daemon in self.daemons:
            daemon.stop()
        self.emulator.kill()
        self.git.stop()


@pytest.mark.timeout(int(SECONDS * 4 + 900))
def test_chaos(tmp_path: Path) -> None:
    chaos = Chaos(tmp_path)
    started = time.monotonic()
    try:
        chaos.start()
        chaos.run()
        # Faults off: the emulator, the git server and the daemon are up (every episode ended them).
        chaos.emulator.faults([])
        chaos.converge(time.time())
        assert chaos.monitor.is_alive(), "the monitor died: the figures would be partial"
        chaos.monitor.sample()
        chaos.monitor.stopping.set()
        chaos.exit_codes.append(sigterm(chaos.daemon))
        figures = chaos.figures
        figures.seconds = time.monotonic() - started
        figures.syncs = chaos.monitor.totals()

        diff = cli("diff", chaos.git.url, "--secrets-dir", chaos.secrets, "--cache-dir", tmp_path / "diff-cache",
                   "--full-read", "--exit-code", "--allow-rollback")  # fmt: skip
        assert diff.returncode == 0, diff.stdout + diff.stderr

        head = chaos.git.head
        names = [str(a["spec"]["name"]) for a in chaos.emulator.apis()]
        assert len(names) == len(set(names)), f"duplicates in APIM: {sorted(names)}"
        assert set(names) == chaos.git.names_at(head.sha)

        deletions = [e for d in chaos.daemons for e in d.events("apply.resource_deleted")]
        wrongful = [
            (e["resource"], e["commit"][:8])
            for e in deletions
            if e["resource"].rpartition("/")[2] in chaos.git.names_at(e["commit"])
        ]
        assert wrongful == [], "deleted while in git at that commit"
        assert chaos.exit_codes and set(chaos.exit_codes) == {0}, chaos.exit_codes

        outputs = [d.log_text() for d in chaos.daemons] + [d.out_path.read_text() for d in chaos.daemons]
        outputs += [*chaos.account.outputs, diff.stdout, diff.stderr]
        assert len(chaos.account.tokens) == 1 + figures.faults["token_rotation"]
        leaked = {
            form[:6] for token in chaos.account.tokens for form in canary_forms(token)
            if any(form in text for text in outputs)
        }  # fmt: skip
        assert leaked == set(), "a token reached an output"

        report = figures.to_json() | {"deletions_logged": len(deletions), "apis_at_end": len(names)}
        print("\nchaos figures:\n" + "\n".join(f"  {k:22} {v}" for k, v in report.items()))
        if RESULTS:
            Path(RESULTS).write_text(json.dumps(report, indent=2) + "\n")
        assert figures.syncs["success"] > 0 and figures.recoveries
    finally:
        chaos.stop()
