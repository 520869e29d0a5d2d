"""Feeds over real HTTP: management, conditional requests, gzip, HEAD, revocation."""

from __future__ import annotations

import gzip

import icalendar

from proxy.core.model import Sensitivity
from tests.api.conftest import Live
from tests.api.helpers import seed


async def make_feed(live: Live, **body: object) -> dict[str, str]:
    status, feed, _ = await live.call("exec", "POST", "/v1/me/feeds", json=body)
    assert status == 201, feed
    return dict(feed)


async def test_feed_is_a_calendar_with_validators_and_304(world: Live) -> None:
    seed(world, title="Board meeting", location="https://zoom.us/j/1 Room 4")
    feed = await make_feed(world, detail="limited")
    async with world.http.get(feed["url"]) as response:
        body = await response.read()
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
        assert "max-age" in response.headers["Cache-Control"]
    calendar = icalendar.Calendar.from_ical(body)
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Board meeting"
    assert "zoom.us" not in body.decode() and "Room 4" in str(event["LOCATION"])
    async with world.http.get(feed["url"], headers={"If-None-Match": etag}) as response:
        assert response.status == 304 and await response.read() == b""
    async with world.http.get(feed["url"], headers={"If-Modified-Since": modified}) as response:
        assert response.status == 304
    seed(world, title="New meeting")
    async with world.http.get(feed["url"], headers={"If-None-Match": etag}) as response:
        assert response.status == 200 and response.headers["ETag"] != etag


async def test_gzip_and_head(world: Live) -> None:
    seed(world, title="Board meeting")
    feed = await make_feed(world, detail="busy")
    async with world.http.get(feed["url"], headers={"Accept-Encoding": "gzip"},
                              auto_decompress=False) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(await response.read()).startswith(b"BEGIN:VCALENDAR")
    async with world.http.head(feed["url"]) as response:
        assert response.status == 200 and await response.read() == b""


async def test_detail_levels_and_private_events(world: Live) -> None:
    seed(world, title="Merger", sensitivity=Sensitivity.PRIVATE)
    for detail, private, expected in (("busy", False, "Busy"), ("full", False, "Private event"),
                                      ("full", True, "Merger")):
        feed = await make_feed(world, detail=detail, include_private=private)
        async with world.http.get(feed["url"]) as response:
            [event] = icalendar.Calendar.from_ical(await response.read()).walk("VEVENT")
        assert str(event["SUMMARY"]) == expected
    status, body, _ = await world.call("exec", "POST", "/v1/me/feeds",
                                       json={"detail": "busy", "include_private": True})
    assert status == 400 and "include_private" in body["error"]["message"]


async def test_revoked_and_unknown_secrets_are_the_same_404(world: Live) -> None:
    feed = await make_feed(world)
    status, listed, _ = await world.call("exec", "GET", "/v1/me/feeds")
    assert [f["id"] for f in listed["feeds"]] == [feed["id"]]
    assert "url" not in listed["feeds"][0]  # the secret is shown once only
    status, _, _ = await world.call("exec", "DELETE", f"/v1/me/feeds/{feed['id']}")
    assert status == 204
    async with world.http.get(feed["url"]) as revoked:
        revoked_body = await revoked.read()
    async with world.http.get(world.url + "/feeds/not-a-secret.ics") as unknown:
        unknown_body = await unknown.read()
    assert revoked.status == unknown.status == 404 and revoked_body == unknown_body


async def test_hidden_edit_times_do_not_show(world: Live) -> None:
    from datetime import UTC, datetime

    edited = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    seed(world, title="Merger", sensitivity=Sensitivity.PRIVATE, updated=edited)
    for detail in ("busy", "limited", "full"):
        feed = await make_feed(world, detail=detail)
        async with world.http.get(feed["url"]) as response:
            body = await response.read()
            assert "2021" not in response.headers["Last-Modified"]
        assert b"20210304" not in body


async def test_feed_expands_to_exactly_the_events_the_api_returns(world: Live) -> None:
    from dataclasses import replace as _replace
    from datetime import UTC, datetime

    import recurring_ical_events

    from proxy.core.model import EventStatus, Recurrence
    from tests.api.helpers import WINDOW, at

    master = seed(world, title="Standup", start=at(1, 9), time_zone="Europe/Berlin",
                  rrule=("FREQ=DAILY;COUNT=5",))
    key = world.mailbox("exec")
    moved = _replace(master, provider_id="moved", rrule=(), title="Standup (late)",
                     start=at(2, 15), end=at(2, 16),
                     recurrence=Recurrence(master.provider_id, at(2, 9), True))
    cancelled = _replace(master, provider_id="gone", rrule=(), start=at(3, 9), end=at(3, 10),
                         status=EventStatus.CANCELLED,
                         recurrence=Recurrence(master.provider_id, at(3, 9)))
    world.backend.put_event(key, moved)
    world.backend.put_event(key, cancelled)
    seed(world, title="Lunch", start=at(4, 12))
    seed(world, title="Offsite", start=datetime(2026, 12, 5).date(),
         end=datetime(2026, 12, 6).date(), all_day=True)

    _, body, _ = await world.call("exec", "GET", f"/v1/users/me/events?{WINDOW}")
    from_api = sorted((moment_key(e["start"]), moment_key(e["end"]), e["title"])
                      for e in body["events"])
    feed = await make_feed(world, detail="full", include_private=True, past_days=60)
    async with world.http.get(feed["url"]) as response:
        calendar = icalendar.Calendar.from_ical(await response.read())
    window = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))
    from_feed = sorted(
        (moment_key(c["DTSTART"].dt.isoformat()), moment_key(c["DTEND"].dt.isoformat()),
         str(c["SUMMARY"])) for c in recurring_ical_events.of(calendar).between(*window))
    assert from_feed == from_api
    assert len(from_api) == 6  # 5 standups - 1 cancelled, lunch, offsite


def moment_key(text: str) -> str:
    """Timed values as their UTC instant, all-day ones as their date."""
    from datetime import UTC, datetime

    if "T" not in text:
        return text
    return datetime.fromisoformat(text).astimezone(UTC).isoformat()


async def test_feeds_follow_the_account_policy(world: Live) -> None:
    feed = await make_feed(world, detail="busy")
    await world.call("admin", "PATCH", "/v1/account/settings",
                     json={"permissions": {"value": {"calendar": "none"}}})
    async with world.http.get(feed["url"]) as response:
        body = await response.json()
    assert response.status == 403 and body["error"]["code"] == "policy_no_access"
