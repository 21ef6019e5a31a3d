"""`apim-reconciler service-account create|check|rotate`: flags, output and exit codes.

The shared flags (secrets and config directories, TLS, timeout, logging, manifest loading) come from
`reconciler/cli.py` through `CliHooks`, so that these commands read secrets and talk to APIM exactly as
`sync` does. Token values are printed only with `--show-token` (and, base64-encoded, inside the manifest
that `--output secret-manifest` exists to print); logs never carry them: every value is registered with
the redactor as soon as it is known.

Test hook: `rotate --fail-after created|written|verified` (hidden from `--help`) ends the process with
`os._exit(FAIL_AFTER_EXIT)` right after that step, with no cleanup at all, as a SIGKILL would: the tests
use it to prove the context keeps a working token whenever a rotation dies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.apim.config import ClientConfig
from reconciler.apim.endpoints import EndpointError
from reconciler.apim.errors import ApimError
from reconciler.contexts import BASE_URL_KEY
from reconciler.contexts.check import check_context
from reconciler.exitcodes import ExitCode
from reconciler.identity.contexts import admin_credentials, load_context
from reconciler.identity.create import CreateRequest, CreateResult, create_service_account
from reconciler.identity.manifest import secret_manifest
from reconciler.identity.model import (
    DEFAULT_ENV_ROLE,
    DEFAULT_ORG_ROLE,
    ENV_ROLES_THAT_WRITE,
    REQUIRED_ORG_ROLES,
    IdentityError,
    IdentityStatus,
    RotationStep,
)
from reconciler.identity.rotation import rotate_token
from reconciler.identity.status import DEFAULT_WARN_DAYS, check_identity
from reconciler.manifests import LoadOptions
from reconciler.secrets.errors import SecretResolutionError
from reconciler.secrets.stdio import write_revealed
from reconciler.secrets.store import SecretStore, SourceKind, env_var_name
from reconciler.textsafe import printable

FAIL_AFTER_EXIT = 137  # what a shell reports for a SIGKILLed process


@dataclass(frozen=True)
class CliHooks:
    """What the main command line shares with these commands."""

    add_options: Sequence[Callable[[argparse.ArgumentParser], None]]
    secret_store: Callable[[argparse.Namespace], SecretStore]
    client_config: Callable[[argparse.Namespace], ClientConfig]
    load_options: Callable[[argparse.Namespace], LoadOptions]


def add_parser(commands: Any, hooks: CliHooks) -> None:
    """Add `service-account` and its three actions to the main parser's subcommands."""
    parser = commands.add_parser(
        "service-account",
        help="create, check and rotate apim-reconciler's own APIM identity",
        description="Gravitee's guide for GKO, automated: a service-account user with ADMIN on the "
        "organization and API_PUBLISHER on the environment, and a token in the context's secret.",
    )
    actions = parser.add_subparsers(dest="sa_action", metavar="ACTION", parser_class=type(parser))
    parser.set_defaults(handler=lambda _args: _usage(parser))

    create = actions.add_parser(
        "create",
        help="create the service account (idempotent), set its roles, put a token in the context's secret",
        description="With an administrator's credentials (APIM_ADMIN_TOKEN, or APIM_ADMIN_USERNAME and "
        "APIM_ADMIN_PASSWORD, or --admin-secret), find or create the service account NAME, give it its "
        "roles, create a token and write it to SECRETS_DIR/[NAMESPACE/]SECRET/bearerToken (mode 0600, "
        "atomically) for the secret that the context's auth.secretRef names; then check the context.",
    )
    _common(create, hooks)
    create.add_argument("--name", required=True, help="the service account's name (its lastname in APIM)")
    create.add_argument("--email", help="an email for the service account (optional)")
    create.add_argument(
        "--org-role", default=DEFAULT_ORG_ROLE, help="role on the organization (default: %(default)s)"
    )
    create.add_argument(
        "--env-role", default=DEFAULT_ENV_ROLE, help="role on the environment (default: %(default)s)"
    )
    create.add_argument("--token-name", help="name of the new token (default: apim-reconciler-<UTC time>)")
    create.add_argument(
        "--admin-secret", metavar="[NAMESPACE/]NAME", help="secret holding the administrator's credentials"
    )
    create.add_argument(
        "--output",
        choices=("files", "secret-manifest"),
        default="files",
        help="files: write the secret under --secrets-dir; secret-manifest: print a Kubernetes Secret "
        "on stdout instead (default: %(default)s)",
    )
    create.add_argument("--show-token", action="store_true", help="also print the token (shown once by APIM)")
    create.set_defaults(handler=lambda args: _run(cmd_create, args, hooks))

    check = actions.add_parser(
        "check",
        help="who the context's credentials are, their roles, and their token's expiry",
        description="Exit 1 when apim-reconciler cannot work with the context's credentials (refused, "
        "missing roles); 0 otherwise, with warnings for a personal user or a token expiring soon.",
    )
    _common(check, hooks)
    check.add_argument(
        "--warn-days",
        type=float,
        default=DEFAULT_WARN_DAYS,
        help="warn when the token expires within this many days (default: %(default)s)",
    )
    check.add_argument("--output", choices=("text", "json"), default="text", help="report format")
    check.set_defaults(handler=lambda args: _run(cmd_check, args, hooks))

    rotate = actions.add_parser(
        "rotate",
        help="replace the context's token with a new one, without downtime",
        description="Create a new token, write it atomically where the old one is, prove the context "
        "works with it, and only then revoke the old one.",
    )
    _common(rotate, hooks)
    rotate.add_argument("--show-token", action="store_true", help="also print the new token")
    rotate.add_argument("--fail-after", choices=[s.value for s in RotationStep][:-1], help=argparse.SUPPRESS)
    rotate.set_defaults(handler=lambda args: _run(cmd_rotate, args, hooks))


