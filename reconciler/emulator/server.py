"""HTTP plumbing of the emulator: a small HTTP/1.1 server on asyncio streams.

Why asyncio and a hand-written HTTP/1.1 loop rather than a framework: the emulator ships in the
container image, so it must add no dependency (only the standard library is used); asyncio makes the
knobs natural (latency is an ``await asyncio.sleep``, ``--max-inflight`` an ``asyncio.Semaphore``, a hang
an await that costs nothing); and a single-threaded loop keeps the store single-writer. The parser only
needs what API clients send (request line, headers, ``Content-Length`` or chunked bodies, keep-alive,
``Expect: 100-continue``). Measured (``python -m bench.emulator_throughput``) well above the required
2,000 small GETs/s over 64 keep-alive connections with 10,000 APIs on a 2-core machine.

Per request: ``/_emulator/*`` control endpoints are answered at once (no auth, no faults, not counted);
``GET /_node`` (the node's internal API, see :mod:`.node`) likewise; anything else is counted in the
stats under ``METHOD path-template``, waits for an in-flight slot, sleeps the configured latency, may be
faulted, gets its organization and environment resolved (400 ``Invalid organization or environment``,
before authentication, as ``GraviteeContextFilter`` runs before the authentication filters), is
authenticated (401 empty body), is refused when the user is not of that organization (403, as
``GraviteeContextAuthorizationFilter``), is served by one of the search nodes (round-robin, see
:mod:`.search`), and finally reaches its handler under the store lock; the handler checks its own
permission (see :mod:`.context`). Organization-scoped mAPI v1 routes (users, tokens, roles) resolve the
organization alone.

Why one long module: the HTTP/1.1 loop, the per-request pipeline above and the control endpoints
share one connection state and one store lock; split, each part would reach into the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import re
import socket
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from . import (
    automation,
    dictionaries,
    groups,
    mapi_v1,
    mapi_v1_export,
    mapi_v1_roles,
    mapi_v1_users,
    mapi_v2,
    node,
    portal_docs,
    portals,
    shared_policy_groups,
    subscriptions,
)
from .auth import Directory
from .config import EmulatorConfig
from .context import Call, Context, Route
from .faults import Fault, FaultSet
from .messages import AUTOMATION, MAPI_V1, MAPI_V2, REASONS, HttpProblem, Request, Response, error_body
from .search import SearchCluster
from .store import ApiRecord, Store
from .versions import ApimVersion

log = logging.getLogger("reconciler.emulator")

MAX_BODY = 32 * 1024 * 1024
HANG_MAX_SECONDS = 3600.0
ROUTES: list[Route] = [
    *automation.ROUTES,
    *portals.ROUTES,
    *portal_docs.ROUTES,
    *mapi_v2.ROUTES,
    *mapi_v1.ROUTES,
    *mapi_v1_export.ROUTES,
    *mapi_v1_users.ROUTES,
    *mapi_v1_roles.ROUTES,
    *groups.ROUTES,
    *dictionaries.ROUTES,
    *shared_policy_groups.ROUTES,
    *subscriptions.ROUTES,
]
_WWW_AUTHENTICATE = {"WWW-Authenticate": 'Basic realm="Gravitee.io Management API"'}


def _family_of(path: str) -> str:
    if path.startswith("/automation"):
        return AUTOMATION
    if path.startswith("/management/v2"):
        return MAPI_V2
    return MAPI_V1


def _filter_error(status: int, message: str) -> Response:
    """``ErrorHelper.sendError``: the security filters' own ``{httpStatus, message}`` body."""
    return Response.json(status, {"httpStatus": status, "message": message})


#: Answered with every delayed response: the delay applied (``latency_ms`` plus the jitter drawn), in ms.
DELAY_HEADER = "X-Emulator-Delay-Ms"


class _Reset(Exception):
    """Abort the connection with a TCP RST."""


class Stats:
    """Request counters keyed by ``METHOD path-template``; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._total = 0

    def count(self, key: str) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            self._total += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": dict(sorted(self._counts.items())), "total": self._total}

    def reset(self) -> None:
        with self._lock:
            self._counts = {}
            self._total = 0


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    pattern: re.Pattern[str]
    key: str


class Router:
    """Matches a path against the route templates; ``{name}`` matches one path segment."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes: list[_CompiledRoute] = []
        for route in routes:
            regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route.template))
            self._routes.append(
                _CompiledRoute(route, re.compile(regex + "$"), f"{route.method} {route.template}")
            )

    def match(self, method: str, path: str) -> tuple[_CompiledRoute | None, dict[str, str], bool]:
        """(route, params, path_known): ``path_known`` tells 405 from 404 when no route matches."""
        path_known = False
        for compiled in self._routes:
            m = compiled.pattern.match(path)
            if m is None:
                continue
            if compiled.route.method == method:
                return compiled, {k: unquote(v) for k, v in m.groupdict().items()}, True
            path_known = True
        return None, {}, path_known


