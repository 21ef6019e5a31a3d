"""`make demo`: the main job of apim-reconciler, end to end, against the embedded APIM emulator.

1. validate samples/ offline;  2. start the emulator;  3. sync samples/ into it (plan, then result);
4. sync again: nothing changes;  5. edit an API "in the console" (mAPI v2 PUT), then diff shows the
drift and sync reverts it.  Everything runs on 127.0.0.1; the emulator is stopped at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from reconciler.emulator import EmulatorConfig, start_emulator

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "emulator-token"


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


def main() -> int:
    # The secret apim-emulator as variables: its token, and the one APIM that token may be sent to.
    env = {
        **os.environ,
        "APIM_SECRET_DEFAULT_APIM_EMULATOR_BEARERTOKEN": TOKEN,
        "APIM_SECRET_DEFAULT_APIM_EMULATOR_BASEURL": "http://127.0.0.1:8083",
    }
    step("1. validate the sample repository (offline)")
    if reconciler("validate", "samples/", env=env) != 0:
        return 1
    with start_emulator(EmulatorConfig(port=8083)) as emulator:
        step(
            f"2. APIM emulator on {emulator.base_url} (token from env APIM_SECRET_DEFAULT_APIM_EMULATOR_BEARERTOKEN,"
            " bound to that URL by APIM_SECRET_DEFAULT_APIM_EMULATOR_BASEURL)"
        )
        step("3. sync samples/ into APIM: the plan, then the outcome of each action")
        if reconciler("sync", "samples/", env=env) != 0:
            return 1
        emulator.reset_stats()
        step("4. sync again: nothing to do, and it costs only the listings")
        if reconciler("sync", "samples/", env=env) != 0:
            return 1
        print(f"requests sent to APIM: {emulator.stats()['total']}")
        step("5. someone edits the Petstore API in the console, behind git's back")
        console_edit(emulator.base_url)
        if reconciler("diff", "samples/", "--exit-code", env=env) != 2:
            print("expected diff to report the drift (exit code 2)")
            return 1
        step("6. sync reverts the drift; a last diff shows APIM matches git again")
        if reconciler("sync", "samples/", env=env) != 0:
            return 1
        return reconciler("diff", "samples/", "--exit-code", env=env)


if __name__ == "__main__":
    sys.exit(main())