def _common(parser: argparse.ArgumentParser, hooks: CliHooks) -> None:
    parser.add_argument(
        "--context",
        required=True,
        metavar="FILE_OR_NAME",
        help="a manifest file with the ManagementContext, or its name ([NAMESPACE/]NAME) under --source",
    )
    parser.add_argument(
        "--source", default=".", metavar="PATH", help="where to look a context NAME up (default: .)"
    )
    for add in hooks.add_options:
        add(parser)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return ExitCode.USAGE


def _run(
    command: Callable[[argparse.Namespace, CliHooks], int], args: argparse.Namespace, hooks: CliHooks
) -> int:
    try:
        return command(args, hooks)
    except (IdentityError, ApimError, SecretResolutionError, EndpointError) as exc:
        print(
            f"apim-reconciler service-account {args.sa_action}: error: {printable(str(exc))}", file=sys.stderr
        )
        return ExitCode.FAILED


# ----------------------------------------------------------------------------- create


def cmd_create(args: argparse.Namespace, hooks: CliHooks) -> int:
    store = hooks.secret_store(args)
    config = hooks.client_config(args)
    context = load_context(args.context, Path(args.source), hooks.load_options(args))
    admin = admin_credentials(context, store, args.admin_secret)
    request = CreateRequest(
        name=args.name,
        org_role=args.org_role,
        env_role=args.env_role,
        email=args.email,
        token_name=args.token_name,
        write_files=args.output == "files",
    )
    result = asyncio.run(
        create_service_account(context, store, config, admin, request, Path(args.secrets_dir))
    )
    manifest_mode = args.output == "secret-manifest"
    report = sys.stderr if manifest_mode else sys.stdout
    if manifest_mode:
        assert (
            result.token is not None and result.token_id is not None
        )  # manifest mode always creates a token (type narrowing)  # nosec B101
        # The manifest exists to carry the token: past the scrubber, on purpose.
        write_revealed(
            sys.stdout,
            secret_manifest(result.secret, result.token, result.token_id, result.user_id, result.bound_to),
        )
        ns, name = result.secret.namespace, result.secret.name
        var = env_var_name(SourceKind.SECRET, ns, name, "bearerToken")
        bound = env_var_name(SourceKind.SECRET, ns, name, BASE_URL_KEY)
        # Prove the manifest works: the same check as check-context, with the secret given as its variable.
        environ = {**os.environ, var: result.token.reveal(), bound: result.bound_to}
        store = SecretStore(None, None, environ=environ, env_policy=store.env_policy)
    verdict = asyncio.run(check_context(context, store, config))
    report.write(_render_create(result, args, request))
    report.write(f"  context:      {context.namespace}/{context.name}: ")
    report.write(("ok, " if verdict.ok else "FAILED, ") + printable(verdict.message) + "\n")
    if args.show_token and result.token is not None:
        write_revealed(report, f"  token value:  {result.token.reveal()}\n")
    return ExitCode.OK if verdict.ok else ExitCode.FAILED