class EmulatorServer:
    """The asyncio server; create and use it on one event loop."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.version = ApimVersion.parse(config.apim_version)
        directory = Directory.load(config.users, token_ttl_seconds=config.token_ttl_seconds)
        self._node = 0
        self.search = SearchCluster(
            config.search_nodes,
            config.search_index_delay_ms,
            config.search_sync_ms,
            lookup=self._index_lookup,
        )
        self.store = Store(
            None, on_change=self._api_changed, case_sensitive_names=config.repository == "mongodb"
        )
        self.context = Context(self.store, directory, self.version, config, self.search)
        self.store.state_file = Path(config.state_file) if config.state_file else None
        self.store.identity_state = directory.identity_state
        if self.store.state_file and self.store.state_file.exists():
            state = json.loads(self.store.state_file.read_text(encoding="utf-8"))
            self.store.load(state)
            directory.load_identity(state.get("identity", {}))
        self._reindex()
        self.faults = FaultSet(config.faults, seed=config.seed)
        self.stats = Stats()
        self.router = Router(r for r in ROUTES if r.available is None or r.available(self.version))
        self._rng = random.Random(config.seed)  # latency jitter, seedable on purpose  # nosec B311
        self._server: asyncio.base_events.Server | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.port = 0

    # -- search index feeding -------------------------------------------------------------------
    def _api_changed(self, key: tuple[str, str], api_id: str, record: ApiRecord | None) -> None:
        if record is None:
            self.search.delete(self._node, key, api_id)
        else:
            self.search.index(self._node, key, mapi_v2.index_doc(record, self.context))

    def _index_lookup(self, key: tuple[str, str], api_id: str) -> Any:
        record = self.store.env(*key).apis.get(api_id)
        return None if record is None else mapi_v2.index_doc(record, self.context)

    def _reindex(self) -> None:
        docs = [
            (data.key, mapi_v2.index_doc(record, self.context))
            for data in self.store.environments()
            for record in data.apis.values()
        ]
        self.search.rebuild(docs)

    @property
    def base_url(self) -> str:
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        if self.config.max_inflight:
            self._semaphore = asyncio.Semaphore(self.config.max_inflight)
        self._server = await asyncio.start_server(
            self._serve_connection, self.config.host, self.config.port, limit=1024 * 1024, backlog=1024
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("APIM emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    # -- connection loop --------------------------------------------------------------------------
    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # called from a running task (type narrowing)  # nosec B101
        self._tasks.add(task)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                except asyncio.LimitOverrunError:
                    writer.write(_serialize(Response.empty(431), keep_alive=False))
                    return
                request, keep_alive = await self._read_request(head, reader, writer)
                if request is None:
                    return
                try:
                    response = await self._handle(request, reader)
                except _Reset:
                    if sock is not None:
                        with contextlib.suppress(OSError):
                            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    writer.transport.abort()
                    return
                if response is None:  # hang ended: the client went away
                    return
                writer.write(_serialize(response, keep_alive))
                if writer.transport.get_write_buffer_size() > 65536:
                    await writer.drain()
                if not keep_alive:
                    await writer.drain()
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            # CancelledError: the server is stopping; swallowing it keeps asyncio's stream callback quiet.
            return
        finally:
            self._tasks.discard(task)
            if not writer.transport.is_closing():
                writer.close()

    async def _read_request(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[Request | None, bool]:
        try:
            lines = head[:-4].decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ")
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        except ValueError:
            writer.write(_serialize(Response.empty(400), keep_alive=False))
            return None, False
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            size = 0
            while True:
                size_line = await reader.readuntil(b"\r\n")
                chunk_size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if chunk_size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass
                    break
                size += chunk_size
                if size > MAX_BODY:
                    writer.write(_serialize(Response.empty(413), keep_alive=False))
                    return None, False
                chunks.append(await reader.readexactly(chunk_size))
                await reader.readexactly(2)
            body = b"".join(chunks)
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                writer.write(_serialize(Response.empty(400), keep_alive=False))
                return None, False
            if length > MAX_BODY:
                writer.write(_serialize(Response.empty(413), keep_alive=False))
                return None, False
            if length:
                body = await reader.readexactly(length)
        raw_path, _, query_string = target.partition("?")
        host = headers.get("host") or f"{self.config.host}:{self.port}"
        request = Request(
            method=method.upper(),
            path=raw_path,
            query=parse_qs(query_string, keep_blank_values=True) if query_string else {},
            headers=headers,
            body=body,
            base_url=f"http://{host}",
            raw_target=target,
        )
        return request, keep_alive

    # -- request pipeline -------------------------------------------------------------------------
    async def _handle(self, request: Request, reader: asyncio.StreamReader) -> Response | None:
        if request.path.startswith("/_emulator/") or request.path == "/_emulator":
            return self._control(request)
        if request.path.rstrip("/") == node.PATH:
            return node.handle(request, self.config, self.version)
        compiled, params, path_known = self.router.match(request.method, request.path)
        self.stats.count(compiled.key if compiled else f"{request.method} (unmatched)")
        if self._semaphore is None:
            return await self._process(request, reader, compiled, params, path_known)
        async with self._semaphore:
            return await self._process(request, reader, compiled, params, path_known)

    async def _process(
        self,
        request: Request,
        reader: asyncio.StreamReader,
        compiled: _CompiledRoute | None,
        params: dict[str, str],
        path_known: bool,
    ) -> Response | None:
        delay = self.config.latency_ms
        if self.config.jitter_ms:
            delay += self._rng.uniform(0, self.config.jitter_ms)
        if delay > 0:
            await asyncio.sleep(delay / 1000)
        fault = self.faults.pick(request.method, request.path)
        response: Response | None
        if fault is not None:
            response = await self._apply_fault(fault, reader)
        else:
            response = self._route(request, compiled, params, path_known)
            log.debug("%s %s -> %d", request.method, request.path, response.status)
        if response is not None and delay > 0:
            # The knob's own report, so that tests check the delay applied without timing a busy machine.
            response = replace(response, headers={**response.headers, DELAY_HEADER: f"{delay:.3f}"})
        return response

    async def _apply_fault(self, fault: Fault, reader: asyncio.StreamReader) -> Response | None:
        if fault.action == "reset":
            raise _Reset
        if fault.action == "empty":
            return Response.json(200, {})
        if fault.action == "nocontent":
            return Response.empty(204)
        if fault.action == "hang":
            # Wait until the client gives up (EOF) or the server stops; never answer.
            with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
                await asyncio.wait_for(reader.read(), HANG_MAX_SECONDS)
            return None
        status = fault.status or 500
        headers = {"Retry-After": "1"} if status in (429, 503) else None
        message = f"{REASONS.get(status, 'Error')} (fault injected by the emulator)"
        return Response.json(status, error_body(status, message, "emulator.fault"), headers)

    def _route(
        self, request: Request, compiled: _CompiledRoute | None, params: dict[str, str], path_known: bool
    ) -> Response:
        family = compiled.route.family if compiled else _family_of(request.path)
        if compiled is None:
            if path_known:
                return Response.empty(405)
            return Response.json(
                404,
                error_body(404, f"Resource [{request.path}] not found", "resource.notFound", family=family),
            )
        directory = self.context.directory
        # GraviteeContextFilter runs before authentication: an unknown environment is a 400 for anyone
        if "envId" in params:
            env = directory.environment(params.get("orgId"), params["envId"])
            if env is None:
                return _filter_error(400, "Invalid organization or environment")
        else:  # an organization-scoped mAPI v1 route (users, tokens, roles)
            env = directory.organization(params.get("orgId", ""))
        authorization = request.headers.get("authorization")
        user = directory.authenticate(authorization)
        if user is None:
            bearer = (authorization or "").strip().lower().startswith("bearer ")
            return Response.empty(401, None if bearer else _WWW_AUTHENTICATE)
        org_id = env.org_id if env is not None else params.get("orgId", "")
        if not user.can_access(org_id):
            return _filter_error(403, "User is not allowed to access this organization")
        if env is None:
            return Response.json(
                404,
                error_body(
                    404,
                    f"Organization [{org_id}] cannot be found.",
                    "organization.notFound",
                    {"organization": org_id},
                    family=family,
                ),
            )
        request.params = params
        try:
            with self.store.lock:
                self._node = self.search.next_node()
                call = Call(self.context, request, user, env, family, self._node)
                return compiled.route.handler(call)
        except HttpProblem as problem:
            return problem.response(family)
        except Exception:  # a bug in the emulator must not kill the connection loop
            log.exception("handler failed for %s %s", request.method, request.path)
            return Response.json(500, error_body(500, "Internal emulator error", family=family))

    # -- /_emulator control endpoints -------------------------------------------------------------
    def _control(self, request: Request) -> Response:
        key = (request.method, request.path.rstrip("/"))
        try:
            if key == ("GET", "/_emulator/health"):
                return Response.json(200, {"status": "UP"})
            if key == ("GET", "/_emulator/stats"):
                return Response.json(200, self.stats.snapshot())
            if key == ("POST", "/_emulator/reset"):
                self.stats.reset()
                return Response.empty(204)
            if key == ("GET", "/_emulator/state"):
                return Response.json(200, self.store.dump())
            if key == ("PUT", "/_emulator/state"):
                with self.store.lock:
                    self.store.load(json.loads(request.body))
                    self._reindex()
                self.store.persist()
                return Response.empty(204)
            if key == ("GET", "/_emulator/search"):
                with self.store.lock:
                    return Response.json(200, self.search.snapshot())
            if key == ("POST", "/_emulator/search/sync"):
                with self.store.lock:
                    self.search.sync_all()
                return Response.empty(204)
            if key == ("PUT", "/_emulator/subscriptions"):
                return self._set_subscriptions(json.loads(request.body))
            if key == ("GET", "/_emulator/faults"):
                return Response.json(200, self.faults.snapshot())
            if key == ("PUT", "/_emulator/faults"):
                payload = json.loads(request.body or b"[]")
                if not isinstance(payload, list):
                    raise ValueError("faults must be a JSON list")
                self.faults.replace(Fault.from_json(item) for item in payload)
                return Response.json(200, self.faults.snapshot())
        except (ValueError, KeyError, TypeError) as exc:
            return Response.json(400, error_body(400, f"Invalid control request: {exc}"))
        return Response.json(404, error_body(404, f"Resource [{request.path}] not found"))

    def _set_subscriptions(self, payload: Any) -> Response:
        """Test knob: say how many active subscriptions a plan has (the client never subscribes)."""
        if not isinstance(payload, dict):
            raise ValueError("expected {organizationId?, environmentId?, apiId, planId, active}")
        org_id = str(payload.get("organizationId", "DEFAULT"))
        env_id = str(payload.get("environmentId", "DEFAULT"))
        with self.store.lock:
            record = self.store.env(org_id, env_id).apis.get(str(payload["apiId"]))
            if record is None:
                return Response.json(404, error_body(404, f"Api [{payload['apiId']}] cannot be found."))
            record.subscriptions[str(payload["planId"])] = int(payload.get("active", 1))
            self.store.persist()
        return Response.empty(204)


def _serialize(response: Response, keep_alive: bool) -> bytes:
    lines = [f"HTTP/1.1 {response.status} {REASONS.get(response.status, 'Unknown')}"]
    if response.status not in (204, 304) and response.status >= 200:
        lines.append(f"Content-Length: {len(response.body)}")
    for name, value in response.headers.items():
        lines.append(f"{name}: {value}")
    lines.append("Server: apim-emulator")
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body


class RunningEmulator:
    """An emulator serving on a background thread; a context manager that stops it on exit."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.server = EmulatorServer(config)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="apim-emulator", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.server.start())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            self._loop.close()
            return
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def port(self) -> int:
        return self.server.port

    def stats(self) -> dict[str, Any]:
        """Same JSON as ``GET /_emulator/stats``."""
        return self.server.stats.snapshot()

    def reset_stats(self) -> None:
        self.server.stats.reset()

    def dump_state(self) -> dict[str, Any]:
        return self.server.store.dump()

    def load_state(self, state: dict[str, Any]) -> None:
        with self.server.store.lock:
            self.server.store.load(state)
            self.server._reindex()
        self.server.store.persist()

    def sync_search(self) -> None:
        """Let every search node catch up (same as ``POST /_emulator/search/sync``)."""
        with self.server.store.lock:
            self.server.search.sync_all()

    def set_faults(self, faults: Iterable[Fault]) -> None:
        self.server.faults.replace(faults)

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop)
        with contextlib.suppress(Exception):
            future.result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_emulator(config: EmulatorConfig | None = None) -> RunningEmulator:
    """Start an emulator on a background thread; use as ``with start_emulator(cfg) as emu: ...``."""
    return RunningEmulator(config or EmulatorConfig())


async def serve(config: EmulatorConfig, stop: asyncio.Event, announce: bool = True) -> EmulatorServer:
    """Run on the current loop until ``stop`` is set (the CLI's foreground mode)."""
    server = EmulatorServer(config)
    await server.start()
    if announce:
        print(f"APIM emulator listening on {server.base_url}", flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()
    return server
