"""Rate limits (DESIGN §12): a token bucket per API token on ``/v1`` and per feed secret on
``/feeds``, so that one noisy client cannot starve the rest.

A bucket holds at most ``burst`` tokens and gains ``per_second`` a second; each request
takes one, and a request finding none is answered 429 ``rate_limited`` with
``Retry-After`` (whole seconds until a token is there), without touching the store or a
provider. Buckets are keyed by a hash of the token or secret (never the secret itself),
kept in memory per process, or, with ``CALPROXY_REDIS_URL``, in Redis, where one Lua script
refills and takes atomically on the server's clock so that every instance draws on the
same bucket. If Redis fails, requests pass (a limiter must not take the API down) and the
failure is logged by type. The OAuth callback, hooks, health, readiness and metrics are
never limited.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any, Protocol

from aiohttp import web

from proxy.config import Rate
from proxy.http.errors import error_response
from proxy.http.keys import SETTINGS

log = logging.getLogger(__name__)

#: buckets one process keeps in memory at most (least recently used dropped first)
MAX_LOCAL_BUCKETS = 100_000

# KEYS[1] the bucket; ARGV rate per second, burst. Returns the wait in milliseconds
# (0: allowed). Redis' own clock, so that instances with skewed clocks agree.
_TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]), tonumber(state[2])
if tokens == nil then tokens, at = burst, now end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate * 1000) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return wait
"""


class Buckets(Protocol):
    async def take(self, key: str, rate: Rate) -> float:
        """Take a token from ``key``'s bucket: 0 if there was one, else the seconds until
        there will be."""

    async def close(self) -> None: ...


class LocalBuckets:
    """Buckets of this process only."""

    def __init__(self) -> None:
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def take(self, key: str, rate: Rate) -> float:
        now = time.monotonic()
        tokens, at = self._buckets.pop(key, (float(rate.burst), now))
        tokens = min(float(rate.burst), tokens + (now - at) * rate.per_second)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / rate.per_second
        self._buckets[key] = (tokens - 1 if tokens >= 1 else tokens, now)
        if len(self._buckets) > MAX_LOCAL_BUCKETS:
            self._buckets.popitem(last=False)
        return wait

    async def close(self) -> None:
        self._buckets.clear()


class RedisBuckets:
    """Buckets shared by every instance through one Redis."""

    def __init__(self, url: str, prefix: str = "calproxy:ratelimit:") -> None:
        import redis.asyncio as redis

        self._redis: Any = redis.from_url(url)
        self._script = self._redis.register_script(_TAKE)
        self._prefix = prefix

    async def take(self, key: str, rate: Rate) -> float:
        try:
            waited = await self._script(keys=[self._prefix + key],
                                        args=[rate.per_second, rate.burst])
        except Exception as exc:  # Redis down or refusing: let the request through
            log.warning("rate limit: redis failed (%s); not limiting", type(exc).__name__)
            return 0.0
        return int(waited) / 1000

    async def close(self) -> None:
        await self._redis.aclose()


BUCKETS = web.AppKey("rate_buckets", Buckets)


def _key(kind: str, secret: str) -> str:
    return f"{kind}:{hashlib.sha256(secret.encode()).hexdigest()[:32]}"


def _limited(request: web.Request) -> tuple[str, Rate] | None:
    """Which bucket this request draws on, if any."""
    settings = request.app[SETTINGS]
    path = request.path
    if path.startswith("/v1/") and settings.rate_limit is not None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return _key("token", token.strip()), settings.rate_limit
    elif path.startswith("/feeds/") and settings.feed_rate_limit is not None:
        secret = request.match_info.get("secret")
        if secret:
            return _key("feed", secret), settings.feed_rate_limit
    return None


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """429 ``rate_limited`` with ``Retry-After`` once a bucket is empty."""
    limited = _limited(request)
    if limited is not None:
        wait = await request.app[BUCKETS].take(*limited)
        if wait > 0:
            retry = max(1, math.ceil(wait))
            return error_response(
                429, "rate_limited",
                f"Too many requests: slow down and retry after {retry} s.",
                {"Retry-After": str(retry)})
    response: web.StreamResponse = await handler(request)
    return response


async def buckets_service(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: the app's buckets, in Redis when one is configured."""
    url = app[SETTINGS].redis_url
    app[BUCKETS] = RedisBuckets(url) if url else LocalBuckets()
    yield
    await app[BUCKETS].close()
