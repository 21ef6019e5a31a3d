"""Running the daemon: lock, endpoints, signals, the loop, and a bounded graceful shutdown.

Exit codes of ``run``: 0 after a graceful stop (the sync in flight finished within
``--shutdown-timeout``); 1 when that sync had to be cancelled, when another process holds the
cache directory, or when the endpoints cannot listen. ``run --once`` exits like ``sync``: 0 when the
sync succeeded, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any, TypeVar

import structlog

from reconciler.daemon import signals
from reconciler.daemon.config import DaemonConfig
from reconciler.daemon.endpoints import make_handler
from reconciler.daemon.http import HttpServer
from reconciler.daemon.identity import IdentityWatch
from reconciler.daemon.lock import ProcessLock
from reconciler.daemon.loop import ReconcileLoop
from reconciler.daemon.metrics import Metrics
from reconciler.daemon.status import StatusBoard
from reconciler.daemon.suspend import Suspension
from reconciler.daemon.webhook import TokenBucket
from reconciler.exitcodes import ExitCode
from reconciler.manifests.loader import LoadCache
from reconciler.notify import Notifier
from reconciler.source import watch
from reconciler.sync.job import SyncJob
from reconciler.sync.result import SyncResult

_log = structlog.get_logger(__name__)

T = TypeVar("T")


def _run(main: Coroutine[Any, Any, T]) -> T:
    """Like `asyncio.run`, but without waiting for executor threads at the end (see threads.py)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(main)
    finally:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def run_daemon(job: SyncJob, config: DaemonConfig) -> int:
    """Run until SIGTERM/SIGINT; raises `AlreadyRunningError` when the cache directory is taken.

    The daemon keeps each manifest file's parse between syncs (`LoadCache`): a push of one file
    re-parses that file, not the repository.
    """
    if job.load_cache is None:
        job = replace(job, load_cache=LoadCache())
    with ProcessLock(config.lock_dir):
        return _run(_serve(job, config))


def run_once(job: SyncJob, config: DaemonConfig, report: Callable[[SyncResult], None]) -> int:
    """One sync (``run --once``), reported through ``report``; `SourceError` propagates."""
    with ProcessLock(config.lock_dir):
        status = StatusBoard(job.source.source_url, job.source.ref, ready_within=config.ready_within)
        loop = ReconcileLoop(job, config, status=status, metrics=Metrics())
        result = _run(loop.once())
    report(result)
    return ExitCode.OK if result.ok else ExitCode.FAILED


def _watch_folder(
    config: DaemonConfig, loop: asyncio.AbstractEventLoop, trigger: Callable[[str], None]
) -> threading.Event:
    """Start a thread that triggers a sync on each batch of file changes; set the event to stop it."""
    stop = threading.Event()
    folder = config.watch
    if folder is None:
        return stop

    def work() -> None:
        for batch in watch(folder, stop):
            _log.info("daemon.files_changed", files=len(batch))
            loop.call_soon_threadsafe(trigger, "watch")

    threading.Thread(target=work, name="reconciler-watch", daemon=True).start()
    return stop


async def _serve(job: SyncJob, config: DaemonConfig) -> int:
    status = StatusBoard(job.source.source_url, job.source.ref, ready_within=config.ready_within)
    metrics = Metrics()
    identity = IdentityWatch(
        job.settings,
        interval=config.identity_check_interval,
        warn_days=config.token_warn_days,
        monotonic=time.monotonic,
    )
    suspension = Suspension(at_start=config.suspend, file=config.suspend_file)
    notifier = (
        Notifier(config.notify_targets, rate_per_minute=config.notify_rate_per_minute)
        if config.notify_targets
        else None
    )
    reconciler = ReconcileLoop(
        job,
        config,
        status=status,
        metrics=metrics,
        identity=identity,
        suspension=suspension,
        notifier=notifier,
    )
    reconciler.publish_suspension()
    server: HttpServer | None = None
    if config.listen is not None:
        handler = make_handler(
            status=status,
            metrics=metrics,
            trigger=reconciler.trigger,
            control=reconciler,
            control_secret_file=config.control_secret_file,
            webhook_secret_file=config.webhook_secret_file,
            bucket=TokenBucket(config.webhook_rate, config.webhook_burst),
        )
        server = HttpServer(handler, config.listen.host, config.listen.port, max_body=config.webhook_max_body)
        try:
            await server.start()
        except OSError as error:
            _log.error("daemon.listen_failed", listen=str(config.listen), error=str(error))
            return ExitCode.FAILED
    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    task = asyncio.create_task(reconciler.run(), name="reconcile-loop")

    def on_stop() -> None:
        if stop_requested.is_set():
            _log.warning("daemon.second_signal", action="cancelling the sync in flight")
            task.cancel()
        stop_requested.set()

    remove_signals = signals.install(
        loop,
        on_hup=lambda: reconciler.trigger("sighup"),
        on_stop=on_stop,
        on_suspend=lambda: reconciler.suspend("SIGUSR1"),
        on_resume=lambda: reconciler.resume("SIGUSR2"),
    )
    watch_stop = _watch_folder(config, loop, reconciler.trigger)
    _log.info(
        "daemon.started",
        source=job.source.source_url,
        ref=job.source.ref,
        listen=f"{config.listen.host}:{server.port}" if config.listen and server else None,
        interval_s=config.interval,
        resync_interval_s=config.resync_interval,
        webhook=config.webhook_secret_file is not None,
        watch=str(config.watch) if config.watch else None,
        suspended=suspension.state().suspended,
        notify=[t.name for t in config.notify_targets],
    )
    code = ExitCode.OK
    try:
        waiter = asyncio.create_task(stop_requested.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        status.mark_shutting_down()
        reconciler.stop()
        _log.info("daemon.stopping", sync_in_flight=reconciler.syncing, timeout_s=config.shutdown_timeout)
        try:
            await asyncio.wait_for(asyncio.shield(task), config.shutdown_timeout)
        except TimeoutError:
            _log.error("daemon.shutdown_timeout", action="cancelling the sync in flight")
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            code = ExitCode.FAILED
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
            code = ExitCode.FAILED  # a second signal cancelled the sync in flight
        except Exception as error:
            _log.error("daemon.loop_died", error=repr(error))
            code = ExitCode.FAILED
    finally:
        watch_stop.set()
        remove_signals()
        if server is not None:
            await server.close()
        if notifier is not None:  # the last events (the final sync's) get a few seconds to go out
            await asyncio.to_thread(notifier.close, 5.0)
    _log.info("daemon.stopped", exit_code=int(code))
    return code
