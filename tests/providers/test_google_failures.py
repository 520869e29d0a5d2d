"""Google failures: throttling with backoff and Retry-After, 5xx, timeouts, malformed
payloads (mirror untouched), 401 -> refresh and one retry."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from proxy.core.model import EventDraft
from proxy.errors import (
    Forbidden,
    UpstreamAuthError,
    UpstreamError,
    UpstreamNotFound,
    UpstreamThrottled,
    UpstreamTimeout,
)
from proxy.providers.google_transport import RetryPolicy
from tests.fixtures.google_harness import GoogleEnv, start_google, stop_google
from tests.fixtures.google_state import CAL_EVENTS, CAL_READ, CONTACTS_READ
from tests.providers.contract import window


@pytest.fixture
async def env() -> AsyncIterator[GoogleEnv]:
    env = await start_google()
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    env.emulator.add_simple_event(env.email, "Board meeting", start, start + timedelta(hours=1))
    try:
        yield env
    finally:
        await stop_google(env)



@pytest.mark.parametrize("reason", ["rateLimitExceeded", "userRateLimitExceeded"])
async def test_403_rate_limit_recovers_with_backoff(env: GoogleEnv, reason: str) -> None:
    env.emulator.throttle(status=403, reason=reason, times=2)
    page = await env.provider.sync_events(env.calendar_id, None, window())
    assert page.done and len(page.changed) == 1
    assert env.emulator.requests[f"/calendar/v3/calendars/{env.email}/events"] == 3


async def test_429_honours_retry_after(env: GoogleEnv) -> None:
    env.emulator.throttle(status=429, retry_after=0.3)
    began = time.monotonic()
    page = await env.provider.sync_events(env.calendar_id, None, window())
    assert page.done and time.monotonic() - began >= 0.3


async def test_persistent_throttling_becomes_503_with_retry_after(env: GoogleEnv) -> None:
    env.emulator.throttle(status=429, retry_after=30, times=5)
    began = time.monotonic()
    with pytest.raises(UpstreamThrottled) as caught:
        await env.provider.sync_events(env.calendar_id, None, window())
    assert time.monotonic() - began < 1  # 30 s is beyond the budget: answer at once
    assert caught.value.status == 503 and caught.value.retry_after == 30


async def test_throttling_beyond_retries_is_throttled(env: GoogleEnv) -> None:
    env.emulator.throttle(status=403, times=10)
    with pytest.raises(UpstreamThrottled):
        await env.provider.sync_events(env.calendar_id, None, window())


async def test_server_error_is_502_naming_status(env: GoogleEnv) -> None:
    env.emulator.fail(500)
    with pytest.raises(UpstreamError) as caught:
        await env.provider.sync_events(env.calendar_id, None, window())
    assert caught.value.status == 502 and "500" in caught.value.message


async def test_timeout_is_504(env: GoogleEnv) -> None:
    provider, _ = await env.provider_for(env.email, policy=RetryPolicy(timeout=0.2))
    env.emulator.slow(0.5)
    with pytest.raises(UpstreamTimeout) as caught:
        await provider.sync_events(env.calendar_id, None, window())
    assert caught.value.status == 504


@pytest.mark.parametrize("body", [
    b'{"items": [{"id"',  # truncated JSON
    b'["not", "an", "object"]',
    b'{"items": {"id": "x"}, "nextSyncToken": "t"}',
    b'{"items": [{"id": "x", "start": {"dateTime": "yesterday"}, "end": {}}],'
    b' "nextSyncToken": "t"}',
    b'{"items": [{"id": "x", "start": {"date": "2026-01-01"}, "end": {"date": "2026-01-02"},'
    b' "attendees": "Board meeting"}], "nextSyncToken": "t"}',
    b'{"items": []}',  # neither nextPageToken nor nextSyncToken
])
async def test_malformed_payload_is_502_and_returns_nothing(env: GoogleEnv, body: bytes) -> None:
    env.emulator.malformed(body=body)
    with pytest.raises(UpstreamError) as caught:
        await env.provider.sync_events(env.calendar_id, None, window())
    assert caught.value.status == 502 and "malformed" in caught.value.message
    assert "Board meeting" not in caught.value.message


async def test_expired_access_token_is_refreshed_once(env: GoogleEnv) -> None:
    env.emulator.expire_access_tokens(env.email)
    page = await env.provider.sync_events(env.calendar_id, None, window())
    assert page.done and env.tokens.refreshes == 1
    assert env.emulator.token_requests["/token"] == 2  # the code exchange, then one refresh


async def test_revoked_refresh_token_is_auth_error(env: GoogleEnv) -> None:
    env.emulator.refresh_tokens.clear()
    env.emulator.expire_access_tokens(env.email)
    with pytest.raises(UpstreamAuthError):
        await env.provider.list_calendars()


async def test_401_after_refresh_is_auth_error(env: GoogleEnv) -> None:
    body = {"error": {"errors": [{"domain": "global", "reason": "authError",
                                  "message": "Invalid Credentials"}],
                      "code": 401, "message": "Invalid Credentials"}}
    env.emulator.fail(401, body, times=2)
    with pytest.raises(UpstreamAuthError):
        await env.provider.list_calendars()
    assert env.tokens.refreshes == 1


async def test_missing_event_is_not_found(env: GoogleEnv) -> None:
    with pytest.raises(UpstreamNotFound):
        await env.provider.get_event(env.calendar_id, "nosuchevent")
    with pytest.raises(UpstreamNotFound):
        await env.provider.delete_event(env.calendar_id, "nosuchevent")


async def test_read_only_grant_refuses_writes_with_integration_read_only(env: GoogleEnv) -> None:
    env.emulator.deny_scopes(env.email, CAL_EVENTS)
    provider, tokens = await env.provider_for(env.email, scopes=(
        "openid", "email", CAL_READ, CAL_EVENTS, CONTACTS_READ))
    assert CAL_EVENTS not in tokens.granted and CAL_READ in tokens.granted
    page = await provider.sync_events(env.calendar_id, None, window())
    assert page.done and len(page.changed) == 1  # reads still work
    start = datetime.now(UTC) + timedelta(days=2)
    with pytest.raises(Forbidden) as caught:
        await provider.create_event(env.calendar_id, EventDraft(
            title="x", start=start, end=start + timedelta(hours=1), time_zone="UTC"))
    assert caught.value.code == "integration_read_only" and caught.value.status == 403