def _render_create(result: CreateResult, args: argparse.Namespace, request: CreateRequest) -> str:
    lines = [
        f"service account {result.who} (id {result.user_id}): {'created' if result.user_created else 'found'}",
        f"  roles:        {request.org_role} on organization {result.organization_id}, "
        f"{request.env_role} on environment {result.environment_id}",
    ]
    if result.token is None:
        lines.append(
            f"  token:        kept: {result.written_to}/bearerToken already works for this user "
            "(replace it with `service-account rotate`)"
        )
    elif result.written_to is not None:
        lines.append(
            f"  token:        {result.token_name} (id {result.token_id}) written to "
            f"{result.written_to}/bearerToken (mode 0600)"
        )
    else:
        lines.append(
            f"  token:        {result.token_name} (id {result.token_id}) in the Secret "
            f"{result.secret} printed on stdout"
        )
    return "\n".join(map(printable, lines)) + "\n"


# ----------------------------------------------------------------------------- check


def cmd_check(args: argparse.Namespace, hooks: CliHooks) -> int:
    store = hooks.secret_store(args)
    config = hooks.client_config(args)
    context = load_context(args.context, Path(args.source), hooks.load_options(args))
    status = asyncio.run(check_identity(context, store, config, warn_days=args.warn_days))
    if args.output == "json":
        sys.stdout.write(json.dumps(status_json(status), indent=2) + "\n")
    else:
        sys.stdout.write(render_status(status))
    return ExitCode.OK if status.ok else ExitCode.FAILED


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_json(status: IdentityStatus) -> dict[str, Any]:
    """The JSON of `check --output json` (and what the daemon may serve): no secret in it."""
    token = status.token
    return {
        "context": status.context,
        "ok": status.ok,
        "userId": status.user_id,
        "who": status.who,
        "serviceAccount": status.service_account,
        "auth": status.auth,
        "organizationId": status.organization_id,
        "environmentId": status.environment_id,
        "organizationRoles": list(status.org_roles),
        "environmentRoles": None if status.env_roles is None else list(status.env_roles),
        "missingRoles": list(status.missing_roles),
        "revoked": status.revoked,
        "token": None
        if token is None
        else {
            "source": token.source,
            "id": token.id,
            "name": token.name,
            "expiresAt": _iso(token.expires_at),
            "lastUsedAt": _iso(token.last_used_at),
            "identifiedBy": token.identified_by,
        },
        "warnings": list(status.warnings),
        "error": status.error,
    }


def render_status(status: IdentityStatus) -> str:
    lines = [f"ManagementContext {status.context}: {'ok' if status.ok else 'FAILED'}"]
    if status.who is not None:
        kind = "service account" if status.service_account else "personal user"
        lines.append(f"  who:          {status.who} ({kind}, id {status.user_id})")
    if status.auth:
        lines.append(f"  auth:         {status.auth}")
    if status.user_id is not None:
        lines.append(
            f"  organization: {status.organization_id}: {', '.join(status.org_roles) or 'no role'}"
            f" (needs {' and '.join(REQUIRED_ORG_ROLES)})"
        )
        env_roles = "unknown" if status.env_roles is None else (", ".join(status.env_roles) or "no role")
        lines.append(
            f"  environment:  {status.environment_id}: {env_roles} (needs {' or '.join(ENV_ROLES_THAT_WRITE)})"
        )
    token = status.token
    if token is not None:
        name = f"{token.name} (id {token.id})" if token.id else token.source
        expiry = f"expires {_iso(token.expires_at)}" if token.expires_at else "never expires"
        used = f"; last used {_iso(token.last_used_at)}" if token.last_used_at else ""
        lines.append(f"  token:        {name}: {expiry}{used}")
    lines.extend(f"  warning:      {w}" for w in status.warnings)
    if status.error:
        lines.append(f"  error:        {status.error}")
    return "\n".join(map(printable, lines)) + "\n"  # names and messages are APIM's


# ----------------------------------------------------------------------------- rotate


def cmd_rotate(args: argparse.Namespace, hooks: CliHooks) -> int:
    store = hooks.secret_store(args)
    config = hooks.client_config(args)
    context = load_context(args.context, Path(args.source), hooks.load_options(args))

    def on_step(step: RotationStep) -> None:
        print(f"rotate: {step}", file=sys.stderr, flush=True)
        if args.fail_after == step.value:
            sys.stdout.flush()
            os._exit(FAIL_AFTER_EXIT)  # no cleanup, no finally: as if killed

    result = asyncio.run(rotate_token(context, store, config, on_step=on_step))
    print(
        f"token of {context.namespace}/{context.name} rotated: {result.new_token_name} "
        f"(id {result.new_token_id}) written to {result.secret_file}"
    )
    if result.old_revoked:
        print(f"  old token {result.old_token_id} revoked")
    else:
        print("  warning: the old token could not be identified or was already gone: check the user's tokens")
    if args.show_token:
        write_revealed(sys.stdout, f"  token value:  {result.new_token.reveal()}\n")
    return ExitCode.OK
