"""A local APIM (Gravitee API Management) emulator for tests, demos, benchmarks and users' CI.

It serves the Automation API, the mAPI v2 and the two mAPI v1 endpoints that apim-reconciler uses, from
one in-memory store, with fault injection, latency and statistics. It imports nothing from the rest of
``reconciler`` so that it cannot share the client's mistakes.
"""

from .config import EmulatorConfig
from .faults import Fault
from .server import RunningEmulator, start_emulator

__all__ = ["EmulatorConfig", "Fault", "RunningEmulator", "start_emulator"]
