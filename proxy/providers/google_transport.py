"""Sending requests that ``google-api-python-client`` built, with aiohttp.

The Google client is synchronous and its httplib2 transport is not thread-safe, so
calproxy lets the client only *build* each request (method, URI with query, headers,
JSON body; about 20 µs with a cached resource) and sends it here on the shared aiohttp
session: the event loop never blocks and no thread pool is needed.

This module is the one boundary where Google's HTTP answers become :mod:`proxy.errors`:

- 401: refresh the token once (``TokenSource.refresh``) and retry once, else
  :class:`UpstreamAuthError`;
- 429, 503 and 403 ``rateLimitExceeded``/``userRateLimitExceeded``: wait (``Retry-After``
  or exponential backoff) within a small budget, then :class:`UpstreamThrottled`;
- 410 ``fullSyncRequired`` and 400 ``EXPIRED_SYNC_TOKEN``: :class:`CursorExpired`;
- 404 and 410 ``deleted``: :class:`UpstreamNotFound`; 403 for missing scopes:
  ``Forbidden(integration_read_only)``; other 5xx and 4xx: :class:`UpstreamError`;
- timeouts: :class:`UpstreamTimeout`; a body that is not a JSON object: ``UpstreamError``.

Messages name status codes and Google's reason codes only, never content. Every request
of one integration (``mailbox_key``) passes one :class:`RateGate` that keeps Google's
documented 600 requests per minute per user and a few requests in flight at most.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import aiohttp

from proxy.errors import (
    CalproxyError,
    CursorExpired,
    Forbidden,
    UpstreamAuthError,
    UpstreamError,
    UpstreamNotFound,
    UpstreamThrottled,
    UpstreamTimeout,
)
from proxy.providers.base import TokenSource

Json = dict[str, Any]
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED",
                "RESOURCE_EXHAUSTED"}
SCOPE_REASONS = {"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}
EXPIRED_REASONS = {"fullSyncRequired", "EXPIRED_SYNC_TOKEN"}
#: reasons are names like ``fullSyncRequired`` or ``push.webhookUrlNotHttps``
_SAFE_REASON = re.compile(r"^[A-Za-z_][A-Za-z_.]{0,63}$")
#: bodies larger than this are parsed in a worker thread so the loop stays responsive
BIG_BODY = 256 * 1024


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long calproxy waits for Google before giving up (tests shrink it)."""

    max_retries: int = 2
    #: total seconds of waiting accepted before answering 503 to the caller
    max_wait: float = 4.0
    #: first backoff step for rate-limit answers without ``Retry-After``
    backoff: float = 0.5
    #: seconds for one request, connect to last byte
    timeout: float = 30.0
    #: Google's documented Calendar quota per user
    requests_per_minute: int = 600
    concurrency: int = 4


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What the Google client built: ``HttpRequest.method/uri/headers/body``."""

    method: str
    uri: str
    headers: dict[str, str]
    body: str | None


class RateGate:
    """At most ``per_minute`` request starts per sliding minute, ``concurrency`` at once."""

    def __init__(self, per_minute: int, concurrency: int) -> None:
        self.per_minute = per_minute
        self.starts: deque[float] = deque()
        self.slots = asyncio.Semaphore(concurrency)

    async def __aenter__(self) -> None:
        await self.slots.acquire()
        while len(self.starts) >= self.per_minute:
            wait = self.starts[0] + 60.0 - time.monotonic()
            if wait <= 0:
                self.starts.popleft()
                continue
            await asyncio.sleep(wait)
        self.starts.append(time.monotonic())

    async def __aexit__(self, *exc: object) -> None:
        self.slots.release()


_GATES: dict[tuple[str, int], RateGate] = {}


def gate_for(mailbox_key: str, policy: RetryPolicy) -> RateGate:
    """The one gate of an integration in this event loop (shared by its provider objects)."""
    key = (mailbox_key, id(asyncio.get_running_loop()))
    gate = _GATES.get(key)
    if gate is None:
        if len(_GATES) > 10_000:
            _GATES.clear()
        gate = _GATES[key] = RateGate(policy.requests_per_minute, policy.concurrency)
    return gate


class GoogleTransport:
    """Sends built requests with auth, retries and error mapping; answers JSON objects."""

    def __init__(self, http: aiohttp.ClientSession, tokens: TokenSource | None,
                 gate: RateGate, policy: RetryPolicy) -> None:
        self.http, self.tokens, self.gate, self.policy = http, tokens, gate, policy
        self.requests = 0

    async def call(self, request: Any) -> Json | None:
        """Send ``request`` (an ``HttpRequest`` or :class:`Outgoing`); ``None`` for 204."""
        outgoing = Outgoing(request.method, request.uri, dict(request.headers), request.body)
        token = await self._token()
        refreshed, attempt, waited = False, 0, 0.0
        while True:
            status, headers, raw = await self._send(outgoing, token)
            if status == 401 and not refreshed:
                token, refreshed = await self._refresh(), True
                continue
            reason = _reason(raw) if status >= 400 else None
            if _throttled(status, reason):
                delay = _retry_after(headers) or self.policy.backoff * (2 ** attempt)
                if attempt >= self.policy.max_retries or waited + delay > self.policy.max_wait:
                    raise UpstreamThrottled(f"google throttled the request ({status})",
                                            retry_after=max(delay, 1.0))
                await asyncio.sleep(delay)
                attempt, waited = attempt + 1, waited + delay
                continue
            if status >= 400:
                raise map_status(status, reason)
            return await _parse(raw)

    async def _token(self) -> str:
        if self.tokens is None:
            raise UpstreamAuthError("google integration has no OAuth token")
        return await self.tokens.access_token()

    async def _refresh(self) -> str:
        assert self.tokens is not None
        try:
            return await self.tokens.refresh()
        except CalproxyError:
            raise
        except Exception as exc:
            raise UpstreamAuthError("google token refresh failed") from exc

    async def _send(self, outgoing: Outgoing, token: str) -> tuple[int, Any, bytes]:
        headers = {k: v for k, v in outgoing.headers.items() if k.lower() != "user-agent"}
        headers["Authorization"] = f"Bearer {token}"
        timeout = aiohttp.ClientTimeout(total=self.policy.timeout)
        self.requests += 1
        try:
            async with self.gate, self.http.request(
                    outgoing.method, outgoing.uri, headers=headers, data=outgoing.body,
                    timeout=timeout) as response:
                return response.status, response.headers, await response.read()
        except TimeoutError as exc:
            raise UpstreamTimeout("google did not answer in time") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"google unreachable ({type(exc).__name__})") from exc


def map_status(status: int, reason: str | None) -> Exception:
    """The calproxy error for a Google error answer (after retries were spent)."""
    label = f"{status} {reason}" if reason else str(status)
    if reason in EXPIRED_REASONS:
        return CursorExpired(f"google sync token expired ({label})")
    if status == 401:
        return UpstreamAuthError(f"google refused the refreshed token ({label})")
    if status == 404 or (status == 410 and reason != "fullSyncRequired"):
        return UpstreamNotFound(f"google has no such item ({label})")
    if status == 403 and (reason in SCOPE_REASONS or reason == "PERMISSION_DENIED"):
        return Forbidden(f"google did not grant write access ({label})",
                         code="integration_read_only")
    if status == 403 and reason == "requiredAccessLevel":
        return Forbidden(f"google calendar is read-only for this user ({label})")
    if status >= 500:
        return UpstreamError(f"google failed ({label})")
    return UpstreamError(f"google refused the request ({label})")


def _throttled(status: int, reason: str | None) -> bool:
    return status in (429, 503) or (status == 403 and reason in RATE_REASONS)


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _reason(raw: bytes) -> str | None:
    """Google's machine-readable reason of an error body, if it has a safe one.

    Calendar puts it in ``error.errors[0].reason``; People in an ErrorInfo detail's
    ``reason`` (falling back to ``error.status``).
    """
    try:
        error = json.loads(raw)["error"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(error, dict):
        return None
    candidates: list[Any] = []
    for item in error.get("details") or []:
        if isinstance(item, dict):
            candidates.append(item.get("reason"))
    for item in error.get("errors") or []:
        if isinstance(item, dict):
            candidates.append(item.get("reason"))
    candidates.append(error.get("status"))
    for candidate in candidates:
        if isinstance(candidate, str) and _SAFE_REASON.match(candidate):
            return candidate
    return None


async def _parse(raw: bytes) -> Json | None:
    if not raw.strip():
        return None
    try:
        data = (await asyncio.to_thread(json.loads, raw) if len(raw) > BIG_BODY
                else json.loads(raw))
    except ValueError as exc:
        raise UpstreamError("google answered a malformed payload (not JSON)") from exc
    if not isinstance(data, dict):
        raise UpstreamError("google answered a malformed payload (not an object)")
    return data
