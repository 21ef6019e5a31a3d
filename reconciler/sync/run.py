"""`run_sync`: one sync of one snapshot, for every caller: the one-shot `diff` and `sync`, and the daemon.

Read top to bottom like Flux's `reconcile()`: load the snapshot's manifests (off the event loop),
settle this sync's settings, reconcile (engine.py: resolve, read, plan, apply), return the result.
Nothing here prints or counts: the callers render the result, and the daemon records it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from reconciler.apply.executor import Progress
from reconciler.apply.interrupt import Stop
from reconciler.manifests.model import ManifestSet
from reconciler.source import Snapshot
from reconciler.sync.engine import reconcile
from reconciler.sync.job import SyncJob
from reconciler.sync.loading import load_snapshot
from reconciler.sync.result import SyncResult
from reconciler.sync.settings import SyncMode
from reconciler.sync.threads import in_daemon_thread


async def run_sync(
    job: SyncJob,
    snapshot: Snapshot,
    mode: SyncMode,
    *,
    full_read: bool | None = None,
    progress: Progress | None = None,
    stop: Stop | None = None,
    on_loaded: Callable[[ManifestSet], None] | None = None,
) -> SyncResult:
    """Load `snapshot` as `job` says, then reconcile it; `full_read` overrides the job's setting.

    `on_loaded` sees the manifests before anything is read from APIM (the daemon declares the
    metric series of every context then, so that they exist while a first long sync runs).
    """
    manifests = await in_daemon_thread(
        lambda: load_snapshot(
            snapshot,
            job.load_options,
            folder_display=job.folder_display,
            sub_path=job.sub_path,
            cache=job.load_cache,
        ),
        name="reconciler-load",
    )
    if on_loaded is not None:
        on_loaded(manifests)
    settings = job.settings
    if full_read is not None:
        settings = replace(settings, plan=replace(settings.plan, full_read=full_read))
    return await reconcile(
        manifests,
        settings,
        commit=snapshot.commit,
        mode=mode,
        progress=progress,
        committed_at=snapshot.committed_at,
        stop=stop,
    )
