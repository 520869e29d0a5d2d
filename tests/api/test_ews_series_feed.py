"""An EWS series in a feed: one VEVENT with RRULE, an override and an EXDATE (issue 9
item 9, EWS half).

calproxy over the real EWS provider and the EWS emulator: the RecurringMaster is fetched
with its Recurrence and converted through the core's Microsoft recurrence mapping;
``/events`` still lists Exchange's own occurrences, and expanding the feed yields exactly
them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import icalendar

from tests.api.conftest import Cloud
from tests.api.series_feed import BERLIN, EXEC, events_of, expanded, feed_of, listed


def _thursday() -> datetime:
    day = datetime.now(BERLIN).date() + timedelta(days=2)
    day += timedelta(days=(3 - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 9, tzinfo=BERLIN)


def _weekly(cloud: Cloud, **fields: Any) -> tuple[str, list[datetime]]:
    """A weekly Thursday 09:00 series of 8 in Berlin: the 3rd occurrence moved to Friday
    13:00, the 5th deleted."""
    ews, first = cloud.google, _thursday()
    master = ews.add_series(EXEC, fields.pop("subject", "Weekly sync"), first,
                            first + timedelta(minutes=30), days=("Thursday",), count=8,
                            first_day="Monday", time_zone="Europe/Berlin", **fields)
    slots = ews.occurrence_starts(EXEC, master)
    moved = (slots[2].astimezone(BERLIN) + timedelta(days=1)).replace(hour=13)
    ews.modify_occurrence(EXEC, master, slots[2], start=moved,
                          end=moved + timedelta(minutes=30))
    ews.delete_occurrence(EXEC, master, slots[4])
    return master, [s.astimezone(BERLIN) for s in slots]


async def _connect(cloud: Cloud) -> None:
    status, answer, _ = await cloud.live.call("exec", "POST", "/v1/me/integrations", json={
        "service": "exchange_ews", "ews_url": cloud.live.ids["ews_url"],
        "username": EXEC, "password": "pw-exec"})
    assert status == 201, answer






async def test_an_ews_series_is_one_vevent_with_an_override_and_an_exdate(
        exchange: Cloud) -> None:
    _, slots = _weekly(exchange)
    await _connect(exchange)
    events = await events_of(exchange, "me")
    # /events: Exchange's occurrences as before, the moved one at its new time, no master
    moved = (slots[2] + timedelta(days=1)).replace(hour=13)
    assert [datetime.fromisoformat(e["start"]) for e in events] == [
        slots[0], slots[1], moved, slots[3], *slots[5:]]
    assert len({e["recurrence"]["series_id"] for e in events}) == 1
    feed = await feed_of(exchange, "full")
    vevents = icalendar.Calendar.from_ical(feed).walk("VEVENT")
    assert len(vevents) == 2
    master = next(v for v in vevents if "RRULE" in v)
    override = next(v for v in vevents if "RECURRENCE-ID" in v)
    rule = master["RRULE"].to_ical().decode()
    assert "FREQ=WEEKLY" in rule and "COUNT=8" in rule and "BYDAY=TH" in rule
    assert "WKST=MO" in rule
    assert master.decoded("DTSTART") == slots[0]
    assert [d.dt for d in master["EXDATE"].dts] == [slots[4]]
    assert override.decoded("RECURRENCE-ID") == slots[2]
    assert override.decoded("DTSTART") == moved
    assert str(override["UID"]) == str(master["UID"])
    assert expanded(feed) == listed(events)


async def test_a_private_ews_series_leaks_nothing_through_its_master(
        exchange: Cloud) -> None:
    _weekly(exchange, subject="SECRETMARK", sensitivity="Private", body="SECRETMARK",
            location="SECRETMARK")
    await _connect(exchange)
    for detail in ("busy", "limited", "full"):
        feed = await feed_of(exchange, detail)
        assert b"SECRETMARK" not in feed.replace(b"\r\n ", b"")
        assert len(icalendar.Calendar.from_ical(feed).walk("VEVENT")) == 2
        title = "Busy" if detail == "busy" else "Private event"
        assert {s for _, _, s in expanded(feed)} == {title}
        assert len(expanded(feed)) == 7
