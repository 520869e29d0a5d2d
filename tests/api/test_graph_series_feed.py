"""A Graph series in a feed: one VEVENT with RRULE, overrides and EXDATEs (issue 9 item 9).

calproxy over the real Graph provider and the Graph emulator: the series master is
fetched and its patternedRecurrence converted; ``/events`` still lists Graph's own
occurrences, and expanding the feed yields exactly them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import icalendar

from tests.api.conftest import Cloud
from tests.api.series_feed import BERLIN, EXEC, events_of, expanded, feed_of, listed


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






async def test_a_weekly_series_is_one_vevent_with_an_override_and_an_exdate(
        cloud: Cloud) -> None:
    _, slots = _weekly(cloud)
    await cloud.live.connect("exec", "graph")
    events = await events_of(cloud)
    # /events: Graph's occurrences as before, the moved one at its new time, no master
    assert [datetime.fromisoformat(e["start"]) for e in events] == [
        slots[0], slots[1], slots[2] + timedelta(days=1, hours=4), slots[3], *slots[5:]]
    assert len({e["recurrence"]["series_id"] for e in events}) == 1
    feed = await feed_of(cloud, "full")
    vevents = icalendar.Calendar.from_ical(feed).walk("VEVENT")
    assert len(vevents) == 2
    master = next(v for v in vevents if "RRULE" in v)
    override = next(v for v in vevents if "RECURRENCE-ID" in v)
    rule = master["RRULE"].to_ical().decode()
    assert "FREQ=WEEKLY" in rule and "COUNT=8" in rule and "WKST=MO" in rule
    assert [d.dt for d in master["EXDATE"].dts] == [slots[4]]
    assert override.decoded("RECURRENCE-ID") == slots[2]
    assert str(override["UID"]) == str(master["UID"])
    assert expanded(feed) == listed(events)


async def test_a_private_series_leaks_nothing_through_its_master(cloud: Cloud) -> None:
    _weekly(cloud, subject="SECRETMARK", sensitivity="private",
            body={"contentType": "text", "content": "SECRETMARK"},
            location={"displayName": "SECRETMARK"})
    await cloud.live.connect("exec", "graph")
    for detail in ("busy", "limited", "full"):
        feed = await feed_of(cloud, detail)
        assert b"SECRETMARK" not in feed.replace(b"\r\n ", b"")
        assert len(icalendar.Calendar.from_ical(feed).walk("VEVENT")) == 2
        title = "Busy" if detail == "busy" else "Private event"
        assert {s for _, _, s in expanded(feed)} == {title}
        assert len(expanded(feed)) == 7
