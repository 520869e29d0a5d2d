"""Hypothesis strategies: mirrored calendars with singles, series, exceptions, cancellations.

Series are DAILY or WEEKLY so the tests can name the k-th occurrence by arithmetic on
wall-clock time; timed events start between 06:00 and 21:59 so no generated time falls
into a DST gap (both expansions agree on real times only).

Listed series (:func:`listed_series`) are what Graph and EWS deliver: a master marked
``occurrences_listed`` plus every occurrence that overlaps the mirrored window
(:data:`LISTED_WINDOW`), some moved or changed, some deleted (absent), some cancelled;
some start before or end after the window, and some masters carry a rule that does not
reproduce their occurrences (the feed must then fall back to standalone events).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from proxy.core.mirror import MirroredEvent, event_public_id
from proxy.core.model import (
    Attendee,
    AttendeeKind,
    Conference,
    ConferenceProvider,
    Event,
    EventStatus,
    Person,
    Recurrence,
    Response,
    Sensitivity,
    Service,
    ShowAs,
)
from proxy.core.timeutil import to_utc

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
         "America/Sao_Paulo", "Pacific/Chatham", "Etc/GMT+5", "Customized Time Zone"]
NASTY = st.text(alphabet=st.sampled_from(list(',;:\\\n\r\t"^ é😀aZ\u00a0\u200d')), max_size=40)
TEXT = st.one_of(st.text(max_size=60), NASTY, st.text(min_size=70, max_size=200))
SHOW_AS = st.sampled_from(list(ShowAs))
SENSITIVITY = st.sampled_from(list(Sensitivity))
LISTED_WINDOW = (datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
INTEGRATION = "integration-1"
CALENDAR = "calendar-1"


def no_capital_n_escape(text: str) -> bool:
    """icalendar's writer turns a literal ``\\N`` into a line break (see reference.py)."""
    return "\\N" not in text


@st.composite
def timing(draw: st.DrawFn) -> tuple[datetime | date, datetime | date, str, bool]:
    zone = draw(st.sampled_from(ZONES))
    day = date(2026, 1, 5) + timedelta(days=draw(st.integers(0, 100)))
    if draw(st.booleans()) and draw(st.booleans()):  # a quarter of events are all-day
        return day, day + timedelta(days=draw(st.integers(1, 3))), zone, True
    tz = ZoneInfo(zone) if zone != "Customized Time Zone" else UTC
    start = datetime(day.year, day.month, day.day, draw(st.integers(6, 21)),
                     draw(st.sampled_from([0, 15, 30, 45])), tzinfo=tz)
    return start, start + timedelta(minutes=draw(st.integers(1, 16)) * 15), zone, False


@st.composite
def people(draw: st.DrawFn, text: st.SearchStrategy[str]) -> dict[str, object]:
    emails = st.builds(lambda a: f"{a}@example.org",
                       st.from_regex(r"[a-z]{1,8}", fullmatch=True))
    attendee = st.builds(Attendee, st.one_of(st.none(), text), st.one_of(st.none(), emails),
                         st.sampled_from(list(AttendeeKind)), st.sampled_from(list(Response)))
    attendees = st.lists(attendee, max_size=3)
    return {"organizer": draw(st.one_of(st.none(), st.builds(Person, text, emails))),
            "attendees": tuple(draw(attendees))}


@st.composite
def event(draw: st.DrawFn, text: st.SearchStrategy[str] = TEXT, pid: str = "p") -> Event:
    start, end, zone, all_day = draw(timing())
    url = draw(st.sampled_from([None, "https://zoom.us/j/123?pwd=a,b;c"]))
    stamp = st.one_of(st.none(), st.datetimes(datetime(2025, 1, 1), datetime(2026, 1, 1),
                                              timezones=st.just(UTC)))
    return Event(
        provider_id=pid, calendar_id=CALENDAR, service=Service.GOOGLE,
        start=start, end=end, time_zone=zone, all_day=all_day,
        ical_uid=draw(st.one_of(st.none(), st.builds(lambda t: f"{t}@provider.example", text))),
        title=draw(text), description=draw(text), location=draw(text),
        status=draw(st.sampled_from([EventStatus.CONFIRMED, EventStatus.TENTATIVE])),
        show_as=draw(SHOW_AS), sensitivity=draw(SENSITIVITY),
        join_url=url, conference=Conference(ConferenceProvider.ZOOM, url) if url else None,
        categories=tuple(draw(st.lists(text, max_size=3))),
        created=draw(stamp), updated=draw(stamp), sequence=draw(st.integers(0, 5)),
        **draw(people(text)),  # type: ignore[arg-type]
    )


def mirrored(ev: Event, series_public_id: str | None = None) -> MirroredEvent:
    return MirroredEvent(event_public_id(ev.calendar_id, ev.provider_id),
                         ev.calendar_id, INTEGRATION, ev, series_public_id)


def nth(moment: datetime | date, k: int, step: timedelta) -> datetime | date:
    """The k-th occurrence's start in wall-clock time (DAILY/WEEKLY series)."""
    if isinstance(moment, datetime):
        naive = moment.replace(tzinfo=None) + k * step
        return naive.replace(tzinfo=moment.tzinfo)
    return moment + k * step


