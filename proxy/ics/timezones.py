"""VTIMEZONE components, one per zone a feed uses, built once per process.

``icalendar`` builds a VTIMEZONE from the IANA database (``zoneinfo``) that round-trips
every offset exactly, but a build costs milliseconds (PROVIDER-NOTES): each zone is built
once, over a generous window, serialized, and kept. Feeds then paste the cached text.

``icalendar`` lists every transition as an RDATE. Parsers that only follow RRULEs in a
VTIMEZONE (``vobject``/dateutil, measured: Berlin summer times off by an hour; Outlook
is known for the same) then get DST wrong, so the yearly run of transitions that lasts to
the end of the window is rewritten as one RRULE (``BYMONTH`` + ``BYDAY``), the way
Outlook, Google and Apple publish zones. Earlier, irregular transitions stay RDATEs.

UTC and zones this process does not know are written as UTC instants (``...Z``) and need
no VTIMEZONE: a provider's "Customized Time Zone" has no definition we could publish.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Component, Timezone, TimezoneDaylight, TimezoneStandard, vRecur

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
    parts: list[Component] = [part for sub in component.subcomponents
                              for part in _with_yearly_rule(sub)]
    component.subcomponents = parts  # type: ignore[assignment]
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


def _with_yearly_rule(sub: Component) -> list[Component]:
    """``sub`` split into its irregular past (RDATEs) and a trailing yearly RRULE."""
    starts = sorted([sub.decoded("DTSTART"), *_rdates(sub)])
    run = _trailing_run(starts)
    if len(run) < 3:
        return [sub]
    kind = TimezoneDaylight if sub.name == "DAYLIGHT" else TimezoneStandard
    rule = kind()
    for key in ("TZNAME", "TZOFFSETFROM", "TZOFFSETTO"):
        if key in sub:
            rule[key] = sub[key]
    rule.add("dtstart", run[0])
    recur = _recur(run)
    if run[-1].year < WINDOW_LAST.year - 1:  # the rule ended inside the window
        offset = sub.decoded("TZOFFSETFROM")
        recur["UNTIL"] = (run[-1] - offset).replace(tzinfo=UTC)
    rule.add("rrule", vRecur(recur))
    earlier = starts[: len(starts) - len(run)]
    if not earlier:
        return [rule]
    past = kind()
    for key in ("TZNAME", "TZOFFSETFROM", "TZOFFSETTO"):
        if key in sub:
            past[key] = sub[key]
    past.add("dtstart", earlier[0])
    if earlier[1:]:
        past.add("rdate", earlier[1:])
    return [past, rule]


_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _rdates(sub: Component) -> list[datetime]:
    value = sub.get("RDATE")
    if value is None:
        return []
    lists = value if isinstance(value, list) else [value]
    return [d.dt for item in lists for d in item.dts]


def _recur(run: list[datetime]) -> dict[str, object]:
    """The yearly rule of ``run``: the last, the n-th, or the first weekday on or after
    a day of the month (Chile's "first Sunday on or after April 2")."""
    day = _DAYS[run[0].weekday()]
    recur: dict[str, object] = {"FREQ": "YEARLY", "BYMONTH": run[0].month}
    days = [m.day for m in run]
    if all((m + timedelta(days=7)).month != m.month for m in run):
        recur["BYDAY"] = f"-1{day}"
    elif len({(d - 1) // 7 for d in days}) == 1:
        recur["BYDAY"] = f"{(days[0] - 1) // 7 + 1}{day}"
    else:
        recur["BYDAY"] = day
        recur["BYMONTHDAY"] = list(range(min(days), min(days) + 7))
    return recur


def _trailing_run(starts: list[datetime]) -> list[datetime]:
    """The longest tail of ``starts``: consecutive years, one month, weekday and time,
    days of the month within one week (so one weekday matches each year)."""
    run: list[datetime] = []
    for moment in reversed(starts):
        if run:
            first = run[0]
            days = [m.day for m in run] + [moment.day]
            if not (moment.year == first.year - 1 and moment.month == first.month
                    and moment.weekday() == first.weekday() and moment.time() == first.time()
                    and max(days) - min(days) <= 6):
                break
        run.insert(0, moment)
    return run
