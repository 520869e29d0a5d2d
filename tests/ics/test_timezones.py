"""Every published VTIMEZONE gives the IANA offsets, in icalendar and in vobject."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar

from proxy.ics.timezones import tzid_for, vtimezone

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Sao_Paulo",
         "Pacific/Chatham", "Asia/Kolkata", "Africa/Casablanca", "Europe/London",
         "America/Santiago", "Asia/Tehran", "Etc/GMT+5"]
#: Morocco moves its clocks around Ramadan: no yearly rule, only RDATEs (see docs/ics.md)
IRREGULAR = {"Africa/Casablanca"}


def _calendar(tzid: str, moments: list[datetime]) -> str:
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:{n}\r\nDTSTAMP:20260101T000000Z\r\n"
        f"DTSTART;TZID={tzid}:{m:%Y%m%dT%H%M%S}\r\nEND:VEVENT\r\n"
        for n, m in enumerate(moments))
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n" + vtimezone(tzid)
            + events + "END:VCALENDAR\r\n")


@pytest.mark.parametrize("tzid", ZONES)
def test_vtimezone_offsets_match_zoneinfo_in_both_parsers(tzid: str) -> None:
    moments = [datetime(2024, 1, 3, 12) + timedelta(days=9 * n) for n in range(0, 600)]
    data = _calendar(tzid, moments)
    expected = [m.replace(tzinfo=ZoneInfo(tzid)).utcoffset() for m in moments]
    if tzid not in IRREGULAR:  # RRULE-only readers need a yearly rule to exist
        theirs = vobject.readOne(data).contents["vevent"]
        assert [e.dtstart.value.utcoffset() for e in theirs] == expected
    for event in Calendar.from_ical(data.encode()).walk("VEVENT"):
        start = event.decoded("DTSTART")
        assert start.utcoffset() == start.replace(tzinfo=ZoneInfo(tzid)).utcoffset()


def test_utc_and_unknown_zones_are_written_as_utc() -> None:
    assert tzid_for("UTC") is None and tzid_for("Etc/UTC") is None
    assert tzid_for("Customized Time Zone") is None and tzid_for(None) is None
    assert tzid_for("Europe/Berlin") == "Europe/Berlin"


def test_vtimezone_is_built_once() -> None:
    assert vtimezone("Europe/Paris") is vtimezone("Europe/Paris")


def test_every_zone_name_fits_an_unfolded_recurrence_id_line() -> None:
    """The writer leaves DTSTART/DTEND/RECURRENCE-ID lines unfolded: prove they fit."""
    from zoneinfo import available_timezones
    longest = max(len(name) for name in available_timezones())
    assert len("RECURRENCE-ID;TZID=") + longest + len(":20260101T000000") <= 75
