"""Emulator configuration: one frozen value shared by the CLI, the Python API and the tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .defaults import NEWEST, REPOSITORIES
from .versions import ApimVersion

if TYPE_CHECKING:  # the values come parsed; `apim-reconciler --help` shows the flags without the faults
    from .faults import Fault


@dataclass(frozen=True)
class EmulatorConfig:
    """How to run the emulator.

    ``port=0`` picks a free port. ``users`` is a users-file path or the parsed JSON (see
    :mod:`.auth`); ``None`` means the default organization/environment ``DEFAULT`` with user
    ``admin``/``admin`` and token ``emulator-token``. ``state_file`` turns on persistence. ``seed`` makes
    rate-based faults and jitter reproducible. ``token_ttl_seconds`` gives personal access tokens created
    through mAPI v1 an ``expires_at`` (set by APIM's own configuration on a real server), so that tests
    can watch a token expire.
    """

    host: str = "127.0.0.1"
    port: int = 0
    latency_ms: float = 0
    jitter_ms: float = 0
    max_inflight: int | None = None
    faults: tuple[Fault, ...] = ()
    users: str | Path | Mapping[str, Any] | None = None
    state_file: str | Path | None = None
    seed: int | None = None
    token_ttl_seconds: float | None = None
    apim_version: str = NEWEST
    repository: str = "jdbc"
    search_nodes: int = 1
    search_index_delay_ms: float = 0
    search_sync_ms: float = 0
    node_credentials: tuple[str, str] = ("admin", "adminadmin")  # the shipped gravitee.yml's, not a secret

    def __post_init__(self) -> None:
        ApimVersion.parse(self.apim_version)
        if self.repository not in REPOSITORIES:
            raise ValueError(f"repository must be one of {REPOSITORIES}")
        if self.search_nodes < 1:
            raise ValueError("search_nodes must be >= 1")
        if self.search_index_delay_ms < 0 or self.search_sync_ms < 0:
            raise ValueError("search delays must be >= 0")
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise ValueError("latency and jitter must be >= 0")
        if self.token_ttl_seconds is not None and self.token_ttl_seconds <= 0:
            raise ValueError("token_ttl_seconds must be > 0")
        if self.max_inflight is not None and self.max_inflight < 1:
            raise ValueError("max_inflight must be >= 1")
