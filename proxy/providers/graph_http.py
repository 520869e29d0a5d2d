"""The Graph provider's one boundary with msgraph-sdk, httpx and the network.

The SDK builds every request (its request builders, URL templates, auth provider and
middleware pipeline, including its retry handler); the answer is taken raw through a
native response handler and parsed with ``json.loads``, because the SDK's model parsing
costs milliseconds per event (PROVIDER-NOTES). Everything that can go wrong on the wire is
mapped here, and only here, onto :mod:`proxy.errors`:

* 401 → one ``TokenSource.refresh()`` and one retry, then :class:`UpstreamAuthError`;
* 429/503 → the SDK's retry handler waits out ``Retry-After`` while it fits the budget
  (``retry_cap`` seconds per wait, ``max_retries`` waits), then :class:`UpstreamThrottled`
  carrying the upstream ``Retry-After``;
* 504 and client timeouts → :class:`UpstreamTimeout`; other 5xx → :class:`UpstreamError`;
* 404 ``MailboxNotEnabledForRESTAPI`` (a hybrid, on-premises mailbox) → 422
  ``hybrid_not_supported``; other 404 → :class:`UpstreamNotFound`;
* 403 on a write → 403 ``integration_read_only`` (the token lacks a write scope);
* 410 (``SyncStateNotFound``) → :class:`CursorExpired`;
* a body that is not JSON → :class:`UpstreamError` naming "malformed".

Messages name status codes and Graph error codes only, never payload content. At most
:data:`MAX_CONCURRENCY` requests per mailbox are in flight (Microsoft's documented limit).
"""

from __future__ import annotations

import asyncio
import json
import re
import weakref
from typing import Any

import httpx
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.method import Method
from kiota_abstractions.native_response_handler import NativeResponseHandler
from kiota_abstractions.request_information import RequestInformation
from kiota_abstractions.request_option import RequestOption
from kiota_http.kiota_client_factory import KiotaClientFactory
from kiota_http.middleware import RetryHandler
from kiota_http.middleware.options import (
    ResponseHandlerOption,
    RetryHandlerOption,
    UrlReplaceHandlerOption,
)
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory

from proxy.config import Settings
from proxy.errors import (
    CalproxyError,
    CursorExpired,
    Forbidden,
    Unprocessable,
    UpstreamAuthError,
    UpstreamError,
    UpstreamNotFound,
    UpstreamThrottled,
    UpstreamTimeout,
)
from proxy.operations.metrics import count_upstream
from proxy.providers.base import TokenSource

MAX_CONCURRENCY = 4
PREFER_ZONE = 'outlook.timezone="UTC"'
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,63}$")
_WRITES = {"POST", "PATCH", "PUT", "DELETE"}
_LIMITS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary())


def mailbox_limit(key: str) -> asyncio.Semaphore:
    """The semaphore that caps one mailbox's concurrent requests (per event loop)."""
    per_loop = _LIMITS.setdefault(asyncio.get_running_loop(), {})
    return per_loop.setdefault(key, asyncio.Semaphore(MAX_CONCURRENCY))


class _TokenBridge(AccessTokenProvider):
    """Hands the SDK's bearer auth provider the integration's current access token."""

    def __init__(self, tokens: TokenSource | None) -> None:
        self.tokens = tokens

    async def get_authorization_token(self, uri: str,
                                      additional_authentication_context: Any = None) -> str:
        if self.tokens is None:
            raise UpstreamAuthError("the Graph integration has no OAuth tokens")
        return await self.tokens.access_token()

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return AllowedHostsValidator([])


class _BoundedRetryHandler(RetryHandler):
    """The SDK's retry handler, refusing any wait longer than ``cap`` seconds.

    Unmodified, it honours any ``Retry-After`` up to three minutes, which would hold a
    calproxy request hostage; a longer wait is left to the client (503 + Retry-After).
    """

    def __init__(self, options: RetryHandlerOption, cap: float) -> None:
        super().__init__(options)
        self.cap = cap

    def get_delay_time(self, retry_count: int, response: httpx.Response | None = None,
                       delay: float = 0.0) -> float:
        wait = float(super().get_delay_time(retry_count, response, delay))
        return wait if wait <= self.cap else float(RetryHandlerOption.MAX_DELAY)

    def _get_delay_time_exp_backoff(self, retry_count: int, delay: float) -> float:
        return float(min(self.cap, 0.25 * 2 ** max(retry_count - 1, 0) + delay))


