"""What the Graph and EWS series-feed tests share: the span they read, and how they read a
feed, the ``/events`` listing, and both as comparable (start, end, title) triples."""

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

Triple = tuple[datetime, datetime, str]


async def feed_of(cloud: Cloud, detail: str) -> bytes:
    status, feed, _ = await cloud.live.call("exec", "POST", "/v1/me/feeds",
                                            json={"detail": detail})
    assert status == 201, feed
    async with cloud.live.http.get(feed["url"]) as response:
        assert response.status == 200
        return await response.read()


async def events_of(cloud: Cloud, user: str = EXEC) -> list[dict[str, Any]]:
    status, body, _ = await cloud.live.call("exec", "GET", f"/v1/users/{user}/events?{QUERY}")
    assert status == 200, body
    return list(body["events"])


def expanded(feed: bytes) -> list[Triple]:
    calendar = icalendar.Calendar.from_ical(feed)
    return sorted((e.decoded("DTSTART"), e.decoded("DTEND"), str(e["SUMMARY"]))
                  for e in recurring_ical_events.of(calendar).between(*SPAN))


def listed(events: list[dict[str, Any]]) -> list[Triple]:
    return sorted((datetime.fromisoformat(e["start"]), datetime.fromisoformat(e["end"]),
                   e["title"]) for e in events)
