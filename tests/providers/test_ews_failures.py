"""EWS failures: busy servers, HTTP and SOAP errors, malformed answers, timeouts, OAuth."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from proxy.core.model import EventDraft
from proxy.errors import (
    Unprocessable,
    UpstreamAuthError,
    UpstreamError,
    UpstreamThrottled,
    UpstreamTimeout,
)
from tests.fixtures.ews_harness import USER, EwsHarness, ews_harness
from tests.providers.contract import window


@pytest.fixture
async def harness(aiohttp_server: Any) -> AsyncIterator[EwsHarness]:
    async with ews_harness(aiohttp_server) as h:
        await h.seed_event("Secret topic", datetime.now(UTC) + timedelta(days=1),
                           datetime.now(UTC) + timedelta(days=1, hours=1))
        await h.provider.list_calendars()  # sign in before injecting failures
        yield h


async def sync(h: EwsHarness, cursor: str | None = None) -> Any:
    return await h.provider.sync_events(h.calendar_id, cursor, window())


async def test_busy_server_back_off_then_recovery(harness: EwsHarness) -> None:
    harness.emu.fail_next("busy", operation="FindItem", back_off_ms=200)
    began = time.monotonic()
    page = await sync(harness)
    assert time.monotonic() - began >= 0.2
    assert [e.title for e in page.changed] == ["Secret topic"]
    assert harness.emu.calls["FindItem"] == 2


async def test_busy_server_beyond_budget_is_503_with_retry_after(harness: EwsHarness) -> None:
    harness.emu.fail_next("busy", back_off_ms=30_000)
    with pytest.raises(UpstreamThrottled) as caught:
        await sync(harness)
    assert caught.value.retry_after == 30 and caught.value.status == 503
    harness.emu.fail_next("http", status=503, times=5)
    with pytest.raises(UpstreamThrottled):
        await sync(harness)


@pytest.mark.parametrize(("kind", "options", "expected"), [
    ("http", {"status": 500}, "HTTP 500"),
    ("soap_error", {"code": "ErrorInternalServerError"}, "ErrorInternalServerError"),
    ("malformed", {}, "malformed"),
    ("redirect", {"code": "http://169.254.169.254/latest/meta-data"}, "redirect"),
])
async def test_upstream_errors_are_502_naming_the_cause(
        harness: EwsHarness, kind: str, options: dict[str, Any], expected: str) -> None:
    _, cursor = await _full(harness)
    harness.emu.fail_next(kind, operation="SyncFolderItems", **options)
    with pytest.raises(UpstreamError) as caught:
        await sync(harness, cursor)
    assert type(caught.value) is UpstreamError and caught.value.status == 502
    assert expected in caught.value.message
    assert "Secret" not in caught.value.message
    page = await sync(harness, cursor)  # the same cursor still works: nothing was consumed
    assert page.done


async def _full(h: EwsHarness) -> tuple[Any, str]:
    page = await sync(h)
    assert page.next_cursor
    return page, page.next_cursor


async def test_slow_answer_is_a_timeout(aiohttp_server: Any) -> None:
    async with ews_harness(aiohttp_server) as h:
        h.provider.session.timeout = 0.3
        h.emu.fail_next("slow", operation="GetFolder", delay=1.5)
        with pytest.raises(UpstreamTimeout) as caught:
            await h.provider.list_calendars()
        assert caught.value.status == 504


async def test_wrong_password_is_ews_auth_failed(harness: EwsHarness) -> None:
    provider = harness.connect(password="wrong")
    with pytest.raises(Unprocessable) as caught:
        await provider.check()
    assert caught.value.code == "ews_auth_failed"
    await provider.close()


async def test_auth_type_and_version_detected_once(harness: EwsHarness) -> None:
    provider = harness.connect()
    await provider.check()
    await provider.close()
    probes = harness.emu.refused
    again = harness.connect()
    await again.list_calendars()
    await again.close()
    assert harness.emu.refused == probes  # pinned: no probe before the second sign-in


class Tokens:
    def __init__(self, current: str, fresh: str) -> None:
        self.current, self.fresh, self.refreshed = current, fresh, 0

    async def access_token(self) -> str:
        return self.current

    async def refresh(self) -> str:
        self.refreshed += 1
        self.current = self.fresh
        return self.current


async def test_o365_bearer_token_refreshed_once_after_401(
        harness: EwsHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the emulator speaks http
    harness.emu.tokens["tok-fresh"] = USER
    tokens = Tokens("tok-expired", "tok-fresh")
    provider = harness.connect(tokens=tokens)
    calendars = await provider.list_calendars()
    assert calendars[0].provider_id == harness.calendar_id
    assert tokens.refreshed == 1
    await provider.close()

    dead = Tokens("tok-expired", "tok-also-bad")
    provider = harness.connect(tokens=dead)
    with pytest.raises(UpstreamAuthError):
        await provider.list_calendars()
    assert dead.refreshed == 1
    await provider.close()


@pytest.mark.parametrize("status", [429, 503])
async def test_throttling_answer_is_waited_out_then_retried(harness: EwsHarness,
                                                            status: int) -> None:
    """Exchange throttles with HTTP 429 (or 503), Retry-After and an ErrorServerBusy
    fault: the provider waits as told and retries, on reads and on writes."""
    harness.emu.fail_next("throttle", operation="FindItem", status=status, retry_after=1,
                          back_off_ms=500)
    began = time.monotonic()
    page = await sync(harness)
    assert time.monotonic() - began >= 1.0  # the longer of the two hints
    assert [e.title for e in page.changed] == ["Secret topic"]
    assert harness.emu.calls["FindItem"] == 2

    harness.emu.fail_next("throttle", operation="CreateItem", status=status,
                          back_off_ms=300)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    created = await harness.provider.create_event(harness.calendar_id, EventDraft(
        title="Planning", start=start, end=start + timedelta(hours=1)))
    assert created.title == "Planning" and harness.emu.calls["CreateItem"] == 2
    titles = [i.text("Subject") for i in harness.emu.mailbox(USER).items.values()]
    assert sorted(titles) == ["Planning", "Secret topic"]  # created once


@pytest.mark.parametrize("status", [429, 503])
async def test_throttling_beyond_the_budget_is_503_with_retry_after(
        harness: EwsHarness, status: int) -> None:
    harness.emu.fail_next("throttle", operation="GetItem", status=status, retry_after=30)
    with pytest.raises(UpstreamThrottled) as caught:
        await sync(harness)
    assert caught.value.status == 503 and caught.value.retry_after == 30
    assert f"HTTP {status}" in caught.value.message
    harness.emu.fail_next("throttle", operation="UpdateItem", status=status,
                          back_off_ms=20_000)
    page = await sync(harness)
    event = page.changed[0]
    with pytest.raises(UpstreamThrottled) as caught:
        await harness.provider.update_event(harness.calendar_id, event.provider_id,
                                            EventDraft(title="Renamed"))
    assert caught.value.retry_after == 20
