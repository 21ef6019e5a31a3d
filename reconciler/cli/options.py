"""The options that several commands share, and what they become: settings, stores, client config.

Each group is added by one function and read back by one builder, so that `sync`, `run`, `export`
and `service-account` read secrets and talk to APIM in exactly the same way.

Why one long module: it is the one home of every shared flag and of what it becomes; splitting it
would put a flag and its builder in two places.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

# Only what the flags need is imported here: building the parser must stay cheap (`--help` builds
# every command's flags). What the flags become is imported by the builders below, when called.
from reconciler.cli.parser import UsageError
from reconciler.defaults import (
    ALLOW_FLAG,
    DEFAULT_MAX_FILE_SIZE,
    DEFAULT_MAX_RESPONSE_SIZE,
    DEFAULT_OWNER,
    DEFAULT_SECRETS_DIR,
    DEFAULT_SYNC_TIMEOUT,
    default_cache_dir,
)
from reconciler.logs import LEVELS
from reconciler.manifests.names import DEFAULT_NAMESPACE, RECONCILED_KINDS

if TYPE_CHECKING:
    from reconciler.apim.config import ClientConfig
    from reconciler.manifests import LoadOptions
    from reconciler.secrets import SecretStore
    from reconciler.secrets.store import EnvTemplatePolicy
    from reconciler.source import CommitVerifier, GitAuth
    from reconciler.sync.job import SyncJob
    from reconciler.sync.settings import SyncSettings

PUBLIC_VARS_ENV = "RECONCILER_PUBLIC_VARS"
OUTPUT_HELP = (
    "report format: text for people, json for machines, markdown for a pull-request comment, html for a page"
)

# ----------------------------------------------------------------------------- value types

_NAMESPACE_PATTERN = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_OWNER_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


def namespace_name(text: str) -> str:
    """A Kubernetes namespace (DNS label), as metadata.namespace must be: it becomes part of HRIDs."""
    if not _NAMESPACE_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a Kubernetes namespace: 1 to 63 lowercase letters, digits and '-', "
            "beginning and ending with a letter or digit"
        )
    return text


def owner_id(text: str) -> str:
    """An owner id: it is written into every ownership record, and compared to find what is ours."""
    if not _OWNER_ID_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an owner id: 1 to 63 letters, digits, '.', '_' and '-', beginning with "
            "a letter or digit"
        )
    return text


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


def non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value:g} is negative")
    return value


def fraction(text: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction or a percentage") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a fraction between 0 and 1, or a percentage")
    return value


# ----------------------------------------------------------------------------- option groups


def add_load_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--default-namespace",
        default=DEFAULT_NAMESPACE,
        type=namespace_name,
        metavar="NS",
        help="namespace of resources whose metadata names none",
    )
    parser.add_argument(
        "--max-file-size",
        default=DEFAULT_MAX_FILE_SIZE,
        type=positive_int,
        metavar="BYTES",
        help="refuse manifest files larger than this",
    )


def add_context_lookup(parser: argparse.ArgumentParser) -> None:
    """`--context` and the repository it is looked up in: `export` and `service-account` alike."""
    parser.add_argument(
        "path",
        nargs="?",
        default=".",
        metavar="PATH",
        help="repository in which to look up --context by name (default: the current folder)",
    )
    parser.add_argument(
        "--context",
        required=True,
        metavar="FILE_OR_NAME",
        help="a ManagementContext manifest file, or the [namespace/]name of one under PATH",
    )


def add_logging_options(parser: argparse.ArgumentParser, *, default_level: str = "warning") -> None:
    parser.add_argument(
        "--log-level",
        default=default_level,
        type=str.lower,
        choices=LEVELS,
        help="least severe log line written to stderr (any case)",
    )
    parser.add_argument(
        "--log-format",
        default="auto",
        choices=("auto", "console", "json"),
        help="log lines as JSON or for people; auto: console on a terminal, JSON otherwise",
    )


def add_output_option(parser: argparse.ArgumentParser, formats: tuple[str, ...], help_text: str) -> None:
    parser.add_argument("--output", default=formats[0], choices=formats, help=help_text)


def add_apim_options(parser: argparse.ArgumentParser) -> None:
    """Options of every command that talks to APIM: where secrets are, and how to connect."""
    parser.add_argument(
        "--secrets-dir",
        default=str(DEFAULT_SECRETS_DIR),
        metavar="DIR",
        help="mounted secrets in the Kubernetes secret-volume layout: DIR/[NAMESPACE/]NAME/KEY",
    )
    parser.add_argument(
        "--config-dir",
        metavar="DIR",
        help="mounted config maps for [[ configmap ]] templates, same layout as --secrets-dir",
    )
    parser.add_argument("--ca-bundle", metavar="FILE", help="PEM file of CAs to trust for APIM's TLS")
    parser.add_argument(
        "--context-ca-bundle",
        action="append",
        default=[],
        metavar="NAMESPACE/NAME=FILE",
        help="CAs to trust for one ManagementContext's APIM instead of --ca-bundle",
    )
    parser.add_argument(
        "--insecure-skip-tls-verify",
        action="store_true",
        help="do not verify APIM's TLS certificate (logs a warning; a manifest cannot turn this on)",
    )
    parser.add_argument(
        "--timeout",
        default=30.0,
        type=non_negative,
        metavar="SECONDS",
        help="time limit of each APIM request attempt, in all (connect, send, wait, read the whole answer)",
    )
    parser.add_argument(
        "--max-response-size",
        default=DEFAULT_MAX_RESPONSE_SIZE,
        type=positive_int,
        metavar="BYTES",
        help="refuse an APIM answer larger than this",
    )
    parser.add_argument(
        ALLOW_FLAG,
        dest="allowed_apim_urls",
        action="append",
        default=[],
        metavar="URL",
        help="let credentials from outside the repository (mounted secrets, APIM_SECRET_*) go to this "
        "APIM base URL, for every context (a secret's own baseUrl/allowedUrls key binds just that secret)",
    )
    parser.add_argument(
        "--public-var",
        action="append",
        default=[],
        metavar="APIM_VAR_NAME",
        help="an [[ env ]] template variable whose value is not secret: shown in diffs instead of "
        "(sensitive)",
    )


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """Options of a git SOURCE (docs/source.md); credentials are named by file or variable, never given."""
    git = parser.add_argument_group("git source (when SOURCE is a repository URL)")
    git.add_argument(
        "--ref", metavar="REF", help="branch, tag or commit (default: the remote's default branch)"
    )
    git.add_argument("--path", metavar="DIR", help="sub-folder of the repository (or of the folder) to read")
    git.add_argument(
        "--cache-dir", default=str(default_cache_dir()), metavar="DIR", help="where clones are kept"
    )
    git.add_argument(
        "--git-timeout",
        default=120.0,
        type=non_negative,
        metavar="SECONDS",
        help="time limit of each git command",
    )
    git.add_argument(
        "--git-username", metavar="NAME", help="https user name (default with a token: x-access-token)"
    )
    git.add_argument("--git-token-file", metavar="FILE", help="file holding an https token")
    git.add_argument("--git-token-env", metavar="VAR", help="name of the variable holding an https token")
    git.add_argument("--git-password-file", metavar="FILE", help="file holding an https password")
    git.add_argument(
        "--git-password-env", metavar="VAR", help="name of the variable holding an https password"
    )
    git.add_argument("--ssh-key", metavar="FILE", help="ssh private key")
    git.add_argument("--ssh-passphrase-file", metavar="FILE", help="file holding the ssh key's passphrase")
    git.add_argument(
        "--ssh-known-hosts", metavar="FILE", help="known_hosts to check the server's key against"
    )
    git.add_argument("--ssh-config", metavar="FILE", help="ssh config file (host aliases, ports, jump hosts)")
    git.add_argument(
        "--no-ssh-strict-host-key-checking",
        dest="ssh_strict_host_key_checking",
        action="store_false",
        help="accept any ssh host key (labs only; logs a warning)",
    )
    signed = parser.add_argument_group("signed commits (git sources only)")
    signed.add_argument(
        "--verify-commits",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="refuse a commit (or annotated tag) not signed by a key of --allowed-signers or "
        "--gpg-keyring: nothing is applied or pruned from it",
    )
    signed.add_argument(
        "--allowed-signers",
        metavar="FILE",
        help="SSH allowed-signers file (git's gpg.ssh.allowedSignersFile: lines PRINCIPAL PUBLIC-KEY)",
    )
    signed.add_argument(
        "--gpg-keyring",
        metavar="FILE",
        help="OpenPGP public keys (gpg --export [--armor]) whose signatures are accepted",
    )


def add_plan_options(parser: argparse.ArgumentParser, *, source_optional: bool = False) -> None:
    """Options of diff, sync and run; run may take SOURCE from RECONCILER_SOURCE (a container's config)."""
    help_text = "folder of manifests, or a git repository URL (https, ssh, git, file)"
    parser.add_argument("source", metavar="SOURCE", nargs="?" if source_optional else None, help=help_text)
    add_load_options(parser)
    add_apim_options(parser)
    add_source_options(parser)
    scope = parser.add_argument_group("scope (narrows what is planned, and what may be pruned)")
    scope.add_argument(
        "--context", action="append", default=[], metavar="NAME", help="only this ManagementContext"
    )
    scope.add_argument(
        "--kind", action="append", default=[], choices=RECONCILED_KINDS[1:], help="only this kind"
    )
    scope.add_argument(
        "--name", action="append", default=[], metavar="GLOB", help="only resources whose name matches"
    )
    scope.add_argument(
        "--shards",
        default=1,
        type=positive_int,
        metavar="M",
        help="split the contexts between M replicas by a stable hash",
    )
    scope.add_argument(
        "--shard-index",
        default="0",
        metavar="I",
        help="this replica's share, 0..M-1, or auto: the ordinal of a StatefulSet pod's hostname",
    )
    scope.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="only resources with this label (turns pruning off)",
    )
    plan = parser.add_argument_group("planning")
    plan.add_argument(
        "--owner",
        default=DEFAULT_OWNER,
        type=owner_id,
        metavar="ID",
        help="owner id written in ownership records; other owners' resources are never touched",
    )
    boolean = argparse.BooleanOptionalAction
    plan.add_argument(
        "--prune", action=boolean, default=True, help="delete owned resources that left the repository"
    )
    plan.add_argument(
        "--mode",
        dest="write_mode",
        default="reconcile",
        choices=("reconcile", "apply"),
        help="reconcile: create, update and delete (prune) as the repository says; apply: create and "
        "update only, never delete anything, not even a moved resource's old copy (decK's gateway apply)",
    )
    plan.add_argument(
        "--force-prune",
        action=boolean,
        default=False,
        help="let a prune past the guards (threshold, all, empty repository)",
    )
    plan.add_argument(
        "--prune-threshold",
        default=0.25,
        type=fraction,
        metavar="FRACTION",
        help="refuse to delete more than this share of a context's owned resources (e.g. 0.25 or 25%%)",
    )
    plan.add_argument(
        "--revert-drift",
        action=boolean,
        default=True,
        help="revert changes made in APIM behind our back (--no-revert-drift only reports them)",
    )
    plan.add_argument(
        "--adopt",
        action=boolean,
        default=False,
        help="take over existing resources whose HRID matches a manifest, instead of reporting a conflict",
    )
    plan.add_argument(
        "--allow-rollback",
        action=boolean,
        default=False,
        help="let a sync of a commit committed earlier than the one an object was last written from "
        "overwrite or delete it (a rollback); without it such objects are refused (blocked)",
    )
    plan.add_argument(
        "--full-read",
        action=boolean,
        default=False,
        help="read every managed resource to detect any drift (slower; the default reads only what changed)",
    )
    plan.add_argument(
        "--concurrency", default=8, type=positive_int, metavar="N", help="APIM requests in flight per context"
    )
    plan.add_argument(
        "--sync-timeout",
        default=DEFAULT_SYNC_TIMEOUT,
        type=non_negative,
        metavar="SECONDS",
        help="time limit of one sync: then nothing new starts, the report says what was done, and it "
        "fails (0: none)",
    )
    plan.add_argument(
        "--per-page", default=100, type=positive_int, metavar="N", help="page size of APIM listings"
    )
    add_output_option(parser, ("text", "json", "markdown", "html"), OUTPUT_HELP)
    parser.add_argument(
        "--html-report",
        metavar="FILE",
        help="also write the report as one HTML page to FILE, whatever --output prints (a CI artifact)",
    )
    parser.add_argument("--verbose", action=boolean, default=False, help="also list unchanged resources")


