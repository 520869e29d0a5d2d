"""Expanding mirrored series into the occurrences ``/events`` returns.

Providers deliver series in one of two shapes: a master with RRULE/EXDATE plus its
exceptions (Google without ``singleEvents``), or expanded occurrences only (Graph and EWS
calendar views). :func:`expand` accepts both, mixed: masters are expanded in wall-clock
time of their zone (so DST keeps 09:00 at 09:00), an exception or cancellation with the
same series and original start replaces the generated occurrence, and cancelled ones
vanish. A master marked ``occurrences_listed`` is never expanded: its provider listed the
occurrences, and they are the truth (the master is there for feeds only).

:func:`series_starts` gives the starts a master's rule generates, for feeds that check
a rule against listed occurrences.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Protocol

from dateutil.rrule import rruleset, rrulestr

from proxy.core.mirror import MirroredEvent, occurrence_public_id
from proxy.core.model import Event, EventStatus, Moment, Recurrence
from proxy.core.timeutil import to_utc, zone

SeriesKey = tuple[str, str, datetime]
#: a series may not produce more occurrences than this in one window (runaway rules)
MAX_OCCURRENCES = 5000


def expand(items: Iterable[MirroredEvent], start: datetime, end: datetime) -> list[MirroredEvent]:
    """Occurrences overlapping [start, end), cancellations removed, sorted by start."""
    masters: list[MirroredEvent] = []
    concrete: list[MirroredEvent] = []
    replaced: set[SeriesKey] = set()
    for item in items:
        if item.event.is_series_master:
            masters.append(item)
            continue
        key = _series_key(item.event)
        if key is not None:
            replaced.add(key)
        concrete.append(item)
    found = [i for i in concrete if i.event.status is not EventStatus.CANCELLED
             and _overlaps(i.event, start, end)]
    for master in masters:
        if master.event.status is EventStatus.CANCELLED or master.event.occurrences_listed:
            continue  # a cancelled series has no occurrences; listed ones are in ``concrete``
        found.extend(o for o in _occurrences(master, start, end)
                     if _series_key(o.event) not in replaced)
    found.sort(key=lambda i: (to_utc(i.event.start, i.event.time_zone), i.id))
    return found


def _series_key(event: Event) -> SeriesKey | None:
    rec = event.recurrence
    if rec is None or rec.original_start is None:
        return None
    return (event.calendar_id, rec.series_id, to_utc(rec.original_start, event.time_zone))


def _overlaps(event: Event, start: datetime, end: datetime) -> bool:
    ev_start = to_utc(event.start, event.time_zone)
    ev_end = to_utc(event.end, event.time_zone)
    if ev_end == ev_start:  # zero-length events count when their instant is inside
        return start <= ev_start < end
    return ev_end > start and ev_start < end


def _occurrences(master: MirroredEvent, start: datetime, end: datetime) -> Iterator[MirroredEvent]:
    event = master.event
    duration = _as_datetime(event.end, event) - _as_datetime(event.start, event)
    rules = _ruleset(event)
    lower = _bound(start - duration, event)
    upper = _bound(end, event)
    for count, when in enumerate(rules.between(lower, upper, inc=True)):
        if count >= MAX_OCCURRENCES:
            return
        occ_start: Moment = when.date() if event.all_day else when
        occ_end: Moment = (when + duration).date() if event.all_day else when + duration
        occurrence = replace(
            event, start=occ_start, end=occ_end, rrule=(), exdates=(),
            recurrence=Recurrence(event.provider_id, occ_start, is_exception=False))
        if _overlaps(occurrence, start, end):
            yield MirroredEvent(occurrence_public_id(master.id, occ_start),
                                master.calendar_id, master.integration_id, occurrence,
                                series_public_id=master.id)


class SeriesShape(Protocol):
    """What expanding a rule needs of a master (an :class:`Event` or a redacted one)."""

    @property
    def start(self) -> Moment: ...
    @property
    def time_zone(self) -> str: ...
    @property
    def all_day(self) -> bool: ...
    @property
    def rrule(self) -> tuple[str, ...]: ...
    @property
    def exdates(self) -> tuple[Moment, ...]: ...


def series_starts(master: SeriesShape, lower: datetime, upper: datetime) -> list[Moment] | None:
    """The starts ``master``'s RRULE (minus its EXDATEs) generates in [lower, upper]:
    dates for all-day series, wall-clock times in the master's zone otherwise. ``None``
    when a rule is unreadable or it generates more than :data:`MAX_OCCURRENCES` there."""
    if not _readable(master):
        return None
    rules = _ruleset(master)
    found: list[Moment] = []
    for when in rules.between(_bound(lower, master), _bound(upper, master), inc=True):
        if len(found) >= MAX_OCCURRENCES:
            return None
        found.append(when.date() if master.all_day else when)
    return found


def _readable(master: SeriesShape) -> bool:
    dtstart = _as_datetime(master.start, master)
    try:
        for line in master.rrule:
            rrulestr(_normalize_until(line, dtstart), dtstart=dtstart)
    except (ValueError, TypeError):
        return False
    return bool(master.rrule)


def _as_datetime(moment: Moment, event: SeriesShape) -> datetime:
    """Wall-clock datetimes: aware in the event's zone, or naive midnight for dates."""
    if isinstance(moment, datetime):
        return moment.astimezone(zone(event.time_zone))
    return datetime(moment.year, moment.month, moment.day)


