"""The defaults (and names) that the command line shows, in a leaf that imports nothing of ours.

`--help` builds every command's flags, so whatever holds a flag's default is imported by every run:
reading `--sync-timeout`'s from `sync.settings` loaded the planner and the kind registry, `--cache-dir`'s
from `source.git` the git source, `--allowed-apim-url`'s name from `contexts.binding` the credential
origins and the APIM endpoints (issue 20: `--help` in 0.13 s, against a goal of 0.1 s). The modules
that use these values import them from here, and so does `cli/options.py`; tests/test_layers.py keeps
this module a leaf.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_SYNC_TIMEOUT = 1800.0
"""Seconds one sync may take in all (`--sync-timeout`; `sync.settings.SyncSettings`)."""

DEFAULT_OWNER = "apim-reconciler"
"""The owner id written in every ownership record (`--owner`; `plan.ownership`)."""

DEFAULT_SECRETS_DIR = Path("/var/run/secrets/apim-reconciler")
"""Where mounted secrets are read (`--secrets-dir`; `secrets.store.SecretStore`)."""

DEFAULT_MAX_RESPONSE_SIZE = 64 * 1024 * 1024
"""Bytes of one APIM answer, at most (`--max-response-size`; `apim.config.ClientConfig`)."""

DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024
"""Bytes of one manifest file, at most (`--max-file-size`; `manifests.files`)."""

DEFAULT_ORG_ROLE = "ADMIN"
"""The organization role `service-account create` gives (`--org-role`; why in `identity.model`)."""
DEFAULT_ENV_ROLE = "API_PUBLISHER"
"""The environment role `service-account create` gives (`--env-role`)."""
DEFAULT_WARN_DAYS = 30.0
"""A token expiring within this many days is a warning (`service-account status --warn-days`)."""

ALLOW_FLAG = "--allowed-apim-url"
"""The flag that binds a credential to a `baseUrl` (`contexts.binding` names it in its messages)."""
ALLOW_ENV = "RECONCILER_ALLOWED_APIM_URLS"
"""`ALLOW_FLAG`'s variable: a list, so not `RECONCILER_<FLAG>`."""


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/apim-reconciler/git`` (``~/.cache/...`` when unset): `--cache-dir`, `source.git`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "apim-reconciler" / "git"
