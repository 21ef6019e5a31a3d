"""`emulator`: the local APIM of the demo, the tests and CI; its flags are the emulator's own.

The emulator imports nothing of the reconciler (it must not share the client's mistakes), so it
declares its flags itself, for `python -m reconciler.emulator` too; here they join the one vocabulary
(a RECONCILER_* variable each, the same usage errors).
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator import cli as emulator_cli


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "emulator",
        help="run a local APIM emulator (for the demo, tests and CI)",
        description="Serve the APIM endpoints that apim-reconciler uses (Automation API, Management API v2 "
        "and the v1 endpoints for v2 APIs) from an in-memory store, with latency and fault injection. "
        "Default credentials: admin/admin, or the bearer token emulator-token.",
    )
    emulator_cli.add_arguments(parser)
    parser.set_defaults(handler=emulator_cli.run)
