"""The async HTTP client of one ManagementContext: the only place where credentials are revealed.

One `ApimClient` per context keeps one `httpx.AsyncClient` (connection pool, keep-alive) for the
whole run. Each request:

1. waits while the server is paused (a 429 seen by any request to it), or fails fast when the
   server's retry budget for this sync is spent and its last outcome was a failure;
2. is sent with the `Authorization` header of the *current* credentials (the provider is called per
   request, so a rotated secret file is picked up without restart);
3. on a connect error, timeout, reset, 429, 502, 503 or 504, is retried with exponential backoff and
   full jitter (honouring `Retry-After`), if it is idempotent (GET, PUT, DELETE) and the shared
   budget allows. A connect error is retried for any
   method, since nothing was sent. A 500 is not retried by default: APIM answers 500 for bugs that a
   second identical PUT hits again (`RetryPolicy.retry_server_error_once` allows one retry).

Why one long module: every endpoint is a short method over the same request machinery (retries,
budgets, deadlines, size caps, error mapping); split, each part would need all of it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import ssl
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import structlog

from reconciler import __version__
from reconciler.apim.config import ClientConfig, TlsOptions
from reconciler.apim.endpoints import ApimTarget, segment
from reconciler.apim.errors import (
    ApimError,
    RateLimitedError,
    RetryBudgetExhaustedError,
    TransportError,
    UnexpectedResponseError,
    error_for_status,
)
from reconciler.apim.retry import (
    IDEMPOTENT_METHODS,
    RETRYABLE_STATUSES,
    RetryCoordinator,
    ServerRetryState,
    backoff_delay,
    parse_retry_after,
)
from reconciler.apim.transport import BodyTooLarge, CappedStream, LanePool
from reconciler.secrets.credentials import Credentials
from reconciler.secrets.value import reveal_leaf

_log = structlog.get_logger("reconciler.apim")

if importlib.util.find_spec("sniffio") is None:
    # httpcore runs `import sniffio` each time it sets up a lock (several per request) and falls back
    # to asyncio when that fails; anyio >= 4.11 no longer installs sniffio, and Python does not cache
    # a failed import, so each attempt scanned sys.path: about a third of a cold sync's CPU
    # (encode/httpcore#1103). Recording the module as absent makes the attempt fail at once.
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

CredentialsProvider = Callable[[], Credentials]


class _AttemptTimeout(httpx.ReadTimeout):
    """The whole attempt (connect, send, wait, read to the end) took longer than its limit."""

    def __init__(self, seconds: float | None) -> None:
        super().__init__(f"no complete answer within {seconds:g} s (--timeout)")


_TRANSPORT_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.ProxyError,
)
_NO_ANSWER = (*_TRANSPORT_ERRORS, TimeoutError)  # TimeoutError: from the attempt's own deadline


@dataclass(frozen=True)
class RequestStats:
    """HTTP requests sent (retries included), by method, and how many of them were retries."""

    by_method: Mapping[str, int]
    retries: int

    @property
    def total(self) -> int:
        return sum(self.by_method.values())


@dataclass(frozen=True)
class ListingPage:
    """One page of a paged listing, with what the server says of the whole listing."""

    items: list[Any]
    page_count: int | None
    total: int | None
    """How many items the whole listing holds, as the server counts them."""


@dataclass(frozen=True)
class EnvironmentInfo:
    """What the context check reached: the environment as the server describes it."""

    id: str
    name: str | None
    organization_id: str
    description: str | None = None


def build_ssl_context(tls: TlsOptions) -> ssl.SSLContext | bool:
    """`verify=` for httpx: a context with the CA bundle, True (system/certifi CAs) or False."""
    if tls.insecure_skip_verify:
        return False
    if tls.ca_bundle is not None:
        return ssl.create_default_context(cafile=str(tls.ca_bundle))
    return True


class ApimClient:
    """Async client of one APIM organization/environment; use as `async with ApimClient(...) as c`."""

    def __init__(
        self,
        target: ApimTarget,
        credentials: Credentials | CredentialsProvider,
        config: ClientConfig | None = None,
        *,
        retry: RetryCoordinator | None = None,
        context_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.target = target
        self.config = config or ClientConfig()
        self._credentials = credentials
        self._retry = retry or RetryCoordinator(self.config.retry)
        self._rng = rng or random.Random()  # backoff jitter, not cryptography  # nosec B311
        self._counts: Counter[str] = Counter()
        self._retries = 0
        tls = self.config.tls_for(context_key)
        if tls.insecure_skip_verify:
            _log.warning(
                "apim.tls_verification_disabled",
                why="its credentials could be intercepted",
                server=target.base_url,
                context=context_key,
            )
        t = self.config.timeouts
        self._attempt_timeout = t.attempt
        verify = build_ssl_context(tls)
        limits = httpx.Limits(
            max_connections=self.config.max_connections,
            max_keepalive_connections=self.config.max_keepalive_connections,
        )
        transport = transport or self._lanes(limits, verify)
        # The lanes refuse an oversized body as they read it; any other transport (httpx's own, kept
        # for proxies) gets its response stream wrapped before httpx reads it.
        hooks = {} if isinstance(transport, LanePool) else {"response": [self._cap_body]}
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool),
            limits=limits,
            verify=verify,
            trust_env=self.config.trust_env,
            follow_redirects=False,
            headers={"User-Agent": f"{self.config.user_agent}/{__version__}", "Accept": "application/json"},
            transport=transport,
            event_hooks=hooks,
        )

    async def _cap_body(self, response: httpx.Response) -> None:
        response.stream = CappedStream(response.stream, self.config.max_response_size)  # type: ignore[arg-type]

    def _lanes(self, limits: httpx.Limits, verify: ssl.SSLContext | bool) -> LanePool | None:
        """The split pool, unless proxies come from the environment (httpx applies those only to its own
        default transport, so that one is kept)."""
        if self.config.trust_env and urllib.request.getproxies():
            return None
        if verify is True and self.target.origin.startswith("http://"):
            # Plain HTTP (no redirects are followed) never uses a TLS context: skip loading the CA
            # bundle (about 25 ms per client). One that trusts no CA would fail closed if it were used.
            verify = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        return LanePool(
            limits, verify, trust_env=self.config.trust_env, max_body=self.config.max_response_size
        )

    async def __aenter__(self) -> ApimClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def __repr__(self) -> str:
        return f"ApimClient({self.target.describe()})"

    # ----------------------------------------------------------------- bookkeeping

    @property
    def stats(self) -> RequestStats:
        """Requests sent so far (retries included), by method: for the CLI's summary."""
        return RequestStats(dict(self._counts), self._retries)

    @property
    def server_state(self) -> ServerRetryState:
        return self._retry.for_origin(self.target.origin)

    def _current_credentials(self) -> Credentials:
        creds = self._credentials
        return creds if isinstance(creds, Credentials) else creds()

    # ----------------------------------------------------------------- the request loop

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        context_check: bool = False,
        allow_statuses: Iterable[int] = (),
    ) -> httpx.Response:
        """Send with retries; returns the response for 2xx or `allow_statuses`, else raises an ApimError."""
        method = method.upper()
        path = urlsplit(url).path
        # The query goes into the URL here, so that httpx parses each URL once: its parser checks every
        # character, and a params mapping (even an empty one) would make it parse the URL again.
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        retryable = method in IDEMPOTENT_METHODS
        allowed = frozenset(allow_statuses)
        server = self.server_state
        policy = self.config.retry
        content = None
        if body is not None:
            # Secrets are revealed by the encoder as it meets them (no revealed copy of the body).
            content = json.dumps(body, separators=(",", ":"), default=reveal_leaf).encode()
        retry_number = 0
        server_error_retried = False
        while True:
            await server.wait_if_paused()
            if retry_number == 0 and server.should_fail_fast():
                raise RetryBudgetExhaustedError(
                    f"{self.target.origin} keeps failing and the retry budget of this sync "
                    f"({policy.budget} retries) is spent: not sending",
                    method=method,
                    path=path,
                )
            creds = self._current_credentials()
            req_headers = {"Authorization": creds.auth_header().reveal()}
            if content is not None:
                req_headers["Content-Type"] = "application/json"
            if headers:
                req_headers.update(headers)
            started = time.monotonic()
            self._counts[method] += 1
            try:
                async with asyncio.timeout(self._attempt_timeout):
                    response = await self._http.request(method, url, content=content, headers=req_headers)
            except BodyTooLarge as exc:
                del req_headers
                server.record_success()  # the server answered; asking again would bring the same
                raise UnexpectedResponseError(
                    f"{exc} (--max-response-size): refused, the rest was not read",
                    method=method,
                    path=path,
                ) from None
            except _NO_ANSWER as caught:
                problem = (
                    _AttemptTimeout(self._attempt_timeout) if isinstance(caught, TimeoutError) else caught
                )
                del req_headers
                server.record_failure()
                sent = not isinstance(problem, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
                failure = TransportError(_describe_transport(problem), method=method, path=path)
                _log.debug(
                    "apim.request_failed",
                    method=method,
                    path=path,
                    error=failure.reason,
                    attempt=retry_number + 1,
                )
                permanent = _is_tls_failure(problem)  # a bad certificate will not get better on retry
                if (
                    not permanent
                    and (retryable or not sent)
                    and await self._backoff(retry_number, None, failure)
                ):
                    retry_number += 1
                    continue
                raise failure from None
            del req_headers
            elapsed_ms = round((time.monotonic() - started) * 1000)
            status = response.status_code
            _log.debug(
                "apim.request",
                method=method,
                path=path,
                status=status,
                attempt=retry_number + 1,
                elapsed_ms=elapsed_ms,
            )
            if 200 <= status < 300 or status in allowed:
                server.record_success()
                return response
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if status in RETRYABLE_STATUSES:
                server.record_failure()
                if status == 429 or (status == 503 and retry_after is not None):
                    if retry_after is not None and retry_after > policy.max_retry_after:
                        raise RateLimitedError(
                            f"server asked to wait {retry_after:.0f}s (Retry-After), "
                            f"more than the {policy.max_retry_after:.0f}s allowed",
                            method=method,
                            path=path,
                            status=status,
                        )
                    if retry_after is None:
                        retry_after = backoff_delay(retry_number, policy, self._rng)
                    server.pause(retry_after)  # everybody waits, not only this request
                refused = error_for_status(method, path, status, _json_or_none(response))
                if retryable and await self._backoff(retry_number, retry_after, refused):
                    retry_number += 1
                    continue
                raise refused
            server.record_success()  # the server answered: it is alive
            error = error_for_status(
                method, path, status, _json_or_none(response), context_check=context_check
            )
            if (
                status == 500
                and policy.retry_server_error_once
                and retryable
                and not server_error_retried
                and await self._backoff(retry_number, retry_after, error)
            ):
                server_error_retried = True
                retry_number += 1
                continue
            raise error

    async def _backoff(self, retry_number: int, retry_after: float | None, error: ApimError) -> bool:
        """Sleep before the next attempt and return True, or return False when no retry is allowed."""
        policy = self.config.retry
        if retry_number + 1 >= policy.max_attempts:
            return False
        state = self.server_state
        if not state.take_retry():
            if not state.budget_warned:
                state.budget_warned = True
                _log.warning("apim.retry_budget_spent", server=self.target.origin, error=error.reason)
            return False
        self._retries += 1
        delay = backoff_delay(retry_number, policy, self._rng)
        if retry_after is not None:
            delay = max(delay, retry_after)
        _log.debug(
            "apim.retry", method=error.method, path=error.path, delay_s=round(delay, 3), error=error.reason
        )
        await asyncio.sleep(delay)
        return True

    async def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        response = await self.request(method, url, **kwargs)
        return _parse_json(response, method)

    # ----------------------------------------------------------------- context

    async def check_context(self) -> EnvironmentInfo:
        """GET the environment through mAPI v2: proves the URL, the credentials and the org/env ids."""
        body = await self._json("GET", self.target.mapi_v2_env, context_check=True)
        if not isinstance(body, Mapping):
            raise UnexpectedResponseError(
                "the environment is not a JSON object", method="GET", path=self.target.mapi_v2_env
            )
        return EnvironmentInfo(
            id=str(body.get("id") or self.target.environment_id),
            name=body.get("name") if isinstance(body.get("name"), str) else None,
            organization_id=str(body.get("organizationId") or self.target.organization_id),
            description=body.get("description") if isinstance(body.get("description"), str) else None,
        )

    async def has_automation_route(self, kind: str) -> bool:
        """Whether the Automation API has `kind` (`apis` since APIM 4.8, `applications` since 4.9).

        Probes with `PUT .../automation/.../{kind}?dryRun=true` and an empty object: a server with the
        route rejects the body (400: only an existing handler can say that) and dryRun guarantees
        nothing is stored either way; one without it answers 404 or 405 from its router. A GET of an
        unknown HRID would not tell: both answer it with a 404. Needs the environment's create or
        update permission for `kind` (403 otherwise, raised).
        """
        url = f"{self.target.automation_env}/{kind}"
        response = await self.request("PUT", url, params=_dry(True), body={}, allow_statuses=(400, 404, 405))
        return response.status_code in (200, 400)

    async def listing_shows_metadata(self) -> bool | None:
        """Whether the API listing carries metadata (`expands=metadata`, APIM 4.9.18, 4.10.13, 4.11.5,
        4.12.0 and later): where it does not, ownership records are invisible. APIM gives every v4 API
        an `email-support` entry, so the first v4 API listed tells; None when the environment has none."""
        page = 1
        while True:
            listing = await self.list_apis_page(page, per_page=100)
            for item in listing.items:
                if isinstance(item, Mapping) and item.get("definitionVersion") == "V4":
                    return isinstance(item.get("metadata"), Mapping)
            if not listing.items or listing.page_count is None or page >= listing.page_count:
                return None
            page += 1

    async def environment_permissions(self) -> dict[str, str]:
        """The caller's permissions on the environment, `{"API": "CRUD", ...}` (mAPI v1 `GET .../environments
        /{env}/permissions`, EnvironmentResource.getEnvironmentPermissions: needs none; organization ADMIN
        gets every one)."""
        body = await self._json("GET", f"{self.target.mapi_v1_env}/permissions")
        if not isinstance(body, Mapping):
            return {}
        return {
            str(name): "".join(str(a) for a in actions) if isinstance(actions, list) else ""
            for name, actions in body.items()
        }

    # ----------------------------------------------------------------- Automation API

    async def put_automation(self, collection: str, spec: Mapping[str, Any], *, dry_run: bool = False) -> Any:
        """Create or update an object of an Automation API collection (`apis`, `applications`, ...):
        an upsert keyed by the spec's `hrid`; returns its state (`ApiV4State`, `ApplicationState`...)."""
        url = f"{self.target.automation_env}/{collection}"
        return await self._json("PUT", url, params=_dry(dry_run), body=spec)

    async def get_automation(self, collection: str, hrid: str) -> Any | None:
        """The state of the object with this HRID, or None when there is none."""
        return await self._get_or_none(f"{self.target.automation_env}/{collection}/{segment(hrid)}")

    async def delete_automation(self, collection: str, hrid: str) -> bool:
        """True when deleted, False when it did not exist."""
        return await self._delete(f"{self.target.automation_env}/{collection}/{segment(hrid)}")

    async def get_api_by_uuid(self, api_id: str) -> Any | None:
        """The `ApiV4State` of an API addressed by its id (`hridContainsUUID=true`), or None.

        For `export`: mAPI v2 never shows an API's HRID, and only this read tells it (it is in the
        state when the API has one). APIM answers 404 for v2 APIs, which the Automation API lacks.
        """
        url = f"{self.target.automation_env}/apis/{segment(api_id)}"
        response = await self.request("GET", url, params=_BY_UUID_API, allow_statuses=(404,))
        return None if response.status_code == 404 else _parse_json(response, "GET")

    async def get_application_by_uuid(self, application_id: str) -> Any | None:
        """The `ApplicationState` of an application addressed by its id (`hridContainsUUID=true`).

        The mAPI v1 listing shows neither HRID nor metadata, so this read is how an application
        that no manifest names is found to be ours (or not).
        """
        url = f"{self.target.automation_env}/applications/{segment(application_id)}"
        response = await self.request("GET", url, params=_BY_UUID, allow_statuses=(404,))
        return None if response.status_code == 404 else _parse_json(response, "GET")

    # ----------------------------------------------------------------- mAPI v2

    async def list_apis(
        self, *, per_page: int = 100, expands: Iterable[str] = ("metadata",)
    ) -> AsyncIterator[Any]:
        """Every API of the environment, page after page (`list_apis_page`)."""
        page = 1
        while True:
            listing = await self.list_apis_page(page, per_page=per_page, expands=expands)
            for item in listing.items:
                yield item
            if not listing.items or listing.page_count is None or page >= listing.page_count:
                return
            page += 1

    async def list_apis_page(
        self, page: int, *, per_page: int = 100, expands: Iterable[str] = ("metadata",)
    ) -> ListingPage:
        """One page (from 1) of mAPI v2 `GET .../apis`: its items, and the page and item counts it reports.

        Not `POST .../apis/_search`: search reads its ids and their order from each node's Lucene index,
        updated asynchronously, so its pages can repeat or miss an API under writes or across nodes;
        `GET /apis` reads the database (ApiServiceImpl.findAll), sorted by name then id. Both carry
        `metadata` with `expands=metadata` (APIM 4.9.18, 4.10.13, 4.11.5, 4.12.0 and later). The first
        page tells how many there are, so that the others can be fetched concurrently. A body that is
        not a listing raises UnexpectedResponseError: it is never read as "nothing".
        """
        params: dict[str, Any] = {"page": page, "perPage": per_page}
        expand = list(expands)
        if expand:
            params["expands"] = expand  # an array parameter: repeated, OpenAPI's form style
        path = f"{self.target.mapi_v2_env}/apis"
        body = await self._json("GET", path, params=params)
        data = _listing_items(body, "GET", path)
        pagination = body.get("pagination") if isinstance(body, Mapping) else None
        info = pagination if isinstance(pagination, Mapping) else {}
        return ListingPage(data, _count(info.get("pageCount")), _count(info.get("totalCount")))

    async def list_applications_page(
        self, page: int, *, per_page: int = 100, status: str | None = None
    ) -> ListingPage:
        """One page of mAPI v1 `applications/_paged` (from 1): its items, `page.total_pages` and
        `page.total_elements`."""
        params: dict[str, str | int] = {"page": page, "size": per_page}
        if status:
            params["status"] = status
        path = f"{self.target.mapi_v1_env}/applications/_paged"
        body = await self._json("GET", path, params=params)
        data = _listing_items(body, "GET", path)
        page_info = body.get("page") if isinstance(body, Mapping) else None
        info = page_info if isinstance(page_info, Mapping) else {}
        return ListingPage(data, _count(info.get("total_pages")), _count(info.get("total_elements")))

    async def get_api_by_id(self, api_id: str) -> Any:
        """An API as mAPI v2 shows it (no `metadata`: only the listings with `expands=metadata` have it)."""
        return await self._json("GET", f"{self.target.mapi_v2_env}/apis/{segment(api_id)}")

    async def find_api_by_id(self, api_id: str) -> Any | None:
        """`get_api_by_id`, or None when there is no API with that id."""
        return await self._get_or_none(f"{self.target.mapi_v2_env}/apis/{segment(api_id)}")

    async def update_api_by_id(
        self, api_id: str, body: Mapping[str, Any], *, if_match: str | None = None
    ) -> Any:
        """PUT an API through mAPI v2 (used to simulate drift); `if_match` is the quoted ETag."""
        headers = {"If-Match": if_match} if if_match else None
        return await self._json(
            "PUT", f"{self.target.mapi_v2_env}/apis/{segment(api_id)}", body=body, headers=headers
        )

    async def delete_api_by_id(self, api_id: str) -> bool:
        return await self._delete(f"{self.target.mapi_v2_env}/apis/{segment(api_id)}")

    # ----------------------------------------------------------------- mAPI v1

    async def import_api_definition(self, spec: Mapping[str, Any], *, dry_run: bool = False) -> Any:
        """A v2 `ApiDefinition`, the way GKO writes it: `PUT .../management/.../apis/import-crd`."""
        return await self._json(
            "PUT",
            f"{self.target.mapi_v1_env}/apis/import-crd",
            params={"dryRun": str(dry_run).lower()},
            body=spec,
        )

    async def delete_api_definition(self, api_id: str) -> bool:
        """Delete a v2 API the way GKO does (`DeleteV2`): mAPI v1 `DELETE .../apis/{id}?closePlans=true`.

        Without `closePlans`, APIM refuses to delete an API with published plans (400 `Plan(s) [...]
        must be closed before being able to delete the API !`). True when deleted, False on a 404.
        """
        response = await self.request(
            "DELETE",
            f"{self.target.mapi_v1_env}/apis/{segment(api_id)}",
            params={"closePlans": "true"},
            allow_statuses=(404,),
        )
        return response.status_code != 404

    async def export_api_definition(self, api_id: str) -> str | None:
        """A v2 API as GKO's `ApiDefinition`, the YAML text of mAPI v1 `GET .../apis/{id}/crd`, or None
        on a 404 (for `export`). APIM produces only `application/yaml` there (406 for a JSON `Accept`);
        it gives an API or plan without a crossId a random one, and saves it."""
        response = await self.request(
            "GET",
            f"{self.target.mapi_v1_env}/apis/{segment(api_id)}/crd",
            headers={"Accept": "application/yaml"},
            allow_statuses=(404,),
        )
        return None if response.status_code == 404 else response.text

    async def list_applications(
        self, *, per_page: int = 100, status: str | None = None
    ) -> AsyncIterator[Any]:
        """Every application of the environment, through mAPI v1 `applications/_paged`."""
        page = 1
        while True:
            listing = await self.list_applications_page(page, per_page=per_page, status=status)
            for item in listing.items:
                yield item
            if not listing.items or listing.page_count is None or page >= listing.page_count:
                return
            page += 1

    # ----------------------------------------------------------------- mAPI v1: users and tokens

    @property
    def _org_v1(self) -> str:
        """`.../management/organizations/{org}`: users and their tokens belong to the organization."""
        return f"{self.target.management_root}/organizations/{segment(self.target.organization_id)}"

    async def current_user(self) -> Any:
        """`GET .../user`: who the credentials belong to, with their organization roles."""
        return await self._json("GET", f"{self._org_v1}/user")

    async def search_users(self, query: str, *, per_page: int = 100) -> AsyncIterator[Any]:
        """Every user matching `q` (APIM's search engine), page after page (`UserEntity` without roles)."""
        page = 1
        while True:
            params: dict[str, str | int] = {"q": query, "page": page, "size": per_page}
            body = await self._json("GET", f"{self._org_v1}/users", params=params)
            data = body.get("data") if isinstance(body, Mapping) else None
            for item in data or []:
                yield item
            info = body.get("page") if isinstance(body, Mapping) else None
            total_pages = info.get("total_pages") if isinstance(info, Mapping) else None
            if not data or not isinstance(total_pages, int) or page >= total_pages:
                return
            page += 1

    async def create_user(self, body: Mapping[str, Any]) -> Any:
        """`POST .../users` with a `NewPreRegisterUserEntity`; returns the `UserEntity` (not retried)."""
        return await self._json("POST", f"{self._org_v1}/users", body=body)

    async def get_user(self, user_id: str) -> Any | None:
        """A `UserEntity` with `roles` (organization) and `envRoles` (by environment id), or None."""
        return await self._get_or_none(f"{self._org_v1}/users/{segment(user_id)}")

    async def list_roles(self, scope: str) -> list[Any]:
        """The roles of a scope (`ORGANIZATION`, `ENVIRONMENT`, ...): `RoleEntity`s with their `id`.

        `GET .../configuration/rolescopes/{scope}/roles` (mAPI v1 `RoleScopeResource.getRoles`, needs
        ORGANIZATION_ROLE[READ]); role ids are random, so a role is looked up by name here first.
        """
        url = f"{self._org_v1}/configuration/rolescopes/{segment(scope)}/roles"
        body = await self._json("GET", url)
        return list(body) if isinstance(body, list) else []

    async def update_user_roles(
        self, user_id: str, reference_type: str, reference_id: str, roles: Iterable[str]
    ) -> None:
        """Replace a user's roles on the organization or an environment (`UserReferenceRoleEntity`).

        `roles` are role **ids** (`list_roles`): APIM removes the user's current roles there first,
        then looks each one up by id (`UserServiceImpl.updateUserRoles`), so a name fails with a 404
        after the old role is already gone.
        """
        body = {
            "user": user_id,
            "referenceId": reference_id,
            "referenceType": reference_type,
            "roles": list(roles),
        }
        await self.request("PUT", f"{self._org_v1}/users/{segment(user_id)}/roles", body=body)

    async def list_user_tokens(self, user_id: str) -> list[Any]:
        """A user's personal access tokens (`TokenEntity` without the value), oldest first."""
        body = await self._json("GET", f"{self._org_v1}/users/{segment(user_id)}/tokens")
        return list(body) if isinstance(body, list) else []

    async def create_user_token(self, user_id: str, name: str) -> Any:
        """`POST .../users/{id}/tokens`: the only answer that holds the token value. Never retried, so a
        lost answer cannot leave two tokens behind; the caller must wrap `token` in a `Secret` at once."""
        url = f"{self._org_v1}/users/{segment(user_id)}/tokens"
        return await self._json("POST", url, body={"name": name})

    async def revoke_user_token(self, user_id: str, token_id: str) -> bool:
        """True when revoked, False when there was no such token."""
        return await self._delete(f"{self._org_v1}/users/{segment(user_id)}/tokens/{segment(token_id)}")

    # ----------------------------------------------------------------- helpers

    async def _get_or_none(self, url: str) -> Any | None:
        response = await self.request("GET", url, allow_statuses=(404,))
        return None if response.status_code == 404 else _parse_json(response, "GET")

    async def _delete(self, url: str) -> bool:
        response = await self.request("DELETE", url, allow_statuses=(404,))
        return response.status_code != 404


def _listing_items(body: Any, method: str, path: str) -> list[Any]:
    """The `data` of a listing page; anything else (no body, no list, an item without an id) is an
    error, never an empty environment."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, list):
        raise UnexpectedResponseError("the listing page has no `data` list", method=method, path=path)
    if not all(isinstance(item, Mapping) and isinstance(item.get("id"), str) and item["id"] for item in data):
        raise UnexpectedResponseError(
            "the listing page holds an item without an id", method=method, path=path
        )
    return data


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


# Addressing by UUID: `hridContainsUUID` since APIM 4.12, `legacy` in 4.9 to 4.11 (each version ignores
# the other spelling); from 4.12 an account that is not organization ADMIN also needs
# `hridContainsApiUUID` on an API, or the permission filter reads the UUID as an HRID (403).
_BY_UUID = {"hridContainsUUID": "true", "legacy": "true"}
_BY_UUID_API = {**_BY_UUID, "hridContainsApiUUID": "true"}


def _dry(dry_run: bool) -> dict[str, str | int]:
    return {"dryRun": "true"} if dry_run else {}


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _parse_json(response: httpx.Response, method: str) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise UnexpectedResponseError(
            f"expected JSON, got {response.headers.get('Content-Type', 'no content type')}",
            method=method,
            path=response.request.url.path,
            status=response.status_code,
        ) from None


def _describe_transport(exc: Exception) -> str:
    kinds: dict[type[Exception], str] = {
        _AttemptTimeout: "too slow",
        httpx.ConnectTimeout: "connection timed out",
        httpx.ReadTimeout: "no answer in time (read timeout)",
        httpx.WriteTimeout: "write timed out",
        httpx.PoolTimeout: "no free connection in the pool",
        httpx.ConnectError: "cannot connect",
        httpx.ReadError: "connection reset while reading",
        httpx.WriteError: "connection reset while writing",
        httpx.RemoteProtocolError: "the server closed the connection or broke the protocol",
        httpx.ProxyError: "proxy error",
    }
    kind = kinds.get(type(exc), type(exc).__name__)
    detail = str(exc)
    if _is_tls_failure(exc):
        kind = "TLS certificate verification failed"
    return f"{kind}: {detail}" if detail else kind


def _is_tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            break
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
