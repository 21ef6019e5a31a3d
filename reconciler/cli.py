"""The `apim-reconciler` command line: flags, environment, exit codes, and nothing else.

Every flag can also be set by an environment variable `RECONCILER_<FLAG>` (upper case, dashes
as underscores), as decK and Flux users expect; a flag on the command line wins.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from reconciler import __version__
from reconciler.apim.config import DEFAULT_MAX_RESPONSE_SIZE, ClientConfig, Timeouts, TlsOptions
from reconciler.apim.endpoints import EndpointError
from reconciler.apply.engine import DEFAULT_SYNC_TIMEOUT, SyncMode, SyncResult, SyncSettings, reconcile
from reconciler.apply.interrupt import Stop
from reconciler.apply.scope import Scope, parse_labels, parse_shard_index
from reconciler.contexts import ALLOW_ENV, ALLOW_FLAG, check_allowed_urls, split_urls
from reconciler.daemon import SyncJob, load_snapshot
from reconciler.exitcodes import ExitCode
from reconciler.logs import LEVELS, configure_logging
from reconciler.manifests import LoadOptions, load_manifests
from reconciler.manifests.files import DEFAULT_MAX_FILE_SIZE
from reconciler.manifests.model import DEFAULT_NAMESPACE, RECONCILED_KINDS
from reconciler.manifests.schema import schema_text
from reconciler.manifests.templates import ENV_PREFIX as ENV_TEMPLATE_PREFIX
from reconciler.plan.model import PlanOptions
from reconciler.plan.ownership import DEFAULT_OWNER
from reconciler.report import problems as problems_report
from reconciler.report import sync as sync_report
from reconciler.report.progress import progress_bar
from reconciler.secrets import SecretStore
from reconciler.secrets.stdio import scrubbed_stdio
from reconciler.secrets.store import DEFAULT_SECRETS_DIR, EnvTemplatePolicy
from reconciler.source import FolderSource, GitAuth, SourceError, default_cache_dir, open_source
from reconciler.textsafe import printable

ENV_PREFIX = "RECONCILER_"


class UsageError(Exception):
    """A flag value that parses but makes no sense; exits 64 like any usage error."""


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on a usage error; 2 means "changes pending" here, so use 64 (EX_USAGE)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message}\n")


def env_name(flag: str) -> str:
    return ENV_PREFIX + flag.lstrip("-").upper().replace("-", "_")


def _option(parser: argparse._ActionsContainer, flag: str, default: Any = None, **kwargs: Any) -> None:
    """Add a flag whose default comes from its RECONCILER_* variable, and say so in --help."""
    env = env_name(flag)
    kind: Callable[[str], Any] = kwargs.get("type", str)
    value = os.environ.get(env)
    if value is not None:
        try:
            default = kind(value)
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"{env}={value!r} is not a valid value for {flag}: {exc}") from None
        except (TypeError, ValueError):
            raise UsageError(f"{env}={value!r} is not a valid value for {flag}") from None
    help_text = kwargs.pop("help", "")
    kwargs["help"] = f"{help_text} [env {env}]" + (" (default: %(default)s)" if default is not None else "")
    parser.add_argument(flag, default=default, **kwargs)


_NAMESPACE_PATTERN = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_OWNER_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


def _namespace_name(text: str) -> str:
    """A Kubernetes namespace (DNS label), as metadata.namespace must be: it becomes part of HRIDs."""
    if not _NAMESPACE_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a Kubernetes namespace: 1 to 63 lowercase letters, digits and '-', "
            "beginning and ending with a letter or digit"
        )
    return text


def _owner_id(text: str) -> str:
    """An owner id: it is written into every ownership record, and compared to find what is ours."""
    if not _OWNER_ID_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an owner id: 1 to 63 letters, digits, '.', '_' and '-', beginning with "
            "a letter or digit"
        )
    return text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


def _add_load_options(parser: argparse.ArgumentParser) -> None:
    _option(
        parser,
        "--default-namespace",
        DEFAULT_NAMESPACE,
        type=_namespace_name,
        metavar="NS",
        help="namespace of resources whose metadata names none",
    )
    _option(
        parser,
        "--max-file-size",
        DEFAULT_MAX_FILE_SIZE,
        type=_positive_int,
        metavar="BYTES",
        help="refuse manifest files larger than this",
    )


def _add_logging_options(parser: argparse.ArgumentParser) -> None:
    _option(parser, "--log-level", "warning", choices=LEVELS, help="least severe log line written to stderr")
    _option(
        parser,
        "--log-format",
        "auto",
        choices=("auto", "console", "json"),
        help="log lines as JSON or for people; auto: console on a terminal, JSON otherwise",
    )


def _add_apim_options(parser: argparse.ArgumentParser) -> None:
    """Options of every command that talks to APIM: where secrets are, and how to connect."""
    _option(
        parser,
        "--secrets-dir",
        str(DEFAULT_SECRETS_DIR),
        metavar="DIR",
        help="mounted secrets in the Kubernetes secret-volume layout: DIR/[NAMESPACE/]NAME/KEY",
    )
    _option(
        parser,
        "--config-dir",
        None,
        metavar="DIR",
        help="mounted config maps for [[ configmap ]] templates, same layout as --secrets-dir",
    )
    _option(parser, "--ca-bundle", None, metavar="FILE", help="PEM file of CAs to trust for APIM's TLS")
    parser.add_argument(
        "--context-ca-bundle",
        action="append",
        default=[],
        metavar="NAMESPACE/NAME=FILE",
        help="CAs to trust for one ManagementContext's APIM instead of --ca-bundle (repeatable)",
    )
    parser.add_argument(
        "--insecure-skip-tls-verify",
        action="store_true",
        default=os.environ.get(env_name("--insecure-skip-tls-verify"), "") == "true",
        help="do not verify APIM's TLS certificate (logs a warning; a manifest cannot turn this on) "
        f"[env {env_name('--insecure-skip-tls-verify')}=true]",
    )
    _option(
        parser,
        "--timeout",
        30.0,
        type=float,
        metavar="SECONDS",
        help="time limit of each APIM request attempt, in all (connect, send, wait, read the whole answer)",
    )
    _option(
        parser,
        "--max-response-size",
        DEFAULT_MAX_RESPONSE_SIZE,
        type=int,
        metavar="BYTES",
        help="refuse an APIM answer larger than this",
    )
    parser.add_argument(
        ALLOW_FLAG,
        dest="allowed_apim_urls",
        action="append",
        default=split_urls(os.environ.get(ALLOW_ENV, "")),
        metavar="URL",
        help="let credentials from outside the repository (mounted secrets, APIM_SECRET_*) go to this "
        "APIM base URL, for every context (repeatable; the variable takes several, comma-separated; a "
        f"secret's own baseUrl/allowedUrls key binds just that secret) [env {ALLOW_ENV}=URL,URL]",
    )
    parser.add_argument(
        "--public-var",
        action="append",
        default=_public_vars_from_env(),
        metavar="APIM_VAR_NAME",
        help="an [[ env ]] template variable whose value is not secret: shown in diffs instead of "
        f"(sensitive) (repeatable) [env {PUBLIC_VARS_ENV}=NAME,NAME]",
    )


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    """Options of a git SOURCE (docs/source.md); credentials are named by file or variable, never given."""
    git = parser.add_argument_group("git source (when SOURCE is a repository URL)")
    _option(
        git, "--ref", None, metavar="REF", help="branch, tag or commit (default: the remote's default branch)"
    )
    _option(
        git, "--path", None, metavar="DIR", help="sub-folder of the repository (or of the folder) to read"
    )
    _option(git, "--cache-dir", str(default_cache_dir()), metavar="DIR", help="where clones are kept")
    _option(git, "--git-timeout", 120.0, type=float, metavar="SECONDS", help="time limit of each git command")
    _option(
        git,
        "--git-username",
        None,
        metavar="NAME",
        help="https user name (default with a token: x-access-token)",
    )
    _option(git, "--git-token-file", None, metavar="FILE", help="file holding an https token")
    _option(git, "--git-token-env", None, metavar="VAR", help="name of the variable holding an https token")
    _option(git, "--git-password-file", None, metavar="FILE", help="file holding an https password")
    _option(
        git, "--git-password-env", None, metavar="VAR", help="name of the variable holding an https password"
    )
    _option(git, "--ssh-key", None, metavar="FILE", help="ssh private key")
    _option(git, "--ssh-passphrase-file", None, metavar="FILE", help="file holding the ssh key's passphrase")
    _option(
        git, "--ssh-known-hosts", None, metavar="FILE", help="known_hosts to check the server's key against"
    )
    _option(
        git, "--ssh-config", None, metavar="FILE", help="ssh config file (host aliases, ports, jump hosts)"
    )
    env = env_name("--no-ssh-strict-host-key-checking")
    git.add_argument(
        "--no-ssh-strict-host-key-checking",
        dest="ssh_strict_host_key_checking",
        action="store_false",
        default=os.environ.get(env, "").lower() not in ("true", "1"),
        help=f"accept any ssh host key (labs only; logs a warning) [env {env}=true]",
    )


PUBLIC_VARS_ENV = "RECONCILER_PUBLIC_VARS"


def _public_vars_from_env() -> list[str]:
    return [name.strip() for name in os.environ.get(PUBLIC_VARS_ENV, "").split(",") if name.strip()]


def _env_policy(args: argparse.Namespace) -> EnvTemplatePolicy:
    """Which env template variables are public, and which are refused (the git credential's)."""
    public = getattr(args, "public_var", None) or []
    for name in public:
        if not name.startswith(ENV_TEMPLATE_PREFIX) or name == ENV_TEMPLATE_PREFIX:
            raise UsageError(f"--public-var {name}: env templates read only {ENV_TEMPLATE_PREFIX}* variables")
    refused = {getattr(args, "git_token_env", None), getattr(args, "git_password_env", None)}
    return EnvTemplatePolicy(frozenset(public), frozenset(name for name in refused if name))


def _git_auth(args: argparse.Namespace) -> GitAuth:
    def path(value: str | None) -> Path | None:
        return Path(value) if value else None

    try:
        return GitAuth(
            username=args.git_username,
            token_file=path(args.git_token_file),
            token_env=args.git_token_env,
            password_file=path(args.git_password_file),
            password_env=args.git_password_env,
            ssh_key_file=path(args.ssh_key),
            ssh_passphrase_file=path(args.ssh_passphrase_file),
            known_hosts_file=path(args.ssh_known_hosts),
            ssh_config_file=path(args.ssh_config),
            strict_host_key_checking=args.ssh_strict_host_key_checking,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _sync_job(args: argparse.Namespace, source_spec: str) -> SyncJob:
    """The source (a folder or a git repository), settings and load options of a diff, sync or run."""
    settings = _sync_settings(args)
    try:
        source = open_source(
            source_spec,
            ref=args.ref,
            path=args.path,
            cache_dir=Path(args.cache_dir),
            auth=_git_auth(args),
            timeout=args.git_timeout,
        )
    except ValueError as exc:  # a malformed ref or sub-path
        raise UsageError(str(exc)) from None
    # A folder is loaded as the user typed it, so that messages show their paths, not absolute ones.
    display = None
    if isinstance(source, FolderSource):
        display = os.path.join(source_spec, args.path) if args.path else source_spec
    return SyncJob(source, settings, _load_options(args), folder_display=display, sub_path=args.path)


def _secret_store(args: argparse.Namespace) -> SecretStore:
    return SecretStore(
        Path(args.secrets_dir),
        Path(args.config_dir) if args.config_dir else None,
        env_policy=_env_policy(args),
    )


def _client_config(args: argparse.Namespace) -> ClientConfig:
    tls = TlsOptions(
        ca_bundle=Path(args.ca_bundle) if args.ca_bundle else None,
        insecure_skip_verify=args.insecure_skip_tls_verify,
    )
    overrides: dict[str, TlsOptions] = {}
    for entry in args.context_ca_bundle:
        context, sep, path = entry.partition("=")
        if not sep or not context or not path:
            raise UsageError(f"--context-ca-bundle {entry!r} is not NAMESPACE/NAME=FILE")
        key = context if "/" in context else f"{DEFAULT_NAMESPACE}/{context}"
        overrides[key] = TlsOptions(ca_bundle=Path(path), insecure_skip_verify=tls.insecure_skip_verify)
    try:
        allowed = check_allowed_urls(args.allowed_apim_urls)
    except EndpointError as exc:
        raise UsageError(str(exc)) from None
    if args.max_response_size < 1:
        raise UsageError("--max-response-size must be at least 1 byte")
    return ClientConfig(
        timeouts=Timeouts(read=args.timeout, write=args.timeout, attempt=args.timeout),
        tls=tls,
        tls_overrides=overrides,
        max_response_size=args.max_response_size,
        allowed_urls=allowed,
    )


def _flag(parser: argparse._ActionsContainer, flag: str, help_text: str, default: bool = False) -> None:
    """A boolean flag (`--x` / `--no-x`) whose default comes from RECONCILER_X=true|false."""
    env = env_name(flag)
    value = os.environ.get(env)
    if value is not None:
        if value.lower() not in ("true", "false", "1", "0"):
            raise UsageError(f"{env}={value!r} is not true or false")
        default = value.lower() in ("true", "1")
    parser.add_argument(
        flag,
        action=argparse.BooleanOptionalAction,
        default=default,
        help=f"{help_text} [env {env}=true|false] (default: {str(default).lower()})",
    )


def _fraction(text: str) -> float:
    value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a fraction between 0 and 1, or a percentage")
    return value


def _add_plan_options(parser: argparse.ArgumentParser, *, source_from_env: bool = False) -> None:
    """Options of diff, sync and run; run may take SOURCE from RECONCILER_SOURCE (a container's config)."""
    help_text = "folder of manifests, or a git repository URL (https, ssh, git, file)"
    if source_from_env:
        env = env_name("--source")
        parser.add_argument(
            "source",
            metavar="SOURCE",
            nargs="?",
            default=os.environ.get(env),
            help=f"{help_text} [env {env}]",
        )
    else:
        parser.add_argument("source", metavar="SOURCE", help=help_text)
    _add_load_options(parser)
    _add_apim_options(parser)
    _add_source_options(parser)
    scope = parser.add_argument_group("scope (narrows what is planned, and what may be pruned)")
    scope.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="NAME",
        help="only this ManagementContext (repeatable)",
    )
    scope.add_argument(
        "--kind",
        action="append",
        default=[],
        choices=RECONCILED_KINDS[1:],
        help="only this kind (repeatable)",
    )
    scope.add_argument(
        "--name",
        action="append",
        default=[],
        metavar="GLOB",
        help="only resources whose name matches (repeatable)",
    )
    _option(
        scope,
        "--shards",
        1,
        type=int,
        metavar="M",
        help="split the contexts between M replicas by a stable hash",
    )
    _option(
        scope,
        "--shard-index",
        "0",
        metavar="I",
        help="this replica's share, 0..M-1, or auto: the ordinal of a StatefulSet pod's hostname",
    )
    scope.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="only resources with this label (repeatable; turns pruning off)",
    )
    plan = parser.add_argument_group("planning")
    _option(
        plan,
        "--owner",
        DEFAULT_OWNER,
        type=_owner_id,
        metavar="ID",
        help="owner id written in ownership records; other owners' resources are never touched",
    )
    _flag(plan, "--prune", "delete owned resources that left the repository", default=True)
    _flag(plan, "--force-prune", "let a prune past the guards (threshold, all, empty repository)")
    _option(
        plan,
        "--prune-threshold",
        0.25,
        type=_fraction,
        metavar="FRACTION",
        help="refuse to delete more than this share of a context's owned resources (e.g. 0.25 or 25%%)",
    )
    _flag(
        plan,
        "--revert-drift",
        "revert changes made in APIM behind our back (--no-revert-drift only reports them)",
        default=True,
    )
    _flag(
        plan,
        "--adopt",
        "take over existing resources whose HRID matches a manifest, instead of reporting a conflict",
    )
    _flag(
        plan,
        "--allow-rollback",
        "let a sync of a commit committed earlier than the one an object was last written from "
        "overwrite or delete it (a rollback); without it such objects are refused (blocked)",
    )
    _flag(
        plan,
        "--full-read",
        "read every managed resource to detect any drift (slower; the default reads only what changed)",
    )
    _option(plan, "--concurrency", 8, type=int, metavar="N", help="APIM requests in flight per context")
    _option(
        plan,
        "--sync-timeout",
        DEFAULT_SYNC_TIMEOUT,
        type=float,
        metavar="SECONDS",
        help="time limit of one sync: then nothing new starts, the report says what was done, and it "
        "fails (0: none)",
    )
    _option(plan, "--per-page", 100, type=int, metavar="N", help="page size of APIM listings")
    _option(
        parser,
        "--output",
        "text",
        choices=("text", "json", "markdown"),
        help="report format: text for people, json for machines, markdown for a pull-request comment",
    )
    _flag(parser, "--verbose", "also list unchanged resources")
    _add_logging_options(parser)


