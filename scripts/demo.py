"""`make demo`: the main job of apim-reconciler, end to end, against the embedded APIM emulator.

1. validate samples/ offline;  2. start the emulator;  3. sync samples/ into it (plan, then result);
4. sync again: nothing changes;  5. edit an API "in the console" (mAPI v2 PUT), then diff shows the
drift and sync reverts it.  Everything runs on 127.0.0.1; the emulator is stopped at the end.

The emulator listens on port 8083, as in the README; when that port is taken (say, by the emulator
the README has you start), the demo says so and takes a free port instead. ``--port N`` asks for
one port: when it is taken the demo says what to do and exits 1.
"""

from __future__ import annotations

import argparse
import errno
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "emulator-token"
HOST = "127.0.0.1"
DEFAULT_PORT = 8083
SAMPLES_URL = f"http://{HOST}:{DEFAULT_PORT}"  # samples/contexts/emulator.yaml's baseUrl


def step(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m" if sys.stdout.isatty() else f"\n== {title}", flush=True)


def reconciler(*args: str, env: dict[str, str]) -> int:
    command = [sys.executable, "-m", "reconciler", *args]
    print("$ apim-reconciler " + " ".join(args), flush=True)
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def console_edit(base_url: str) -> None:
    """What a person does in the APIM console: change an API's description (mAPI v2, with If-Match)."""
    api_root = f"{base_url}/management/v2/organizations/DEFAULT/environments/DEFAULT/apis"
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        found = http.post(f"{api_root}/_search", json={"query": "Petstore"}).json()["data"][0]
        current = http.get(f"{api_root}/{found['id']}")
        body = current.json()
        keep = (
            "name",
            "apiVersion",
            "definitionVersion",
            "type",
            "visibility",
            "lifecycleState",
            "tags",
            "labels",
        )
        update = {
            key: body[key]
            for key in (*keep, "listeners", "endpointGroups", "flowExecution", "flows")
            if key in body
        }
        update["description"] = "Edited by hand in the console"
        response = http.put(
            f"{api_root}/{found['id']}", json=update, headers={"If-Match": current.headers["ETag"]}
        )
        response.raise_for_status()
    print(f"PUT {api_root}/{found['id']} -> description: 'Edited by hand in the console'")


class PortTakenError(Exception):
    """The port asked for with --port is in use."""


def start_demo_emulator(port: int | None) -> RunningEmulator:
    """The emulator on ``port``; without one, on 8083, or on a free port (said) when 8083 is taken."""
    try:
        return start_emulator(EmulatorConfig(host=HOST, port=DEFAULT_PORT if port is None else port))
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        if port is not None:
            raise PortTakenError(
                f"demo: port {port} on {HOST} is in use. Stop what listens there, choose another "
                "port with --port, or leave --port out to let the demo pick a free one."
            ) from None
    emulator = start_emulator(EmulatorConfig(host=HOST, port=0))
    print(
        f"demo: port {DEFAULT_PORT} on {HOST} is in use (perhaps by an emulator you started, as the README "
        f"shows); this demo's own emulator listens on port {emulator.port} instead.",
        flush=True,
    )
    return emulator


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/demo.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--port",
        type=int,
        help=f"the emulator's port (default: {DEFAULT_PORT}, or a free port when {DEFAULT_PORT} is taken)",
    )
    return parser.parse_args(argv)


def samples_for(emulator: RunningEmulator, workdir: Path) -> str:
    """samples/ when the emulator is where its context points; otherwise a copy pointing at it."""
    if emulator.base_url == SAMPLES_URL:
        return "samples/"
    copy = workdir / "samples"
    shutil.copytree(ROOT / "samples", copy)
    context = copy / "contexts" / "emulator.yaml"
    text = context.read_text()
    pointed = text.replace(f"baseUrl: {SAMPLES_URL}\n", f"baseUrl: {emulator.base_url}\n")
    if pointed == text:  # the samples changed: say so rather than sync the copy into the wrong APIM
        raise RuntimeError(f"{context} has no 'baseUrl: {SAMPLES_URL}' line to point at the demo's emulator")
    context.write_text(pointed)
    print(
        f"demo: samples/contexts/emulator.yaml points at {SAMPLES_URL}; the demo syncs a copy of samples/, "
        f"{copy}, whose context points at {emulator.base_url}",
        flush=True,
    )
    return str(copy)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        emulator = start_demo_emulator(args.port)
    except PortTakenError as error:
        print(error, file=sys.stderr)
        return 1
    # The secret apim-emulator as variables: its token, and the one APIM that token may be sent to.
    env = {
        **os.environ,
        "APIM_SECRET_DEFAULT_APIM_EMULATOR_BEARERTOKEN": TOKEN,
        "APIM_SECRET_DEFAULT_APIM_EMULATOR_BASEURL": emulator.base_url,
    }
    with emulator, tempfile.TemporaryDirectory(prefix="apim-reconciler-demo-") as workdir:
        step("1. validate the sample repository (offline)")
        if reconciler("validate", "samples/", env=dict(os.environ)) != 0:
            return 1
        step(
            f"2. APIM emulator on {emulator.base_url} (token from env APIM_SECRET_DEFAULT_APIM_EMULATOR_BEARERTOKEN,"
            " bound to that URL by APIM_SECRET_DEFAULT_APIM_EMULATOR_BASEURL)"
        )
        return run_demo(emulator, samples_for(emulator, Path(workdir)), env)


def run_demo(emulator: RunningEmulator, samples: str, env: dict[str, str]) -> int:
    step(f"3. sync {samples} into APIM: the plan, then the outcome of each action")
    if reconciler("sync", samples, env=env) != 0:
        return 1
    emulator.reset_stats()
    step("4. sync again: nothing to do, and it costs only the listings")
    if reconciler("sync", samples, env=env) != 0:
        return 1
    print(f"requests sent to APIM: {emulator.stats()['total']}")
    step("5. someone edits the Petstore API in the console, behind git's back")
    console_edit(emulator.base_url)
    if reconciler("diff", samples, "--exit-code", env=env) != 2:
        print("expected diff to report the drift (exit code 2)")
        return 1
    step("6. sync reverts the drift; a last diff shows APIM matches git again")
    if reconciler("sync", samples, env=env) != 0:
        return 1
    return reconciler("diff", samples, "--exit-code", env=env)


if __name__ == "__main__":
    sys.exit(main())
