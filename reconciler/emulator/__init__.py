"""A local APIM (Gravitee API Management) emulator for tests, demos, benchmarks and users' CI.

It serves the Automation API, the mAPI v2 and the mAPI v1 endpoints that apim-reconciler uses, from one
in-memory store, as the real server behaves (read from its Java source; ``docs/emulator-fidelity.md``
lists every behaviour with its source and test), for a chosen APIM version (``apim_version``), with fault
injection, latency and statistics on top. It imports nothing from the rest of ``reconciler`` so that it
cannot share the client's mistakes.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import EmulatorConfig
    from .faults import Fault
    from .server import RunningEmulator, start_emulator
else:
    # Imported on first use, so that `apim-reconciler --help` (which shows the emulator's flags) does
    # not load the server; the rest of the reconciler does the same through reconciler/lazy.py, which
    # the emulator may not import.
    _ORIGINS = {
        "EmulatorConfig": "config",
        "Fault": "faults",
        "RunningEmulator": "server",
        "start_emulator": "server",
    }

    def __getattr__(name: str) -> object:
        if name not in _ORIGINS:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{_ORIGINS[name]}"), name)
        globals()[name] = value
        return value


__all__ = ["EmulatorConfig", "Fault", "RunningEmulator", "start_emulator"]