def _sync_settings(args: argparse.Namespace) -> SyncSettings:
    try:
        labels = parse_labels(args.label)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    plan = PlanOptions(
        owner_id=args.owner,
        prune=args.prune,
        force_prune=args.force_prune,
        prune_threshold=args.prune_threshold,
        revert_drift=args.revert_drift,
        adopt=args.adopt,
        full_read=args.full_read,
        allow_rollback=args.allow_rollback,
    )
    try:
        shard_index = parse_shard_index(args.shard_index, socket.gethostname())
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.shards < 1 or not 0 <= shard_index < args.shards:
        raise UsageError(f"--shard-index must be between 0 and {args.shards - 1}")
    scope = Scope(
        frozenset(args.context),
        frozenset(args.kind),
        tuple(args.name),
        labels or None,
        args.shards,
        shard_index,
    )
    return SyncSettings(
        plan=plan,
        scope=scope,
        concurrency=max(1, args.concurrency),
        per_page=max(1, args.per_page),
        secrets_dir=Path(args.secrets_dir),
        config_dir=Path(args.config_dir) if args.config_dir else None,
        env_policy=_env_policy(args),
        client=_client_config(args),
        sync_timeout=args.sync_timeout if args.sync_timeout > 0 else None,
    )


def _run_plan(args: argparse.Namespace, mode: SyncMode) -> tuple[SyncResult, Stop]:
    """One snapshot of SOURCE, loaded and reconciled; its commit goes into the ownership records.

    The first SIGINT or SIGTERM stops the sync (nothing new starts, the writes in flight get a short
    grace period) so that the report of what was done is still printed; a second one exits at once.
    """
    job = _sync_job(args, args.source)
    snapshot = job.source.snapshot()  # a SourceError ends the command with exit 1 (see main)
    manifests = load_snapshot(
        snapshot, job.load_options, folder_display=job.folder_display, sub_path=job.sub_path
    )
    progress = progress_bar(sys.stderr) if sys.stderr.isatty() and args.output != "json" else None
    results: list[SyncResult] = []
    stop = Stop()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, _on_signal, stop, signum)
        # The result is handed over in a list, not returned: asyncio.run's shutdown on Python 3.11
        # renders a returned value, which costs 0.3 s for the result of a large sync.
        results.append(
            await reconcile(
                manifests,
                job.settings,
                commit=snapshot.commit,
                mode=mode,
                progress=progress,
                committed_at=snapshot.committed_at,
                stop=stop,
            )
        )

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


