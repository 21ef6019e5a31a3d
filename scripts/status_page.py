"""`make status-page`: regenerate docs/status-page.png, the daemon's page at `/` after a demo-like sync.

The README shows that page; a screenshot drawn by hand would drift from what the daemon serves, so
this one is taken by the browser the tests use (Debian's headless Chromium) from a real daemon:

1. an APIM emulator on a free port, and a copy of samples/ pointing at it, plus one API, `reporting`,
   whose HRID somebody already used in the console (an unowned object: a conflict);
2. `apim-reconciler run` on that copy: its first sync creates the samples and reports the conflict;
3. the Petstore's description edited "in the console", then SIGHUP: the next sync reverts the drift;
4. `chromium --headless --screenshot` of `/`, 1280x900, written to docs/status-page.png.

Everything runs on 127.0.0.1 and is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconciler.emulator import EmulatorConfig, start_emulator  # noqa: E402
from scripts.demo import SAMPLES_URL, TOKEN, console_edit  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
OUTPUT = ROOT / "docs" / "status-page.png"
REPORTING = """\
apiVersion: gravitee.io/v1alpha1
kind: ApiV4Definition
metadata:
  name: reporting
spec:
  contextRef:
    name: emulator
  name: Reporting
  description: Monthly reports, behind the gateway.
  version: "1.0"
  type: PROXY
  listeners:
    - type: HTTP
      paths:
        - path: /reporting
      entrypoints:
        - type: http-proxy
  endpointGroups:
    - name: default
      type: http-proxy
      endpoints:
        - name: default
          type: http-proxy
          inheritConfiguration: false
          configuration:
            target: https://reporting.example.com
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as response:
        data: dict[str, object] = json.load(response)
        return data


def _wait(what: str, check: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if callable(check) and check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"status-page: timed out waiting for {what}")


def _unowned_api(base_url: str) -> None:
    """An API made in the console with the HRID that reporting.yaml will claim."""
    body = {
        "hrid": "default-reporting",
        "name": "Reporting (made in the console)",
        "version": "1",
        "type": "PROXY",
        "state": "STARTED",
        "lifecycleState": "UNPUBLISHED",
        "listeners": [
            {"type": "HTTP", "paths": [{"path": "/reporting-old"}], "entrypoints": [{"type": "http-proxy"}]}
        ],
        "endpointGroups": [
            {"name": "g", "type": "http-proxy", "endpoints": [{"name": "e", "type": "http-proxy"}]}
        ],
    }
    request = urllib.request.Request(
        f"{base_url}/automation/organizations/DEFAULT/environments/DEFAULT/apis",
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/status_page.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUTPUT, help=f"the PNG to write (default: {OUTPUT})")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"status-page: {CHROMIUM} is absent: apt-get install chromium", file=sys.stderr)
        return 1
    with (
        start_emulator(EmulatorConfig(host="127.0.0.1", port=0)) as emulator,
        tempfile.TemporaryDirectory(prefix="apim-reconciler-status-page-") as workdir,
    ):
        work = Path(workdir)
        shutil.copytree(ROOT / "samples", work / "samples")
        context = work / "samples" / "contexts" / "emulator.yaml"
        context.write_text(context.read_text().replace(SAMPLES_URL, emulator.base_url))
        (work / "samples" / "apis" / "reporting.yaml").write_text(REPORTING)
        _unowned_api(emulator.base_url)
        port = _free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")},
            "APIM_SECRET_DEFAULT_APIM_EMULATOR_BEARERTOKEN": TOKEN,
            "APIM_SECRET_DEFAULT_APIM_EMULATOR_BASEURL": emulator.base_url,
            "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
        }
        daemon = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reconciler",
                "run",
                "samples",
                "--listen",
                f"127.0.0.1:{port}",
                "--interval",
                "300",
                "--cache-dir",
                str(work / "cache"),
                "--log-format",
                "json",
            ],
            cwd=work,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait("the first sync", lambda: _get(f"{url}/status").get("syncs") == 1)
            console_edit(emulator.base_url)
            daemon.send_signal(signal.SIGHUP)
            _wait("the sync that reverts the drift", lambda: _get(f"{url}/status").get("syncs") == 2)
            with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
                subprocess.run(
                    [
                        CHROMIUM,
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-quic",
                        "--no-first-run",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        f"--user-data-dir={profile}",
                        "--hide-scrollbars",
                        "--window-size=1280,900",
                        f"--screenshot={args.out.resolve()}",
                        f"{url}/",
                    ],
                    check=True,
                    capture_output=True,
                    timeout=60,
                )
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=30)
    print(f"status-page: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