# ----------------------------------------------------------------------------- builders


def load_options(args: argparse.Namespace) -> LoadOptions:
    from reconciler.manifests.loader import LoadOptions

    return LoadOptions(default_namespace=args.default_namespace, max_file_size=args.max_file_size)


def env_policy(args: argparse.Namespace) -> EnvTemplatePolicy:
    """Which env template variables are public, and which are refused (the git credential's)."""
    from reconciler.manifests.templates import ENV_PREFIX as ENV_TEMPLATE_PREFIX
    from reconciler.secrets.store import EnvTemplatePolicy

    public = getattr(args, "public_var", None) or []
    for name in public:
        if not name.startswith(ENV_TEMPLATE_PREFIX) or name == ENV_TEMPLATE_PREFIX:
            raise UsageError(f"--public-var {name}: env templates read only {ENV_TEMPLATE_PREFIX}* variables")
    refused = {getattr(args, "git_token_env", None), getattr(args, "git_password_env", None)}
    return EnvTemplatePolicy(frozenset(public), frozenset(name for name in refused if name))


def secret_store(args: argparse.Namespace) -> SecretStore:
    from reconciler.secrets.store import SecretStore

    return SecretStore(
        Path(args.secrets_dir),
        Path(args.config_dir) if args.config_dir else None,
        env_policy=env_policy(args),
    )


