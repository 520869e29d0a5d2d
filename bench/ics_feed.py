"""Render time of a 10,000-event feed: the fast writer against icalendar's component API.

Run: ``.venv/bin/python bench/ics_feed.py`` from the repository root. Prints the best of
a few runs for each path and their ratio. Both paths get the same redacted events
(``full`` detail) and publish the same components (tests/ics/test_equivalence.py).
Then the same 10,000 events are served over HTTP by calproxy (SQLite store, in-memory
provider): the first GET of the feed (sync, store, render), a repeated GET of unchanged
data (answered from the rendering cache: never rendered twice) and a conditional GET (304).
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from proxy.core.mirror import MirroredEvent, event_public_id
from proxy.core.model import Attendee, Event, Person, Sensitivity, Service, ShowAs
from proxy.ics import audience_for, render_feed
from proxy.ics.reference import reference_feed
from proxy.ics.timezones import vtimezone
from proxy.redaction import Detail, VisibleEvent, redact

COUNT = 10_000
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC", "Australia/Sydney"]
GENERATED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def make_event(n: int, rng: random.Random) -> MirroredEvent:
    zone = rng.choice(ZONES)
    start = datetime(2026, 1, 5, 8, tzinfo=ZoneInfo(zone)) + timedelta(hours=rng.randrange(0, 8760))
    all_day = n % 10 == 0
    ev = Event(
        provider_id=f"evt-{n}", calendar_id="cal", service=Service.GRAPH,
        start=start.date() if all_day else start,
        end=(start.date() + timedelta(days=1)) if all_day else start + timedelta(minutes=45),
        time_zone=zone, all_day=all_day, ical_uid=f"{n:08d}-uid@outlook.example",
        title=f"Project review #{n}: budget, hiring; next steps",
        description="Agenda:\n1. Numbers, forecasts\n2. Risks; owners\n" + "Notes. " * 12,
        location="Room 4.12, Building B; https://teams.microsoft.com/l/meetup-join/abc",
        show_as=rng.choice([ShowAs.BUSY, ShowAs.BUSY, ShowAs.TENTATIVE, ShowAs.FREE]),
        sensitivity=Sensitivity.PRIVATE if n % 7 == 0 else Sensitivity.NORMAL,
        organizer=Person("Alex Exec", "alex@example.com"),
        attendees=(Attendee("Sam Assistant", "sam@example.com"),
                   Attendee("Kim Müller", "kim@example.com")),
        join_url="https://teams.microsoft.com/l/meetup-join/abc",
        categories=("Work", "Review"),
        rrule=("FREQ=WEEKLY;BYDAY=MO;COUNT=20",) if n % 50 == 0 else (),
        created=GENERATED_AT - timedelta(days=30), updated=GENERATED_AT - timedelta(days=1),
        sequence=n % 3,
    )
    return MirroredEvent(event_public_id("cal", ev.provider_id), "cal", "int", ev)


def best_of(runs: int, fn: Callable[[], bytes]) -> tuple[float, bytes]:
    best, out = float("inf"), b""
    for _ in range(runs):
        began = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - began)
    return best, out


def main() -> None:
    rng = random.Random(6)
    items = [make_event(n, rng) for n in range(COUNT)]
    audience = audience_for(Detail.FULL)
    began = time.perf_counter()
    visible: list[VisibleEvent] = [v for i in items if (v := redact(i, audience)) is not None]
    redact_time = time.perf_counter() - began
    began = time.perf_counter()
    for zone in ZONES:
        vtimezone(zone)
    zone_time = time.perf_counter() - began

    def ours() -> bytes:
        return render_feed(visible, name="Bench", detail=Detail.FULL, generated_at=GENERATED_AT)

    def theirs() -> bytes:
        return reference_feed(visible, name="Bench", detail=Detail.FULL,
                              generated_at=GENERATED_AT)

    fast, body = best_of(5, ours)
    slow, _ = best_of(2, theirs)
    print(f"events: {COUNT} ({len(visible)} after redaction), feed size {len(body) / 1e6:.1f} MB")
    print(f"redact():                   {redact_time * 1000:8.1f} ms")
    print(f"VTIMEZONE builds (once):    {zone_time * 1000:8.1f} ms for {len(ZONES)} zones")
    print(f"render_feed (fast writer):  {fast * 1000:8.1f} ms")
    print(f"icalendar components+to_ical:{slow * 1000:7.1f} ms")
    print(f"ratio:                      {slow / fast:8.1f}x")


async def http_figures(items: list[MirroredEvent]) -> None:
    """Serve the events through calproxy and time the three kinds of feed request."""
    from dataclasses import replace

    import aiohttp

    from bench.served import served

    # moved to start today, so that every event lies in the mirrored window
    shift = timedelta(days=(datetime.now(UTC).date() - datetime(2026, 1, 5).date()).days)
    async with served() as bench:
        for item in items:
            ev = item.event
            bench.backend.put_event(bench.mailbox, replace(
                ev, calendar_id="primary", start=ev.start + shift, end=ev.end + shift))
        _, secret = await bench.store.create_feed(bench.owner.id, "full", False, 400, 400)
        url = f"{bench.url}/feeds/{secret}.ics"
        async with aiohttp.ClientSession() as http:
            first, etag, body = await timed_get(http, url, {})
            again = min([(await timed_get(http, url, {}))[0] for _ in range(5)])
            conditional = min([(await timed_get(http, url, {"If-None-Match": etag}))[0]
                               for _ in range(5)])
    events = body.count(b"BEGIN:VEVENT")
    print(f"HTTP first GET (sync, store, render): {first * 1000:8.1f} ms "
          f"({events} VEVENTs, {len(body) / 1e6:.1f} MB)")
    print(f"HTTP repeat GET (cached rendering):   {again * 1000:8.1f} ms")
    print(f"HTTP 304 (If-None-Match):             {conditional * 1000:8.1f} ms")


async def timed_get(http: Any, url: str, headers: dict[str, str]) -> tuple[float, str, bytes]:
    began = time.perf_counter()
    async with http.get(url, headers=headers) as response:
        body = await response.read()
        assert response.status in (200, 304), response.status
        return time.perf_counter() - began, response.headers["ETag"], body


if __name__ == "__main__":
    import asyncio

    main()
    rng = random.Random(6)
    asyncio.run(http_figures([make_event(n, rng) for n in range(COUNT)]))
