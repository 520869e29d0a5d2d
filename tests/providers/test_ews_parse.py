"""The XML parser reads what exchangelib's own object model reads, item by item.

The same GetItem answers of the emulator, once as exchangelib ``CalendarItem`` objects
(the library's parser) and once through :mod:`proxy.providers.ews_parse`: every field
calproxy uses must agree.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from proxy.core.model import Event, Service
from proxy.core.timeutil import to_utc
from proxy.providers import ews_ops as ops
from proxy.providers.ews_normalize import EWS_SENSITIVITY, FREE_BUSY, RESPONSES
from proxy.providers.ews_parse import to_event
from tests.fixtures.ews_harness import USER, EwsHarness, ews_harness

from .test_ews_sync import monday_at_nine_berlin


@pytest.fixture
async def harness(aiohttp_server: Any) -> AsyncIterator[EwsHarness]:
    async with ews_harness(aiohttp_server) as h:
        yield h


def _seed(h: EwsHarness) -> None:
    emu, now = h.emu, datetime.now(UTC).replace(microsecond=0, second=0)
    emu.add_event(USER, "Review & <budget>", now + timedelta(days=1),
                  now + timedelta(days=1, hours=1), time_zone="Pacific Standard Time",
                  sensitivity="Confidential", show_as="Tentative",
                  location="Room 4 https://acme.zoom.us/j/9", body="<p>A &amp; B</p>",
                  body_type="HTML", categories=["Red", "Blue"],
                  attendees=[("Ann", "ann@example.com", "required", "Accept"),
                             ("Bob", "bob@example.com", "optional", "Decline"),
                             ("Room", "room@example.com", "resource", "Unknown")])
    day = date.today() + timedelta(days=4)
    emu.add_event(USER, "Offsite", day, day + timedelta(days=3), all_day=True,
                  time_zone="Europe/London", show_as="OOF")
    start = monday_at_nine_berlin()
    master = emu.add_series(USER, "Standup", start, start + timedelta(minutes=15),
                            days=("Monday", "Friday"), count=4, time_zone="Europe/Berlin")
    slot = emu.occurrence_starts(USER, master)[1]
    emu.modify_occurrence(USER, master, slot, subject="Standup (late)",
                          start=slot + timedelta(hours=3), end=slot + timedelta(hours=4))


def _both(account: Any, folder: Any) -> list[tuple[Any, Any]]:
    now = datetime.now(UTC)
    hits = ops.calendar_view(account, folder, now - timedelta(days=1), now + timedelta(days=40))
    ids = [(h.id, h.changekey) for h in hits]
    objects = list(account.fetch(ids=ids, folder=folder, only_fields=list(ops.EVENT_FIELDS)))
    return list(zip(objects, ops.fetch(account, folder, ids), strict=True))


def _instant(value: Any) -> float:
    return float(value.timestamp())


def _agree(item: Any, event: Event) -> None:
    assert event.title == (item.subject or "") and event.location == (item.location or "")
    assert event.ical_uid == item.uid and event.all_day == bool(item.is_all_day)
    assert EWS_SENSITIVITY[event.sensitivity] == item.sensitivity
    assert FREE_BUSY[event.show_as] == item.legacy_free_busy_status
    assert event.categories == tuple(item.categories or ())
    assert event.sequence == item.appointment_sequence_number
    assert event.organizer is not None and event.organizer.email == item.organizer.email_address
    assert _instant(event.created) == _instant(item.datetime_created)
    assert _instant(event.updated) == _instant(item.last_modified_time)
    if event.all_day:
        assert event.start == item.start and event.end == item.end + timedelta(days=1)
    else:
        assert _instant(to_utc(event.start)) == _instant(item.start)
        assert _instant(to_utc(event.end)) == _instant(item.end)
        assert event.time_zone == (item._start_timezone.key if item._start_timezone
                                   else "UTC")
    people = [(a.mailbox.email_address, RESPONSES[a.response_type or "Unknown"])
              for group in (item.required_attendees, item.optional_attendees, item.resources)
              for a in group or ()]
    assert [(a.email, a.response) for a in event.attendees] == people
    if item.recurrence_id is not None and event.recurrence is not None:
        assert _instant(event.recurrence.original_start) == _instant(item.recurrence_id)


async def test_parser_agrees_with_exchangelib(harness: EwsHarness) -> None:
    _seed(harness)
    folder = await harness.provider._primary()
    pairs = await harness.provider.session.call(_both, folder)
    assert len(pairs) == 6  # two singles, four occurrences (one of them moved)
    for item, elem in pairs:
        _agree(item, to_event(elem, "cal", Service.EXCHANGE_EWS, "master"))
    html = next(to_event(e, "cal", Service.EXCHANGE_EWS) for i, e in pairs
                if i.subject.startswith("Review"))
    assert html.description == "A & B" and html.title == "Review & <budget>"