class _CountedTransport(httpx.AsyncBaseTransport):
    """The wire below the SDK's middleware: each attempt counted in the metrics."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self.inner.handle_async_request(request)
        except Exception:
            count_upstream("graph", "error")
            raise
        count_upstream("graph", response.status_code)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def _http_client(timeout: float, retry_cap: float, max_retries: int) -> httpx.AsyncClient:
    options: dict[str, RequestOption] = {
        UrlReplaceHandlerOption.get_key(): UrlReplaceHandlerOption(
            enabled=True, replacement_pairs={"/users/me-token-to-replace": "/me"}),
    }
    middleware = KiotaClientFactory.get_default_middleware(options)
    retry = _BoundedRetryHandler(RetryHandlerOption(0.0, max_retries, True), retry_cap)
    middleware = [retry if isinstance(m, RetryHandler) else m for m in middleware]
    client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), trust_env=False,
                               transport=_CountedTransport(httpx.AsyncHTTPTransport()))
    result: httpx.AsyncClient = GraphClientFactory.create_with_custom_middleware(
        middleware, client=client)
    return result


class GraphSession:
    """One integration's SDK client: builds requests, sends them, maps every failure."""

    def __init__(self, settings: Settings, tokens: TokenSource | None, mailbox_key: str,
                 timeout: float = 30.0, retry_cap: float = 2.0, max_retries: int = 2) -> None:
        self.tokens = tokens
        self.limit_key = mailbox_key or str(id(self))
        self._client = _http_client(timeout, retry_cap, max_retries)
        auth = BaseBearerTokenAuthenticationProvider(_TokenBridge(tokens))
        self.adapter = GraphRequestAdapter(auth, self._client)
        self.adapter.base_url = settings.graph_url.rstrip("/")
        self.sdk = GraphServiceClient(request_adapter=self.adapter)
        self.requests = 0

    async def aclose(self) -> None:
        await self._client.aclose()

    @staticmethod
    def request(method: Method, builder: Any, body: dict[str, Any] | None = None,
                ) -> RequestInformation:
        """A request on an SDK builder's URL template, with a raw JSON body if given."""
        info = RequestInformation(method, builder.url_template, builder.path_parameters)
        info.headers.try_add("Accept", "application/json")
        if body is not None:
            info.headers.try_add("Content-Type", "application/json")
            info.content = json.dumps(body).encode()
        return info

    async def call(self, info: RequestInformation, page_size: int | None = None) -> Any:
        """Send ``info`` and return its parsed JSON body (None for 204); raise mapped errors."""
        return parse(info, await self.send(info, page_size))

    async def send(self, info: RequestInformation, page_size: int | None = None,
                   ) -> httpx.Response:
        """Send ``info`` (one token refresh on 401) and return the raw answer, for callers
        that read a status themselves before :func:`parse` maps it (subscriptions' 409)."""
        info.headers.add("Prefer", PREFER_ZONE)
        if page_size:
            info.headers.add("Prefer", f"odata.maxpagesize={page_size}")
        info.add_request_options([ResponseHandlerOption(NativeResponseHandler())])
        async with mailbox_limit(self.limit_key):
            response = await self._send(info)
            if response.status_code == 401 and self.tokens is not None:
                await self.tokens.refresh()
                info.headers.remove("Authorization")
                response = await self._send(info)
        return response

    async def _send(self, info: RequestInformation) -> httpx.Response:
        self.requests += 1
        try:
            response: httpx.Response = await self.adapter.send_primitive_async(
                info, "bytes", None)
        except CalproxyError:
            raise
        except httpx.TimeoutException:
            raise UpstreamTimeout("Graph did not answer in time") from None
        except httpx.HTTPError as exc:
            raise UpstreamError(f"Graph could not be reached ({type(exc).__name__})") from None
        except Exception as exc:  # the SDK's own failures, mapped at this one boundary
            raise UpstreamError(f"the Graph client failed ({type(exc).__name__})") from None
        return response


def error_code(response: httpx.Response) -> str:
    """Graph's ``error.code`` when the body carries a plausible one; '' otherwise."""
    try:
        code = json.loads(response.content)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return ""
    return code if isinstance(code, str) and _CODE.match(code) else ""


def _retry_after(response: httpx.Response) -> float:
    raw = response.headers.get("Retry-After", "")
    return float(raw) if raw.strip().isdigit() else 30.0


def parse(info: RequestInformation, response: httpx.Response) -> Any:
    """The JSON body of a successful answer (None when empty); the mapped error otherwise."""
    status = response.status_code
    if status >= 400:
        raise _mapped(info, response)
    if status == 204 or not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        raise UpstreamError(f"Graph answered a malformed payload ({status}, not JSON)") from None


def _mapped(info: RequestInformation, response: httpx.Response) -> CalproxyError | CursorExpired:
    status, code = response.status_code, error_code(response)
    named = f"{status} {code}".strip()
    method = info.http_method.value if info.http_method else "GET"
    if status == 401:
        return UpstreamAuthError(f"Graph refused the refreshed access token ({named})")
    if status == 404 and code == "MailboxNotEnabledForRESTAPI":
        return Unprocessable(
            "this mailbox is hosted on-premises (hybrid) and Graph cannot reach it; "
            "connect it with exchange_ews instead", code="hybrid_not_supported")
    if status == 404:
        return UpstreamNotFound(f"Graph has no such item ({named})")
    if status == 403 and method in _WRITES:
        return Forbidden(f"Graph refused the write ({named}): the integration was not "
                         "granted write access", code="integration_read_only")
    if status == 410:
        return CursorExpired(f"Graph expired the delta token ({named})")
    if status in (429, 503):
        return UpstreamThrottled(f"Graph is throttling this mailbox ({named})",
                                 retry_after=_retry_after(response))
    if status == 504:
        return UpstreamTimeout(f"Graph timed out ({named})")
    return UpstreamError(f"Graph answered {named}")
