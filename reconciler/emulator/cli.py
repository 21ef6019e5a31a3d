"""Command line of the emulator: ``python -m reconciler.emulator`` or ``apim-reconciler emulator``."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from typing import TYPE_CHECKING

from .defaults import NEWEST, REPOSITORIES

if TYPE_CHECKING:  # imported when a flag's value is parsed, or the emulator runs
    from .config import EmulatorConfig
    from .faults import Fault


def _apim_version(text: str) -> str:
    from .versions import ApimVersion

    try:
        return str(ApimVersion.parse(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fault(text: str) -> Fault:
    from .faults import Fault  # here, as the others: `apim-reconciler --help` builds these flags

    try:
        return Fault.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's options to ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8083, help="port to listen on; 0 picks a free port (default: %(default)s)"
    )
    parser.add_argument(
        "--users",
        metavar="FILE",
        help="JSON file of organizations, environments, users and personal access tokens "
        "(default: organization DEFAULT, environment DEFAULT, user admin/admin, token emulator-token)",
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        dest="state_file",
        help="persist the store in FILE: loaded at start if present, rewritten atomically after each write",
    )
    parser.add_argument(
        "--latency-ms",
        metavar="MS",
        type=_non_negative,
        default=0.0,
        help="delay added to every API request, in ms (default: 0)",
    )
    parser.add_argument(
        "--jitter-ms",
        metavar="MS",
        type=_non_negative,
        default=0.0,
        help="extra random delay, uniform between 0 and this many ms, per request (default: 0)",
    )
    parser.add_argument(
        "--max-inflight",
        metavar="N",
        type=_positive_int,
        default=None,
        help="serve at most N API requests at once; further requests wait in a queue (default: no cap)",
    )
    parser.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        metavar="'METHOD PATH-GLOB=ACTION[:RATE|COUNT]'",
        help="inject a fault, repeatable. ACTION is an HTTP status (500, 503, 429 with Retry-After...), "
        "'reset' (TCP reset), 'hang' (never answer), 'empty' (200 {}) or 'nocontent' (204), neither "
        "of which stores anything; RATE (0<x<1) fails that share of matching requests, "
        "COUNT (integer >= 1) the first N; e.g. --fault 'PUT */apis=503:0.1' --fault 'GET *=reset:2'",
    )
    parser.add_argument(
        "--seed", metavar="N", type=int, default=None, help="random seed for rate-based faults and jitter"
    )
    parser.add_argument(
        "--token-ttl",
        metavar="SECONDS",
        type=float,
        default=None,
        help="TEST KNOB, not real APIM behaviour (real personal access tokens never expire): tokens "
        "created through mAPI v1 expire after SECONDS (default: never)",
    )
    parser.add_argument(
        "--apim-version",
        metavar="X.Y.Z",
        type=_apim_version,
        default=NEWEST,
        help="the APIM release to play, 4.8.0 to 4.13.x; changes which endpoints and parameters exist "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--repository",
        choices=REPOSITORIES,
        default="jdbc",
        help="the management repository played: jdbc limits metadata values to 1024 characters and keys "
        "to 64 (nvarchar), mongodb has no limit (default: %(default)s)",
    )
    parser.add_argument(
        "--search-nodes",
        metavar="N",
        type=_positive_int,
        default=1,
        help="number of mAPI nodes, each with its own search index; _search requests go round-robin "
        "(default: 1)",
    )
    parser.add_argument(
        "--search-index-delay-ms",
        metavar="MS",
        type=_non_negative,
        default=0.0,
        help="how long a write takes to reach the search index of the node that served it (default: 0)",
    )
    parser.add_argument(
        "--search-sync-ms",
        metavar="MS",
        type=_non_negative,
        default=0.0,
        help="poll period after which other nodes index a write, and every node applies a delete; "
        "real APIM polls every 5000 (default: 0, at once)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        type=str.lower,
        choices=["debug", "info", "warning", "error"],
        help="least severe log line written (any case); debug logs one line per request, never "
        "credentials (default: %(default)s)",
    )


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    from .config import EmulatorConfig

    return EmulatorConfig(
        host=args.host,
        port=args.port,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        max_inflight=args.max_inflight,
        faults=tuple(args.fault),
        users=args.users,
        state_file=args.state_file,
        seed=args.seed,
        token_ttl_seconds=args.token_ttl,
        apim_version=args.apim_version,
        repository=args.repository,
        search_nodes=args.search_nodes,
        search_index_delay_ms=args.search_index_delay_ms,
        search_sync_ms=args.search_sync_ms,
    )


def run(args: argparse.Namespace) -> int:
    """Serve in the foreground until SIGINT/SIGTERM; returns the process exit code."""
    import asyncio  # here: `apim-reconciler --help` shows these flags without loading the server
    import logging

    from .server import serve

    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()), format="%(asctime)s %(levelname)s %(message)s"
    )
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await serve(config, stop)

    try:
        asyncio.run(main())
    except OSError as exc:
        print(f"emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reconciler.emulator",
        description="Local emulator of the Gravitee APIM endpoints that apim-reconciler uses "
        "(Automation API, Management API v2, two Management API v1 endpoints).",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
