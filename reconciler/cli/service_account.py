"""`apim-reconciler service-account create|check|rotate`: flags, output and exit codes.

The shared flags (secrets and config directories, TLS, timeout, logging, manifest loading) are the
ones of `reconciler/cli/options.py`, so that these commands read secrets and talk to APIM exactly as
`sync` does; a context NAME is looked up under PATH, as `export` does.

Token values are printed only with `--show-token` (and, base64-encoded, inside the manifest
that `--output secret-manifest` exists to print); logs never carry them: every value is registered with
the redactor as soon as it is known.

Test hook: `rotate --fail-after created|written|verified` (hidden from `--help`) ends the process with
`os._exit(FAIL_AFTER_EXIT)` right after that step, with no cleanup at all, as a SIGKILL would: the tests
use it to prove the context keeps a working token whenever a rotation dies.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.cli import options
from reconciler.defaults import DEFAULT_ENV_ROLE, DEFAULT_ORG_ROLE, DEFAULT_WARN_DAYS
from reconciler.exitcodes import ExitCode
from reconciler.identity.steps import RotationStep
from reconciler.textsafe import printable

FAIL_AFTER_EXIT = 137  # what a shell reports for a SIGKILLed process


def add_parser(commands: Any) -> None:
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
    _common(create)
    create.add_argument(
        "--name", required=True, metavar="NAME", help="the service account's name (its lastname in APIM)"
    )
    create.add_argument("--email", metavar="EMAIL", help="an email for the service account (optional)")
    create.add_argument(
        "--org-role", default=DEFAULT_ORG_ROLE, metavar="ROLE", help="role on the organization"
    )
    create.add_argument(
        "--env-role", default=DEFAULT_ENV_ROLE, metavar="ROLE", help="role on the environment"
    )
    create.add_argument(
        "--token-name", metavar="NAME", help="name of the new token (default: apim-reconciler-<UTC time>)"
    )
    create.add_argument(
        "--admin-secret", metavar="[NAMESPACE/]NAME", help="secret holding the administrator's credentials"
    )
    create.add_argument(
        "--output",
        choices=("files", "secret-manifest"),
        default="files",
        help="files: write the secret under --secrets-dir; secret-manifest: print a Kubernetes Secret "
        "on stdout instead",
    )
    create.add_argument("--show-token", action="store_true", help="also print the token (shown once by APIM)")
    create.set_defaults(handler=lambda args: _run(cmd_create, args))

    check = actions.add_parser(
        "check",
        help="who the context's credentials are, their roles, and their token's expiry",
        description="Exit 1 when apim-reconciler cannot work with the context's credentials (refused, "
        "missing roles); 0 otherwise, with warnings for a personal user or a token expiring soon.",
    )
    _common(check)
    check.add_argument(
        "--warn-days",
        type=options.non_negative,
        default=DEFAULT_WARN_DAYS,
        metavar="DAYS",
        help="warn when the token expires within this many days",
    )
    options.add_output_option(check, ("text", "json"), "report format")
    check.set_defaults(handler=lambda args: _run(cmd_check, args))

    rotate = actions.add_parser(
        "rotate",
        help="replace the context's token with a new one, without downtime",
        description="Create a new token, write it atomically where the old one is, prove the context "
        "works with it, and only then revoke the old one.",
    )
    _common(rotate)
    rotate.add_argument("--show-token", action="store_true", help="also print the new token")
    rotate.add_argument("--fail-after", choices=[s.value for s in RotationStep][:-1], help=argparse.SUPPRESS)
    rotate.set_defaults(handler=lambda args: _run(cmd_rotate, args))


def _common(parser: argparse.ArgumentParser) -> None:
    options.add_context_lookup(parser)
    options.add_load_options(parser)
    options.add_apim_options(parser)
    options.add_logging_options(parser)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return ExitCode.USAGE


def _run(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    from reconciler.apim.endpoints import EndpointError  # here, as every command's (main.py)
    from reconciler.apim.errors import ApimError
    from reconciler.identity.model import IdentityError
    from reconciler.secrets.errors import SecretResolutionError

    try:
        return command(args)
    except (IdentityError, ApimError, SecretResolutionError, EndpointError) as exc:
        print(
            f"apim-reconciler service-account {args.sa_action}: error: {printable(str(exc))}", file=sys.stderr
        )
        return ExitCode.FAILED


# ----------------------------------------------------------------------------- create


def cmd_create(args: argparse.Namespace) -> int:
    import asyncio

    from reconciler.contexts import BASE_URL_KEY
    from reconciler.contexts.check import check_context
    from reconciler.identity.contexts import admin_credentials, load_context
    from reconciler.identity.create import CreateRequest, create_service_account
    from reconciler.identity.manifest import secret_manifest
    from reconciler.report.identity import render_create
    from reconciler.secrets.stdio import write_revealed
    from reconciler.secrets.store import SecretStore, SourceKind, env_var_name

    store = options.secret_store(args)
    config = options.client_config(args)
    context = load_context(args.context, Path(args.path), options.load_options(args))
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
    report.write(render_create(result, request))
    report.write(f"  context:      {context.namespace}/{context.name}: ")
    report.write(("ok, " if verdict.ok else "FAILED, ") + printable(verdict.message) + "\n")
    if args.show_token and result.token is not None:
        write_revealed(report, f"  token value:  {result.token.reveal()}\n")
    return ExitCode.OK if verdict.ok else ExitCode.FAILED


# ----------------------------------------------------------------------------- check


def cmd_check(args: argparse.Namespace) -> int:
    import asyncio

    from reconciler.identity.contexts import load_context
    from reconciler.identity.status import check_identity
    from reconciler.report.identity import render_status, status_json

    store = options.secret_store(args)
    config = options.client_config(args)
    context = load_context(args.context, Path(args.path), options.load_options(args))
    status = asyncio.run(check_identity(context, store, config, warn_days=args.warn_days))
    if args.output == "json":
        sys.stdout.write(json.dumps(status_json(status), indent=2) + "\n")
    else:
        sys.stdout.write(render_status(status))
    return ExitCode.OK if status.ok else ExitCode.FAILED


# ----------------------------------------------------------------------------- rotate


def cmd_rotate(args: argparse.Namespace) -> int:
    import asyncio

    from reconciler.identity.contexts import load_context
    from reconciler.identity.rotation import rotate_token
    from reconciler.secrets.stdio import write_revealed

    store = options.secret_store(args)
    config = options.client_config(args)
    context = load_context(args.context, Path(args.path), options.load_options(args))

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
