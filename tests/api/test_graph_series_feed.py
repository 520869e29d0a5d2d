"""A Graph series in a feed: one VEVENT with RRULE, overrides and EXDATEs (issue 9 item 9).

calproxy over the real Graph provider and the Graph emulator: the series master is
fetched and its patternedRecurrence converted; ``/events`` still lists Graph's own
occurrences, and expanding the feed yields exactly them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from tests.api.conftest import Cloud
from tests.api.helpers import NOW

EXEC = "exec@acme.example"
BERLIN = ZoneInfo("Europe/Berlin")
SPAN = (NOW - timedelta(days=29), NOW + timedelta(days=300))  # inside feed and mirror
QUERY = (f"start={SPAN[0].strftime('%Y-%m-%dT%H:%M:%SZ')}"
         f"&end={SPAN[1].strftime('%Y-%m-%dT%H:%M:%SZ')}")


def _first() -> datetime:
    day = datetime.now(BERLIN).date() + timedelta(days=2)
    return datetime(day.year, day.month, day.day, 9, tzinfo=BERLIN)


def _weekly(cloud: Cloud, **fields: Any) -> tuple[str, list[datetime]]:
    """A weekly series of 8, its 3rd occurrence moved a day and 4 hours, its 5th deleted."""
    g, first = cloud.microsoft.graph, _first()
    master = g.add_series(EXEC, fields.pop("subject", "Weekly 1:1"), first,
                          first + timedelta(minutes=30), "W. Europe Standard Time",
                          {"type": "weekly", "daysOfWeek": [first.strftime("%A").lower()],
                           "firstDayOfWeek": "monday"}, occurrences=8, **fields)
    slots = [(first.replace(tzinfo=None) + timedelta(weeks=k)).replace(tzinfo=BERLIN)
             for k in range(8)]
    g.move_occurrence(EXEC, master, slots[2], slots[2] + timedelta(days=1, hours=4),
                      slots[2] + timedelta(days=1, hours=4, minutes=30))
    g.cancel_occurrence(EXEC, master, slots[4])
    return master, slots


async def _feed(cloud: Cloud, detail: str) -> bytes:
    status, feed, _ = await cloud.live.call("exec", "POST", "/v1/me/feeds",
                                            json={"detail": detail})
    assert status == 201, feed
    async with cloud.live.http.get(feed["url"]) as response:
        assert response.status == 200
        return await response.read()


async def _events(cloud: Cloud) -> list[dict[str, Any]]:
    status, body, _ = await cloud.live.call("exec", "GET", f"/v1/users/{EXEC}/events?{QUERY}")
    assert status == 200, body
    return list(body["events"])


def _expanded(feed: bytes) -> list[tuple[datetime, datetime, str]]:
    calendar = icalendar.Calendar.from_ical(feed)
    return sorted((e.decoded("DTSTART"), e.decoded("DTEND"), str(e["SUMMARY"]))
                  for e in recurring_ical_events.of(calendar).between(*SPAN))


def _listed(events: list[dict[str, Any]]) -> list[tuple[datetime, datetime, str]]:
    return sorted((datetime.fromisoformat(e["start"]), datetime.fromisoformat(e["end"]),
                   e["title"]) for e in events)


async def test_a_weekly_series_is_one_vevent_with_an_override_and_an_exdate(
        cloud: Cloud) -> None:
    _, slots = _weekly(cloud)
    await cloud.live.connect("exec", "graph")
    events = await _events(cloud)
    # /events: Graph's occurrences as before, the moved one at its new time, no master
    assert [datetime.fromisoformat(e["start"]) for e in events] == [
        slots[0], slots[1], slots[2] + timedelta(days=1, hours=4), slots[3], *slots[5:]]
    assert len({e["recurrence"]["series_id"] for e in events}) == 1
    feed = await _feed(cloud, "full")
    vevents = icalendar.Calendar.from_ical(feed).walk("VEVENT")
    assert len(vevents) == 2
    master = next(v for v in vevents if "RRULE" in v)
    override = next(v for v in vevents if "RECURRENCE-ID" in v)
    rule = master["RRULE"].to_ical().decode()
    assert "FREQ=WEEKLY" in rule and "COUNT=8" in rule and "WKST=MO" in rule
    assert [d.dt for d in master["EXDATE"].dts] == [slots[4]]
    assert override.decoded("RECURRENCE-ID") == slots[2]
    assert str(override["UID"]) == str(master["UID"])
    assert _expanded(feed) == _listed(events)


async def test_a_private_series_leaks_nothing_through_its_master(cloud: Cloud) -> None:
    _weekly(cloud, subject="SECRETMARK", sensitivity="private",
            body={"contentType": "text", "content": "SECRETMARK"},
            location={"displayName": "SECRETMARK"})
    await cloud.live.connect("exec", "graph")
    for detail in ("busy", "limited", "full"):
        feed = await _feed(cloud, detail)
        assert b"SECRETMARK" not in feed.replace(b"\r\n ", b"")
        assert len(icalendar.Calendar.from_ical(feed).walk("VEVENT")) == 2
        title = "Busy" if detail == "busy" else "Private event"
        assert {s for _, _, s in _expanded(feed)} == {title}
        assert len(_expanded(feed)) == 7