def _exit_code(result: SyncResult, stop: Stop) -> int | None:
    """128 + the signal's number when a signal stopped the sync, as shells report it."""
    return ExitCode.interrupted_by(stop.signal) if result.interrupted and stop.signal else None


def _print_result(result: SyncResult, args: argparse.Namespace) -> None:
    """The whole report on stdout first (exit codes come after); problems on stderr for text."""
    if args.output == "json":
        sys.stdout.write(sync_report.render_json(result))
        return
    problems = sync_report.render_problems(result)
    if problems:
        sys.stderr.write(problems)
    if args.output == "markdown":
        sys.stdout.write(sync_report.render_markdown(result, verbose=args.verbose))
    else:
        sys.stdout.write(sync_report.render_text(result, colour=sys.stdout.isatty(), verbose=args.verbose))


def cmd_diff(args: argparse.Namespace) -> int:
    result, stop = _run_plan(args, SyncMode.SERVER_DRY_RUN if args.server_side else SyncMode.DIFF)
    _print_result(result, args)
    interrupted = _exit_code(result, stop)
    if interrupted is not None:
        return interrupted
    if not result.ok:
        return ExitCode.FAILED
    return ExitCode.CHANGES_PENDING if args.exit_code and result.has_changes else ExitCode.OK


def cmd_sync(args: argparse.Namespace) -> int:
    result, stop = _run_plan(args, SyncMode.APPLY)
    _print_result(result, args)
    interrupted = _exit_code(result, stop)
    if interrupted is not None:
        return interrupted
    return ExitCode.OK if result.ok else ExitCode.FAILED


