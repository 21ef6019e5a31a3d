"""`run`: the daemon (reconciler/daemon); its flags become a SyncJob and a DaemonConfig, nothing more."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.cli import oneshot, options
from reconciler.cli.parser import UsageError, env_name, set_env
from reconciler.exitcodes import ExitCode
from reconciler.notify.eventkinds import EVENT_KINDS
from reconciler.textsafe import printable

if TYPE_CHECKING:
    from reconciler.notify import Target

SOURCE_ENV = env_name("--source")  # a container's configuration names its SOURCE


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "run",
        help="run as a daemon: poll SOURCE and keep APIM converged (webhook, metrics, health)",
        description="Sync SOURCE into APIM whenever its commit changes, at least every --resync-interval "
        "(drift correction), on POST /trigger (webhook), on SIGHUP, and on file changes with --watch. "
        "Serves /healthz, /readyz, /metrics, /status, /trigger, /suspend and /resume on --listen. "
        "SIGUSR1 suspends (no writes), SIGUSR2 resumes. SIGTERM stops after the sync in flight. See docs/daemon.md.",
    )
    options.add_plan_options(parser, source_optional=True)
    set_env(parser, "source", SOURCE_ENV)
    # A daemon that says nothing while it works looks dead: it logs each sync unless told otherwise.
    options.add_logging_options(parser, default_level="info")
    daemon = parser.add_argument_group("daemon")
    daemon.add_argument(
        "--interval",
        default=60.0,
        type=options.non_negative,
        metavar="SECONDS",
        help="poll period of SOURCE (±10%% jitter)",
    )
    daemon.add_argument(
        "--resync-interval",
        default=600.0,
        type=options.non_negative,
        metavar="SECONDS",
        help="sync at least this often even when the commit is unchanged (reverts drift)",
    )
    daemon.add_argument(
        "--full-read-interval",
        default=3600.0,
        type=options.non_negative,
        metavar="SECONDS",
        help="read every managed object in full this often, and at start (0: only with --full-read)",
    )
    daemon.add_argument(
        "--identity-check-interval",
        default=86400.0,
        type=options.non_negative,
        metavar="SECONDS",
        help="check each context's identity (token expiry, roles) at start and this often; 0: never",
    )
    daemon.add_argument(
        "--token-warn-days",
        default=30.0,
        type=options.non_negative,
        metavar="DAYS",
        help="warn (log, /status) when a context's token expires within this many days",
    )
    daemon.add_argument(
        "--listen",
        default="127.0.0.1:8080",
        metavar="HOST:PORT",
        help="address of the HTTP endpoints (an empty value serves none)",
    )
    daemon.add_argument(
        "--webhook-secret-file",
        metavar="FILE",
        help="shared secret of POST /trigger (HMAC or bearer); without it the webhook is off",
    )
    daemon.add_argument(
        "--suspend",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="start suspended: poll and plan (shown in /status), write nothing until resumed",
    )
    daemon.add_argument(
        "--suspend-file",
        metavar="PATH",
        help="the daemon is suspended while this file exists (checked at every poll)",
    )
    daemon.add_argument(
        "--control-secret-file",
        metavar="FILE",
        help="secret of POST /suspend and POST /resume (HMAC or bearer, as /trigger); without it they are off",
    )
    notify = parser.add_argument_group("notifications (docs/daemon.md#notifications)")
    notify.add_argument(
        "--notify-webhook",
        action="append",
        default=[],
        metavar="URL",
        help="POST a JSON document on each event, signed with --notify-webhook-secret-file",
    )
    notify.add_argument(
        "--notify-webhook-secret-file", metavar="FILE", help="HMAC-SHA256 key of X-Reconciler-Signature-256"
    )
    notify.add_argument(
        "--notify-slack-webhook-file", metavar="FILE", help="file holding a Slack incoming-webhook URL"
    )
    notify.add_argument(
        "--notify-teams-webhook-file",
        metavar="FILE",
        help="file holding a Microsoft Teams (Workflows) webhook URL",
    )
    notify.add_argument(
        "--notify-commit-status",
        choices=("github", "gitlab"),
        help="set a commit status on each synced commit (success or failure)",
    )
    notify.add_argument(
        "--notify-commit-status-api",
        metavar="URL",
        help="API base URL (default https://api.github.com, https://gitlab.com/api/v4)",
    )
    notify.add_argument(
        "--notify-commit-status-repo",
        metavar="REPO",
        help="OWNER/REPO (github), or a project id or path (gitlab)",
    )
    notify.add_argument(
        "--notify-commit-status-token-file", metavar="FILE", help="file holding the API token"
    )
    notify.add_argument(
        "--notify-commit-status-context",
        default="apim-reconciler",
        metavar="NAME",
        help="the status's context (github) or name (gitlab)",
    )
    notify.add_argument(
        "--notify-commit-status-target-url",
        metavar="URL",
        help="link of the status (e.g. the daemon's /status)",
    )
    notify.add_argument(
        "--notify-on",
        action="append",
        default=[],
        choices=EVENT_KINDS,
        help="only these events (default: all)",
    )
    notify.add_argument(
        "--notify-rate",
        default=6.0,
        type=options.non_negative,
        metavar="PER_MINUTE",
        help="notifications per minute and target, at most (a burst as large); more are dropped",
    )
    daemon.add_argument(
        "--shutdown-timeout",
        default=30.0,
        type=options.non_negative,
        metavar="SECONDS",
        help="on SIGTERM, how long the sync in flight may take to finish before it is cancelled",
    )
    daemon.add_argument(
        "--once", action="store_true", help="sync once and exit 0 or 1, like sync (CI, CronJob)"
    )
    daemon.add_argument(
        "--watch", metavar="PATH", help="a local folder as SOURCE, re-synced on every saved change"
    )
    parser.set_defaults(handler=run)


def notify_targets(args: argparse.Namespace) -> tuple[Target, ...]:
    from reconciler.notify import NotifyConfig, NotifyConfigError, build_targets

    def path(value: str | None) -> Path | None:
        return Path(value) if value else None

    if args.notify_rate <= 0:
        raise UsageError("--notify-rate must be more than 0")
    config = NotifyConfig(
        webhooks=tuple(args.notify_webhook),
        webhook_secret_file=path(args.notify_webhook_secret_file),
        slack_webhook_file=path(args.notify_slack_webhook_file),
        teams_webhook_file=path(args.notify_teams_webhook_file),
        commit_status=args.notify_commit_status,
        commit_status_api=args.notify_commit_status_api,
        commit_status_repo=args.notify_commit_status_repo,
        commit_status_token_file=path(args.notify_commit_status_token_file),
        commit_status_context=args.notify_commit_status_context,
        commit_status_target_url=args.notify_commit_status_target_url,
        events=frozenset(args.notify_on or EVENT_KINDS),
        rate_per_minute=args.notify_rate,
    )
    try:
        return build_targets(config)
    except NotifyConfigError as exc:
        raise UsageError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from reconciler.daemon import AlreadyRunningError, DaemonConfig, parse_listen, run_daemon, run_once
    from reconciler.daemon.webhook import WebhookSecretError, read_webhook_secret

    source = args.source
    if args.watch is not None:
        if source is not None and Path(source).resolve() != Path(args.watch).resolve():
            raise UsageError("--watch PATH is the source itself: give SOURCE or --watch, not two folders")
        source = args.watch
    if source is None:
        raise UsageError(f"give a SOURCE (or set {SOURCE_ENV}), or --watch PATH")
    targets = notify_targets(args)
    try:
        config = DaemonConfig(
            notify_targets=targets,
            notify_rate_per_minute=args.notify_rate,
            lock_dir=Path(args.cache_dir),
            interval=args.interval,
            resync_interval=args.resync_interval,
            full_read_interval=args.full_read_interval,
            listen=parse_listen(args.listen) if args.listen else None,
            webhook_secret_file=Path(args.webhook_secret_file) if args.webhook_secret_file else None,
            shutdown_timeout=args.shutdown_timeout,
            watch=Path(args.watch) if args.watch is not None else None,
            identity_check_interval=args.identity_check_interval,
            token_warn_days=args.token_warn_days,
            suspend=args.suspend,
            suspend_file=Path(args.suspend_file) if args.suspend_file else None,
            control_secret_file=Path(args.control_secret_file) if args.control_secret_file else None,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.html_report and not args.once:
        raise UsageError(
            "--html-report writes the report of one sync: with --once only (the daemon serves its page at /)"
        )
    if args.once and targets:
        raise UsageError("notifications are the daemon's: not with --once")
    if args.once and (config.suspend or config.suspend_file or config.control_secret_file):
        raise UsageError(
            "--suspend, --suspend-file and --control-secret-file are the daemon's: not with --once"
        )
    for secret_file in (config.webhook_secret_file, config.control_secret_file):
        if secret_file is not None:
            try:
                read_webhook_secret(secret_file)  # fail now, not at the first request
            except WebhookSecretError as exc:
                raise UsageError(str(exc)) from None
    job = options.sync_job(args, source)
    try:
        if args.once:
            written: list[bool] = []
            code = run_once(job, config, lambda result: written.append(oneshot.print_result(result, args)))
            return code if all(written) else ExitCode.FAILED
        return run_daemon(job, config)
    except AlreadyRunningError as exc:
        print(f"apim-reconciler: error: {printable(str(exc))}", file=sys.stderr)
        return ExitCode.FAILED
