"""The real EWS provider behind calproxy's API: connect, refusals, reads, writes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.api.conftest import Cloud
from tests.api.helpers import NEAR as WINDOW
from tests.api.helpers import NOW

EXEC = "exec@acme.example"


async def connect(cloud: Cloud, password: str = "pw-exec", **extra: str) -> tuple[int, dict]:
    body = {"service": "exchange_ews", "ews_url": cloud.live.ids["ews_url"],
            "username": EXEC, "password": password, **extra}
    status, answer, _ = await cloud.live.call("exec", "POST", "/v1/me/integrations", json=body)
    return status, answer


async def test_exchange_connects_at_once_and_serves_events(exchange: Cloud) -> None:
    ews = exchange.google  # the EWS emulator rides in the second slot
    ews.add_event(EXEC, "Budget review", NOW + timedelta(days=1),
                  NOW + timedelta(days=1, hours=1), time_zone="Pacific Standard Time")
    status, answer = await connect(exchange)
    assert status == 201 and answer["status"] == "connected"
    assert any("full access" in w for w in answer["warnings"])
    status, body, _ = await exchange.live.call("exec", "GET", f"/v1/users/me/events?{WINDOW}")
    assert status == 200
    [event] = body["events"]
    assert event["title"] == "Budget review" and event["service"] == "exchange_ews"
    assert event["time_zone"] == "America/Los_Angeles"
    status, created, _ = await exchange.live.call("exec", "POST", "/v1/users/me/events", json={
        "title": "Planning", "start": (NOW + timedelta(days=2)).isoformat(),
        "end": (NOW + timedelta(days=2, hours=1)).isoformat()})
    assert status == 201, created
    _, body, _ = await exchange.live.call("exec", "GET", f"/v1/users/me/events?{WINDOW}")
    assert [e["title"] for e in body["events"]] == ["Budget review", "Planning"]


async def test_wrong_password_stores_nothing(exchange: Cloud) -> None:
    status, answer = await connect(exchange, password="wrong")
    assert status == 422 and answer["error"]["code"] == "ews_auth_failed"
    assert "wrong" not in answer["error"]["message"]
    _, listed, _ = await exchange.live.call("exec", "GET", "/v1/me/integrations")
    assert listed["integrations"] == []


async def test_hosts_not_allowed_are_refused(exchange: Cloud) -> None:
    status, answer = await connect(exchange, ews_url="https://mail.evil.example/EWS/Exchange.asmx")
    assert status == 422 and answer["error"]["code"] == "ews_host_not_allowed"
    await exchange.live.call("admin", "PATCH", "/v1/account/settings",
                             json={"ews_hosts": {"value": ["localhost"]}})
    status, answer = await connect(exchange)  # 127.0.0.1 is no longer listed
    assert status == 422 and answer["error"]["code"] == "ews_host_not_allowed"


async def test_ews_o365_connects_through_oauth(exchange: Cloud,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the emulator speaks plain http
    exchange.google.add_event(EXEC, "O365 meeting", NOW + timedelta(days=1),
                              NOW + timedelta(days=1, hours=1))
    status, answer, _ = await exchange.live.call("exec", "POST", "/v1/me/integrations", json={
        "service": "ews_o365", "ews_url": exchange.live.ids["ews_url"]})
    assert status == 201 and "EWS.AccessAsUser.All" in answer["authorize_url"]
    async with exchange.live.http.get(answer["authorize_url"]) as response:
        connected = await response.json()
    assert response.status == 200 and connected["status"] == "connected", connected
    _, body, _ = await exchange.live.call("exec", "GET", f"/v1/users/me/events?{WINDOW}")
    assert [e["title"] for e in body["events"]] == ["O365 meeting"]


async def test_contacts_deleted_upstream_leave_the_mirror(exchange: Cloud) -> None:
    ews = exchange.google
    ada = ews.add_contact(EXEC, "Ada", "Lovelace", emails=["ada@example.com"])
    ews.add_contact(EXEC, "Grace", "Hopper")
    await connect(exchange)
    await exchange.live.call("admin", "PATCH", "/v1/account/settings",
                             json={"permissions": {"value": {"contacts": "read"}}})
    _, body, _ = await exchange.live.call("exec", "GET", "/v1/users/me/contacts")
    assert sorted(c["given_name"] for c in body["contacts"]) == ["Ada", "Grace"]
    ews.delete(EXEC, ada)
    _, body, _ = await exchange.live.call("exec", "GET", "/v1/users/me/contacts")
    assert [c["given_name"] for c in body["contacts"]] == ["Grace"]


def _span(start: datetime, days: int) -> str:
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    return f"start={start.strftime(stamp)}&end={(start + timedelta(days=days)).strftime(stamp)}"


@pytest.mark.parametrize("exchange", [{"sync_past_days": 400, "sync_future_days": 400}],
                         indirect=True)
async def test_a_window_over_two_years_serves_events(exchange: Cloud) -> None:
    """CALPROXY_SYNC_PAST_DAYS=400 / FUTURE_DAYS=400: 801 days, more than the two years
    one CalendarView may span; the reads answer the events, not 502."""
    ews = exchange.google
    ews.add_event(EXEC, "Last year", NOW - timedelta(days=390),
                  NOW - timedelta(days=390, hours=-1))
    ews.add_event(EXEC, "Next year", NOW + timedelta(days=390),
                  NOW + timedelta(days=390, hours=1))
    status, _ = await connect(exchange)
    assert status == 201
    for start, title in ((NOW - timedelta(days=395), "Last year"),
                         (NOW + timedelta(days=385), "Next year")):
        status, body, _ = await exchange.live.call(
            "exec", "GET", f"/v1/users/me/events?{_span(start, 10)}")
        assert status == 200, body
        assert [e["title"] for e in body["events"]] == [title]


async def test_throttled_exchange_is_503_with_retry_after(exchange: Cloud) -> None:
    """HTTP 429 + Retry-After + ErrorServerBusy from Exchange, longer than calproxy waits
    within a request: 503 upstream_throttled with Retry-After, on a read and on a write."""
    ews = exchange.google
    ews.add_event(EXEC, "Budget review", NOW + timedelta(days=1),
                  NOW + timedelta(days=1, hours=1))
    status, _ = await connect(exchange)
    assert status == 201
    ews.fail_next("throttle", operation="FindItem", status=429, retry_after=30, times=3)
    status, body, response = await exchange.live.call(
        "exec", "GET", f"/v1/users/me/events?{WINDOW}")
    assert status == 503, body
    assert body["error"]["code"] == "upstream_throttled"
    assert response.headers["Retry-After"] == "30"
    assert "Budget" not in str(body)
    ews.failures.clear()
    ews.fail_next("throttle", operation="CreateItem", status=429, retry_after=45)
    status, body, response = await exchange.live.call(
        "exec", "POST", "/v1/users/me/events", json={
            "title": "Planning", "start": (NOW + timedelta(days=2)).isoformat(),
            "end": (NOW + timedelta(days=2, hours=1)).isoformat()})
    # the read's back-off paused this mailbox: the write waits for it without a request
    assert status == 503 and 25 <= int(response.headers["Retry-After"]) <= 30, body
    assert body["error"]["code"] == "upstream_throttled"
    assert len(ews.failures) == 1  # CreateItem was never sent