def client_config(args: argparse.Namespace) -> ClientConfig:
    from reconciler.apim.config import ClientConfig, Timeouts, TlsOptions
    from reconciler.apim.endpoints import EndpointError
    from reconciler.contexts.binding import check_allowed_urls

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
    return ClientConfig(
        timeouts=Timeouts(read=args.timeout, write=args.timeout, attempt=args.timeout),
        tls=tls,
        tls_overrides=overrides,
        max_response_size=args.max_response_size,
        allowed_urls=allowed,
    )


def git_auth(args: argparse.Namespace) -> GitAuth:
    from reconciler.source.gitauth import GitAuth

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


def commit_verifier(args: argparse.Namespace) -> CommitVerifier | None:
    """``--verify-commits`` with its keys; a key file without the flag is a usage error (a typo)."""
    from reconciler.source.verify import CommitVerifier, TrustedKeys

    signers, keyring = args.allowed_signers, args.gpg_keyring
    if not args.verify_commits:
        if signers or keyring:
            raise UsageError("--allowed-signers and --gpg-keyring take effect only with --verify-commits")
        return None
    try:
        keys = TrustedKeys(Path(signers) if signers else None, Path(keyring) if keyring else None)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return CommitVerifier(keys, timeout=args.git_timeout or 60.0)


