"""How one sync runs: its mode, and the settings that the CLI's flags and the daemon's config become."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from reconciler.apim.config import ClientConfig
from reconciler.apply.scope import Scope
from reconciler.defaults import DEFAULT_SECRETS_DIR, DEFAULT_SYNC_TIMEOUT
from reconciler.plan.model import PlanOptions
from reconciler.secrets.store import EnvTemplatePolicy


class SyncMode(StrEnum):
    DIFF = "diff"  # read APIM, change nothing
    SERVER_DRY_RUN = "server-dry-run"  # diff, plus every write sent with dryRun=true
    APPLY = "apply"


@dataclass(frozen=True)
class SyncSettings:
    plan: PlanOptions = field(default_factory=PlanOptions)
    scope: Scope = field(default_factory=Scope)
    concurrency: int = 8
    per_page: int = 100
    secrets_dir: Path | None = DEFAULT_SECRETS_DIR
    config_dir: Path | None = None
    env_policy: EnvTemplatePolicy = field(default_factory=EnvTemplatePolicy)
    client: ClientConfig = field(default_factory=ClientConfig)
    sync_timeout: float | None = DEFAULT_SYNC_TIMEOUT
    """Seconds one sync may take in all; then it stops as on a signal (nothing new starts) and fails."""
    never_delete: bool = False
    """``--mode apply``: create and update, never delete (see sync/deletions.py)."""
