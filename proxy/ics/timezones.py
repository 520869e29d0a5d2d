"""VTIMEZONE components, one per zone a feed uses, built once per process.

``icalendar`` builds a VTIMEZONE from the IANA database (``zoneinfo``) that round-trips
every offset exactly, but a build costs milliseconds (PROVIDER-NOTES): each zone is built
once, over a generous window, serialized, and kept. Feeds then paste the cached text.

UTC and zones this process does not know are written as UTC instants (``...Z``) and need
no VTIMEZONE: a provider's "Customized Time Zone" has no definition we could publish.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone

from proxy.core.timeutil import is_known_zone

#: The VTIMEZONEs cover this window; recurring series reaching past it keep working in
#: clients that know IANA names (all four big subscribers do), the rest use the last rule.
WINDOW_FIRST = date(1970, 1, 1)
WINDOW_LAST = date(2040, 1, 1)

_UTC_NAMES = frozenset({
    "UTC", "Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT", "Universal", "Zulu",
    "Etc/GMT", "Etc/GMT+0", "Etc/GMT-0", "Etc/GMT0", "Etc/Greenwich", "GMT", "GMT0",
    "GMT+0", "GMT-0", "Greenwich",
})


@lru_cache(maxsize=1024)
def tzid_for(time_zone: str | None) -> str | None:
    """The TZID to write times of ``time_zone`` with, or ``None`` to write UTC instants."""
    if not time_zone or time_zone in _UTC_NAMES or not is_known_zone(time_zone):
        return None
    return time_zone


@lru_cache(maxsize=1024)
def zone_info(tzid: str | None) -> tzinfo:
    """The ``tzinfo`` for a TZID from :func:`tzid_for` (UTC for ``None``)."""
    return UTC if tzid is None else ZoneInfo(tzid)


@lru_cache(maxsize=512)
def vtimezone(tzid: str) -> str:
    """The VTIMEZONE block for ``tzid`` as CRLF-terminated, folded text."""
    component = Timezone.from_tzid(tzid, first_date=WINDOW_FIRST, last_date=WINDOW_LAST)
    text: str = component.to_ical().decode()
    return text if text.endswith("\r\n") else text + "\r\n"


@lru_cache(maxsize=512)
def vtimezone_component(tzid: str) -> Timezone:
    """The same VTIMEZONE as a component, for the ``icalendar`` reference path."""
    parsed = Timezone.from_ical(vtimezone(tzid))
    assert isinstance(parsed, Timezone)
    return parsed


def in_zone(moment: datetime, tzid: str | None) -> datetime:
    """``moment`` as wall-clock time in ``tzid``; a naive moment is already wall-clock
    time there (as :func:`proxy.core.timeutil.to_utc` reads it)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone_info(tzid))
    return moment.astimezone(zone_info(tzid))