def cmd_run(args: argparse.Namespace) -> int:
    """The daemon (reconciler/daemon): flags become a SyncJob and a DaemonConfig, nothing more."""
    from reconciler.daemon import AlreadyRunningError, DaemonConfig, parse_listen, run_daemon, run_once
    from reconciler.daemon.webhook import WebhookSecretError, read_webhook_secret

    source = args.source
    if args.watch is not None:
        if source is not None and Path(source).resolve() != Path(args.watch).resolve():
            raise UsageError("--watch PATH is the source itself: give SOURCE or --watch, not two folders")
        source = args.watch
    if source is None:
        raise UsageError(f"give a SOURCE (or set {env_name('--source')}), or --watch PATH")
    try:
        config = DaemonConfig(
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
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if config.webhook_secret_file is not None:
        try:
            read_webhook_secret(config.webhook_secret_file)  # fail now, not at the first push
        except WebhookSecretError as exc:
            raise UsageError(str(exc)) from None
    job = _sync_job(args, source)
    try:
        if args.once:
            return run_once(job, config, lambda result: _print_result(result, args))
        return run_daemon(job, config)
    except AlreadyRunningError as exc:
        print(f"apim-reconciler: error: {printable(str(exc))}", file=sys.stderr)
        return ExitCode.FAILED


def _load_options(args: argparse.Namespace) -> LoadOptions:
    return LoadOptions(default_namespace=args.default_namespace, max_file_size=args.max_file_size)


def cmd_validate(args: argparse.Namespace) -> int:
    manifests = load_manifests(args.paths, _load_options(args))
    render = problems_report.render_json if args.output == "json" else problems_report.render_text
    sys.stdout.write(render(manifests))
    return ExitCode.OK if manifests.ok else ExitCode.FAILED


def cmd_check_context(args: argparse.Namespace) -> int:
    from reconciler.contexts.check import check_contexts, render_context_checks

    manifests = load_manifests(args.paths, _load_options(args))
    if not manifests.ok:
        sys.stdout.write(problems_report.render_text(manifests))
        return ExitCode.FAILED
    results = check_contexts(manifests.resources, _secret_store(args), _client_config(args))
    if args.output == "json":
        document = [
            {
                "context": {"namespace": r.context.namespace, "name": r.context.name},
                "file": r.position.file,
                "line": r.position.line,
                "ok": r.ok,
                "message": r.message,
                "failure": str(r.failure) if r.failure else None,
                "server": r.server,
                "organizationId": r.organization_id,
                "environmentId": r.environment_id,
                "environmentName": r.environment_name,
                "auth": r.auth,
                "binding": r.binding,
                "capabilities": None
                if r.capabilities is None
                else {
                    "automationApis": r.capabilities.automation_apis,
                    "automationApplications": r.capabilities.automation_applications,
                    "listingShowsMetadata": r.capabilities.listing_metadata,
                    "organizationAdmin": r.capabilities.organization_admin,
                    "missingPermissions": list(r.capabilities.missing_permissions),
                    "problems": r.capabilities.problems(),
                },
            }
            for r in results
        ]
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        sys.stdout.write(render_context_checks(results))
    return ExitCode.OK if results and all(r.ok for r in results) else ExitCode.FAILED


def cmd_export(args: argparse.Namespace) -> int:
    from reconciler.apim.endpoints import EndpointError
    from reconciler.apim.errors import ApimError
    from reconciler.export.command import ExportError, ExportOptions, find_context, render_text, run_export
    from reconciler.export.writer import OverwriteRefused, UnsafeOutput
    from reconciler.secrets.errors import SecretResolutionError, SecretResolutionErrors

    options = ExportOptions(
        out_dir=Path(args.out),
        namespace=args.namespace,
        force=args.force,
        write_context=args.write_context,
        include_without_hrid=args.include_without_hrid,
        per_page=max(1, args.per_page),
        concurrency=max(1, args.concurrency),
        owner_id=args.owner,
    )
    try:
        context = find_context(args.context, Path(args.path), _load_options(args))
        result = asyncio.run(run_export(context, _secret_store(args), _client_config(args), options))
    except (
        ExportError,
        OverwriteRefused,
        UnsafeOutput,
        ApimError,
        EndpointError,
        SecretResolutionError,
        SecretResolutionErrors,
    ) as exc:
        print(f"apim-reconciler export: {printable(str(exc))}", file=sys.stderr)
        return ExitCode.FAILED
    sys.stdout.write(render_text(result, options.out_dir, Path(args.secrets_dir)))
    return ExitCode.OK if result.ok else ExitCode.FAILED


def cmd_schema(args: argparse.Namespace) -> int:
    if args.all:
        if args.out is None:
            sys.stdout.write("{\n" + ",\n".join(f'"{k}": {schema_text(k)}' for k in RECONCILED_KINDS) + "}\n")
            return ExitCode.OK
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for kind in RECONCILED_KINDS:
            (out / f"{kind}.json").write_text(schema_text(kind), encoding="utf-8")
            print(out / f"{kind}.json")
        return ExitCode.OK
    if args.kind is None:
        print("apim-reconciler schema: name a KIND or pass --all", file=sys.stderr)
        return ExitCode.USAGE
    sys.stdout.write(schema_text(args.kind))
    return ExitCode.OK


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="apim-reconciler",
        description="Keep Gravitee API Management in step with a git repository of GKO-compatible manifests.",
        epilog="Exit codes: 0 success, 1 errors found or operation failed, 2 changes pending "
        "(diff --exit-code), 64 usage error, 130 interrupted by SIGINT (Ctrl-C), 143 by SIGTERM "
        "(diff and sync print the report of what was done first).",
    )
    parser.add_argument("--version", action="version", version=f"apim-reconciler {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    validate = commands.add_parser(
        "validate",
        help="check manifests offline: YAML, schemas, cross-resource rules",
        description="Load every *.yaml/*.yml under PATH (recursively, skipping hidden folders), validate "
        "each ManagementContext, ApiV4Definition, ApiDefinition and Application against its schema, and "
        "check them across files (unknown contextRef, duplicates, clashing listener paths, plan/page "
        "keys, templates, names and lengths that APIM refuses); unsafe files (symlinks out of the "
        "repository or into hidden folders, devices, unreadable files) are errors. Prints "
        "file:line:column: severity: message, then a summary.",
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", help="manifest files or folders")
    _option(validate, "--output", "text", choices=("text", "json"), help="report format")
    _add_load_options(validate)
    _add_logging_options(validate)
    validate.set_defaults(handler=cmd_validate)

    check = commands.add_parser(
        "check-context",
        help="check that every ManagementContext reaches its APIM with its credentials",
        description="For every ManagementContext under PATH: resolve its credentials (inline, mounted "
        "secret files, or APIM_SECRET_* variables), call the server, and print who and where it reached, "
        "or exactly why not. Exit 1 when any context cannot be used.",
    )
    check.add_argument("paths", nargs="+", metavar="PATH", help="manifest files or folders")
    _option(check, "--output", "text", choices=("text", "json"), help="report format")
    _add_load_options(check)
    _add_apim_options(check)
    _add_logging_options(check)
    check.set_defaults(handler=cmd_check_context)

    export = commands.add_parser(
        "export",
        help="write every API and application of a context's environment as manifests (adoption)",
        description="Read every API and application of the ManagementContext's environment and write one "
        "GKO-compatible manifest per object under --out (apis/, applications/), with server-assigned "
        "fields and our ownership record left out and secret-looking values replaced by [[ secret ]] "
        "templates (listed, never written). Then run sync --adopt once. See docs/export.md.",
    )
    export.add_argument(
        "path",
        nargs="?",
        default=".",
        metavar="PATH",
        help="repository in which to look up --context by name (default: the current folder)",
    )
    export.add_argument(
        "--context",
        required=True,
        metavar="FILE_OR_NAME",
        help="a ManagementContext manifest file, or the [namespace/]name of one under PATH",
    )
    export.add_argument("--out", required=True, metavar="DIR", help="folder to write the manifests into")
    export.add_argument(
        "--namespace",
        default=None,
        type=_namespace_name,
        metavar="NS",
        help="namespace of the exported manifests (default: the context's); HRIDs <NS>-<name> keep names",
    )
    export.add_argument("--force", action="store_true", help="overwrite files that already exist")
    export.add_argument(
        "--write-context", action="store_true", help="also write the context as contexts/<name>.yaml"
    )
    export.add_argument(
        "--include-without-hrid",
        action="store_true",
        help="also write objects that have no HRID (sync cannot adopt them: it would create duplicates)",
    )
    _option(
        export,
        "--owner",
        DEFAULT_OWNER,
        type=_owner_id,
        metavar="ID",
        help="our owner id, to flag other owners' objects",
    )
    _option(export, "--concurrency", 8, type=int, metavar="N", help="APIM requests in flight")
    _option(export, "--per-page", 100, type=int, metavar="N", help="page size of APIM listings")
    _add_load_options(export)
    _add_apim_options(export)
    _add_logging_options(export)
    export.set_defaults(handler=cmd_export)

    diff = commands.add_parser(
        "diff",
        help="show what sync would change (reads APIM, changes nothing)",
        description="Load SOURCE, read the live state of every ManagementContext's APIM, and print the plan: "
        "+ create, ~ update (with field diffs), - delete, ! drifted. Changes nothing.",
    )
    _add_plan_options(diff)
    diff.add_argument(
        "--exit-code", action="store_true", help="exit 2 when changes are pending (0 when there are none)"
    )
    diff.add_argument(
        "--server-side",
        action="store_true",
        help="also send every write to APIM with dryRun=true to validate it",
    )
    diff.set_defaults(handler=cmd_diff)

    sync = commands.add_parser(
        "sync",
        help="apply the plan: converge APIM to SOURCE, once",
        description="Plan like diff, then apply: creations and updates first (APIs before applications), "
        "deletions last, with bounded concurrency; one failure does not stop the others, but the run "
        "fails at the end. Prints the plan and the outcome of every action.",
    )
    _add_plan_options(sync)
    sync.set_defaults(handler=cmd_sync)

    run = commands.add_parser(
        "run",
        help="run as a daemon: poll SOURCE and keep APIM converged (webhook, metrics, health)",
        description="Sync SOURCE into APIM whenever its commit changes, at least every --resync-interval "
        "(drift correction), on POST /trigger (webhook), on SIGHUP, and on file changes with --watch. "
        "Serves /healthz, /readyz, /metrics, /status and /trigger on --listen. SIGTERM stops after the "
        "sync in flight. See docs/daemon.md.",
    )
    _add_plan_options(run, source_from_env=True)
    # A daemon that says nothing while it works looks dead: it logs each sync unless told otherwise.
    run.set_defaults(log_level=os.environ.get(env_name("--log-level"), "info"))
    daemon = run.add_argument_group("daemon")
    _option(
        daemon, "--interval", 60.0, type=float, metavar="SECONDS", help="poll period of SOURCE (±10%% jitter)"
    )
    _option(
        daemon,
        "--resync-interval",
        600.0,
        type=float,
        metavar="SECONDS",
        help="sync at least this often even when the commit is unchanged (reverts drift)",
    )
    _option(
        daemon,
        "--full-read-interval",
        3600.0,
        type=float,
        metavar="SECONDS",
        help="read every managed object in full this often, and at start (0: only with --full-read)",
    )
    _option(
        daemon,
        "--identity-check-interval",
        86400.0,
        type=float,
        metavar="SECONDS",
        help="check each context's identity (token expiry, roles) at start and this often; 0: never",
    )
    _option(
        daemon,
        "--token-warn-days",
        30.0,
        type=float,
        metavar="DAYS",
        help="warn (log, /status) when a context's token expires within this many days",
    )
    _option(
        daemon,
        "--listen",
        "127.0.0.1:8080",
        metavar="HOST:PORT",
        help="address of the HTTP endpoints (an empty value serves none)",
    )
    _option(
        daemon,
        "--webhook-secret-file",
        None,
        metavar="FILE",
        help="shared secret of POST /trigger (HMAC or bearer); without it the webhook is off",
    )
    _option(
        daemon,
        "--shutdown-timeout",
        30.0,
        type=float,
        metavar="SECONDS",
        help="on SIGTERM, how long the sync in flight may take to finish before it is cancelled",
    )
    daemon.add_argument(
        "--once",
        action="store_true",
        default=os.environ.get(env_name("--once"), "").lower() in ("true", "1"),
        help=f"sync once and exit 0 or 1, like sync (CI, CronJob) [env {env_name('--once')}=true]",
    )
    _option(
        daemon,
        "--watch",
        None,
        metavar="PATH",
        help="a local folder as SOURCE, re-synced on every saved change",
    )
    run.set_defaults(handler=cmd_run)

    schema = commands.add_parser(
        "schema",
        help="print the JSON Schema of a kind (for editors and CI)",
        description="Print the JSON Schema (draft 2020-12) of a kind, e.g. for yaml-language-server.",
    )
    schema.add_argument(
        "kind", nargs="?", choices=RECONCILED_KINDS, metavar="KIND", help=", ".join(RECONCILED_KINDS)
    )
    schema.add_argument("--all", action="store_true", help="every kind's schema")
    schema.add_argument("--out", metavar="DIR", help="with --all: write one KIND.json file per kind into DIR")
    schema.set_defaults(handler=cmd_schema)

    from reconciler.identity import cli as identity_cli

    identity_cli.add_parser(
        commands,
        identity_cli.CliHooks(
            add_options=(_add_load_options, _add_apim_options, _add_logging_options),
            secret_store=_secret_store,
            client_config=_client_config,
            load_options=_load_options,
        ),
    )

    emulator = commands.add_parser(
        "emulator",
        help="run a local APIM emulator (for the demo, tests and CI)",
        description="Serve the APIM endpoints that apim-reconciler uses (Automation API, Management API v2 "
        "and the v1 endpoints for v2 APIs) from an in-memory store, with latency and fault injection. "
        "Default credentials: admin/admin, or the bearer token emulator-token.",
    )
    from reconciler.emulator import cli as emulator_cli

    emulator_cli.add_arguments(emulator)
    emulator.set_defaults(handler=emulator_cli.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; everything it prints, tracebacks included, goes through the secret scrubber."""
    with scrubbed_stdio():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    try:
        parser = build_parser()
    except UsageError as exc:
        print(f"apim-reconciler: error: {printable(str(exc))}", file=sys.stderr)
        return ExitCode.USAGE
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    configure_logging(getattr(args, "log_level", "warning"), getattr(args, "log_format", "auto"))
    try:
        return int(handler(args))
    except UsageError as exc:
        print(f"apim-reconciler: error: {printable(str(exc))}", file=sys.stderr)
        return ExitCode.USAGE
    except SourceError as exc:  # the message is safe to show: no credential in it (docs/source.md)
        print(f"apim-reconciler: error: {printable(exc.message)}", file=sys.stderr)
        return ExitCode.FAILED
    except KeyboardInterrupt:  # Ctrl-C outside a sync (which handles it itself and reports)
        return ExitCode.interrupted_by(signal.SIGINT)
