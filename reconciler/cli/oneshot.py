"""`diff` and `sync`: one snapshot of SOURCE, loaded and reconciled once, then the report.

The first SIGINT or SIGTERM stops the sync (nothing new starts, the writes in flight get a short
grace period) so that the report of what was done is still printed; a second one exits at once.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.cli import options
from reconciler.exitcodes import ExitCode
from reconciler.terminal import wants_colour
from reconciler.textsafe import printable

if TYPE_CHECKING:
    from reconciler.apply.interrupt import Stop
    from reconciler.sync.result import SyncResult
    from reconciler.sync.settings import SyncMode


def add_parser(commands: Any) -> None:
    """`diff` and `sync`: one module, two commands."""
    diff = commands.add_parser(
        "diff",
        help="show what sync would change (reads APIM, changes nothing)",
        description="Load SOURCE, read the live state of every ManagementContext's APIM, and print the plan: "
        "+ create, ~ update (with field diffs), - delete, ! drifted. Changes nothing.",
    )
    options.add_plan_options(diff)
    diff.add_argument(
        "--exit-code", action="store_true", help="exit 2 when changes are pending (0 when there are none)"
    )
    diff.add_argument(
        "--server-side",
        action="store_true",
        help="also send every write to APIM with dryRun=true to validate it",
    )
    options.add_logging_options(diff)
    diff.set_defaults(handler=run_diff_command)

    sync = commands.add_parser(
        "sync",
        help="apply the plan: converge APIM to SOURCE, once",
        description="Plan like diff, then apply: creations and updates first (APIs before applications), "
        "deletions last, with bounded concurrency; one failure does not stop the others, but the run "
        "fails at the end. Prints the plan and the outcome of every action.",
    )
    options.add_plan_options(sync)
    options.add_logging_options(sync)
    sync.set_defaults(handler=run_sync_command)


def run_diff_command(args: argparse.Namespace) -> int:
    from reconciler.sync.settings import SyncMode  # here, as every command's (main.py)

    result, stop = _reconcile_once(args, SyncMode.SERVER_DRY_RUN if args.server_side else SyncMode.DIFF)
    written = print_result(result, args)
    interrupted = _interrupted_exit_code(result, stop)
    if interrupted is not None:
        return interrupted
    if not result.ok or not written:
        return ExitCode.FAILED
    return ExitCode.CHANGES_PENDING if args.exit_code and result.has_changes else ExitCode.OK


def run_sync_command(args: argparse.Namespace) -> int:
    from reconciler.sync.settings import SyncMode  # here, as every command's (main.py)

    result, stop = _reconcile_once(args, SyncMode.APPLY)
    written = print_result(result, args)
    interrupted = _interrupted_exit_code(result, stop)
    if interrupted is not None:
        return interrupted
    return ExitCode.OK if result.ok and written else ExitCode.FAILED


def print_result(result: SyncResult, args: argparse.Namespace) -> bool:
    """The whole report on stdout first (exit codes come after); problems on stderr for text and
    html; then the HTML report to ``--html-report``'s file. False when that file could not be written."""
    from reconciler.report import sync as sync_report
    from reconciler.report.html import render_html

    if args.output == "json":
        sys.stdout.write(sync_report.render_json(result))
        return write_html_report(result, args)
    problems = sync_report.render_problems(result)
    if problems:
        sys.stderr.write(problems)
    if args.output == "markdown":
        sys.stdout.write(sync_report.render_markdown(result, verbose=args.verbose))
    elif args.output == "html":
        sys.stdout.write(render_html(result, verbose=args.verbose))
    else:
        sys.stdout.write(
            sync_report.render_text(result, colour=wants_colour(sys.stdout), verbose=args.verbose)
        )
    return write_html_report(result, args)


def write_html_report(result: SyncResult, args: argparse.Namespace) -> bool:
    """``--html-report FILE``: the page written whole or not at all (a temporary file, then renamed),
    so that CI never keeps half a report; False, with the reason on stderr, when it cannot be."""
    target = getattr(args, "html_report", None)
    if not target:
        return True
    import tempfile  # here: shutil, bz2 and lzma with it, and --help writes no file

    from reconciler.report.html import render_html

    path = Path(target)
    page = render_html(result, verbose=args.verbose)
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(page)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        reason = printable(exc.strerror or str(exc))
        print(
            f"apim-reconciler: error: cannot write --html-report {printable(target)}: {reason}",
            file=sys.stderr,
        )
        return False
    return True


def _reconcile_once(args: argparse.Namespace, mode: SyncMode) -> tuple[SyncResult, Stop]:
    """One snapshot of SOURCE, loaded and reconciled; its commit goes into the ownership records."""
    import asyncio

    from reconciler.apply.interrupt import Stop
    from reconciler.report.progress import progress_bar
    from reconciler.sync.run import run_sync

    job = options.sync_job(args, args.source)
    snapshot = job.source.snapshot()  # a SourceError ends the command with exit 1 (see main)
    progress = progress_bar(sys.stderr) if sys.stderr.isatty() and args.output != "json" else None
    results: list[SyncResult] = []
    stop = Stop()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, _on_signal, stop, signum)
        # The result is handed over in a list, not returned: asyncio.run's shutdown on Python 3.11
        # renders a returned value, which costs 0.3 s for the result of a large sync.
        results.append(await run_sync(job, snapshot, mode, progress=progress, stop=stop))

    asyncio.run(run())
    return results[0], stop


def _on_signal(stop: Stop, signum: int) -> None:
    name = signal.Signals(signum).name
    if stop.signal is not None:
        print(f"apim-reconciler: {name} again: exiting at once, without a report", file=sys.stderr)
        os._exit(ExitCode.interrupted_by(signum))
    print(
        f"apim-reconciler: {name}: starting nothing new; the requests in flight get {stop.grace_period:g} s, "
        f"then the report (send {name} again to exit at once)",
        file=sys.stderr,
        flush=True,
    )
    stop.set(f"interrupted by {name}", signal=signum)


def _interrupted_exit_code(result: SyncResult, stop: Stop) -> int | None:
    """128 + the signal's number when a signal stopped the sync, as shells report it."""
    return ExitCode.interrupted_by(stop.signal) if result.interrupted and stop.signal else None
