"""`run_sync`: one sync of one snapshot, for every caller: the one-shot `diff` and `sync`, and the daemon.

Read top to bottom like Flux's `reconcile()`: load the snapshot's manifests (off the event loop),
settle this sync's settings, reconcile (engine.py: resolve, read, plan, apply), return the result.
Nothing here prints or counts: the callers render the result, and the daemon records it.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.apply.executor import Progress
from reconciler.apply.interrupt import Stop
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
) -> SyncResult:
    """Load `snapshot` as `job` says, then reconcile it; `full_read` overrides the job's setting."""
    manifests = await in_daemon_thread(
        lambda: load_snapshot(
            snapshot, job.load_options, folder_display=job.folder_display, sub_path=job.sub_path
        ),
        name="reconciler-load",
    )
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
