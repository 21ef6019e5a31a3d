"""A local APIM (Gravitee API Management) emulator for tests, demos, benchmarks and users' CI.

It serves the Automation API, the mAPI v2 and the mAPI v1 endpoints that apim-reconciler uses, from one
in-memory store, as the real server behaves (read from its Java source; ``docs/emulator-fidelity.md``
lists every behaviour with its source and test), for a chosen APIM version (``apim_version``), with fault
injection, latency and statistics on top. It imports nothing from the rest of ``reconciler`` so that it
cannot share the client's mistakes.
"""

from .config import EmulatorConfig
from .faults import Fault
from .server import RunningEmulator, start_emulator

__all__ = ["EmulatorConfig", "Fault", "RunningEmulator", "start_emulator"]