def _bound(moment: datetime, event: SeriesShape) -> datetime:
    if event.all_day:
        return moment.astimezone(zone(event.time_zone)).replace(tzinfo=None)
    return moment


@dataclass(frozen=True, slots=True)
class _Shape:
    start: Moment
    time_zone: str
    all_day: bool
    rrule: tuple[str, ...]
    exdates: tuple[Moment, ...]


def _ruleset(event: SeriesShape) -> rruleset:
    """The master's rules, parsed once per distinct rule (parsing is most of the cost of
    expanding a series in a window); the result is only ever read."""
    return _parsed(_Shape(event.start, event.time_zone, event.all_day, event.rrule,
                          event.exdates))


@lru_cache(maxsize=4096)
def _parsed(event: _Shape) -> rruleset:
    dtstart = _as_datetime(event.start, event)
    rules = rruleset()
    try:
        for line in event.rrule:
            rules.rrule(rrulestr(_normalize_until(line, dtstart), dtstart=dtstart))
    except (ValueError, TypeError):
        rules = rruleset()  # an unreadable rule: show the series' first occurrence only
        rules.rdate(dtstart)
    for exdate in event.exdates:
        timed = isinstance(exdate, datetime) or event.all_day
        rules.exdate(_as_datetime(exdate, event) if timed else _date_at(exdate, dtstart))
    return rules


def _date_at(day: date, dtstart: datetime) -> datetime:
    return dtstart.replace(year=day.year, month=day.month, day=day.day)


def _normalize_until(line: str, dtstart: datetime) -> str:
    """dateutil wants UNTIL in UTC for aware starts and floating for naive ones."""
    parts = []
    for part in line.removeprefix("RRULE:").split(";"):
        key, _, value = part.partition("=")
        if key.upper() == "UNTIL":
            value = _until_value(value, dtstart)
        parts.append(f"{key}={value}")
    return ";".join(parts)


def _until_value(value: str, dtstart: datetime) -> str:
    aware = dtstart.tzinfo is not None
    if len(value) == 8:  # a date: end of that day
        value += "T235959"
    if value.endswith("Z"):
        if aware:
            return value
        moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ")
        return moment.strftime("%Y%m%dT%H%M%S")
    if aware:
        local = datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=dtstart.tzinfo)
        return to_utc(local).strftime("%Y%m%dT%H%M%SZ")
    return value