def sync_settings(args: argparse.Namespace) -> SyncSettings:
    from reconciler.apply.scope import Scope, parse_labels, parse_shard_index
    from reconciler.plan.model import PlanOptions
    from reconciler.sync.settings import SyncSettings

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
    import socket  # here: the flags need no socket module

    try:
        shard_index = parse_shard_index(args.shard_index, socket.gethostname())
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not 0 <= shard_index < args.shards:
        raise UsageError(f"--shard-index must be between 0 and {args.shards - 1}")
    scope = Scope(
        frozenset(args.context),
        frozenset(args.kind),
        tuple(args.name),
        labels or None,
        args.shards,
        shard_index,
    )
    never_delete = args.write_mode == "apply"
    if never_delete and args.force_prune:
        raise UsageError("--force-prune has nothing to force with --mode apply, which never deletes")
    return SyncSettings(
        never_delete=never_delete,
        plan=plan,
        scope=scope,
        concurrency=args.concurrency,
        per_page=args.per_page,
        secrets_dir=Path(args.secrets_dir),
        config_dir=Path(args.config_dir) if args.config_dir else None,
        env_policy=env_policy(args),
        client=client_config(args),
        sync_timeout=args.sync_timeout if args.sync_timeout > 0 else None,
    )


def sync_job(args: argparse.Namespace, source_spec: str) -> SyncJob:
    """The source (a folder or a git repository), settings and load options of a diff, sync or run."""
    from reconciler.source.factory import open_source
    from reconciler.source.folder import FolderSource
    from reconciler.sync.job import SyncJob

    settings = sync_settings(args)
    try:
        source = open_source(
            source_spec,
            ref=args.ref,
            path=args.path,
            cache_dir=Path(args.cache_dir),
            auth=git_auth(args),
            timeout=args.git_timeout,
            verifier=commit_verifier(args),
        )
    except ValueError as exc:  # a malformed ref or sub-path, or --verify-commits of a folder
        raise UsageError(str(exc)) from None
    # A folder is loaded as the user typed it, so that messages show their paths, not absolute ones.
    display = None
    if isinstance(source, FolderSource):
        display = os.path.join(source_spec, args.path) if args.path else source_spec
    return SyncJob(source, settings, load_options(args), folder_display=display, sub_path=args.path)