@st.composite
def series(draw: st.DrawFn, text: st.SearchStrategy[str] = TEXT,
           with_master: bool = True, pid: str = "s") -> list[MirroredEvent]:
    """A master (or only its occurrences) with exceptions and cancellations."""
    base = draw(event(text, pid))
    weekly = draw(st.booleans())
    step = timedelta(weeks=1) if weekly else timedelta(days=1)
    count = draw(st.integers(2, 8))
    rule = f"FREQ={'WEEKLY' if weekly else 'DAILY'};COUNT={count}"
    exdated = draw(st.sets(st.integers(1, count - 1), max_size=2))
    master = replace(base, rrule=(rule,), exdates=tuple(nth(base.start, k, step) for k in exdated))
    master_item = mirrored(master)
    items = [master_item] if with_master else []
    changed = draw(st.sets(st.integers(0, count - 1), max_size=3)) - exdated
    for k in range(count):
        if k in exdated:
            continue
        is_exception = k in changed
        if not with_master or is_exception:
            items.append(_occurrence(draw, master, master_item.id, k, step, is_exception, text))
    return items


def _occurrence(draw: st.DrawFn, master: Event, series_id: str, k: int, step: timedelta,
                is_exception: bool, text: st.SearchStrategy[str]) -> MirroredEvent:
    original = nth(master.start, k, step)
    shift = timedelta(hours=draw(st.integers(-2, 3))) if is_exception else timedelta(0)
    if master.all_day:
        shift = timedelta(days=shift.days)
    length = master.end - master.start  # type: ignore[operator]
    start = nth(master.start, k, step) + shift  # type: ignore[operator]
    occ = replace(master, provider_id=f"{master.provider_id}_{k}", rrule=(), exdates=(),
                  start=start, end=start + length,
                  recurrence=Recurrence(master.provider_id, original, is_exception))
    if is_exception:
        occ = replace(occ, title=draw(text), show_as=draw(SHOW_AS),
                      sensitivity=draw(SENSITIVITY),
                      status=draw(st.sampled_from([EventStatus.CONFIRMED, EventStatus.CANCELLED])))
    return mirrored(occ, series_id)


def _shifted(moment: datetime | date, delta: timedelta) -> datetime | date:
    if isinstance(moment, datetime):
        return (moment.replace(tzinfo=None) + delta).replace(tzinfo=moment.tzinfo)
    return moment + delta


def _overlaps_listed(ev: Event) -> bool:
    start, end = to_utc(ev.start, ev.time_zone), to_utc(ev.end, ev.time_zone)
    low, high = LISTED_WINDOW
    return (low <= start < high) if start == end else (end > low and start < high)


@st.composite
def listed_series(draw: st.DrawFn, text: st.SearchStrategy[str] = TEXT,
                  pid: str = "l", faithful: bool = False) -> list[MirroredEvent]:
    """A Graph/EWS-shaped series: a listed master and the occurrences in the window
    (``faithful``: its rule always reproduces them)."""
    base = draw(event(text, pid))
    edge = timedelta(days=draw(st.sampled_from([0, 0, -50, 140])))  # straddle the window
    base = replace(base, start=_shifted(base.start, edge), end=_shifted(base.end, edge))
    step = timedelta(weeks=1) if draw(st.booleans()) else timedelta(days=1)
    count = draw(st.integers(2, 10))
    freq = "WEEKLY" if step.days == 7 else "DAILY"
    rule = f"FREQ={freq};COUNT={count}"
    if not faithful and draw(st.integers(0, 5)) == 0:  # a rule not reproducing them
        rule = draw(st.sampled_from([f"FREQ={freq};COUNT={count - 1}",
                                     f"FREQ={freq};INTERVAL=2;COUNT={count}",
                                     "FREQ=MONTHLY;COUNT=3"]))
    master = replace(base, rrule=(rule,), occurrences_listed=True)
    master_item = mirrored(master)
    deleted = draw(st.sets(st.integers(0, count - 1), max_size=2))
    changed = draw(st.sets(st.integers(0, count - 1), max_size=3)) - deleted
    items = [master_item]
    for k in set(range(count)) - deleted:
        occ = _occurrence(draw, replace(master, occurrences_listed=False), master_item.id,
                          k, step, k in changed, text)
        if _overlaps_listed(occ.event):
            items.append(occ)
    return items


@st.composite
def calendars(draw: st.DrawFn, text: st.SearchStrategy[str] = TEXT) -> list[MirroredEvent]:
    singles = draw(st.integers(0, 4))
    items = [mirrored(draw(event(text, f"single{n}"))) for n in range(singles)]
    for n, with_master in enumerate(draw(st.lists(st.booleans(), max_size=3))):
        items.extend(draw(series(text, with_master, f"series{n}")))
    for n in range(draw(st.integers(0, 2))):
        items.extend(draw(listed_series(text, f"listed{n}")))
    return items
