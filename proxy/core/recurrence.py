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

import bisect
import contextlib
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Protocol

from cachetools import LRUCache
from dateutil.rrule import rruleset, rrulestr

from proxy.core.mirror import MirroredEvent, occurrence_public_id
from proxy.core.model import EventStatus, Moment, Recurrence
from proxy.core.timeutil import to_utc, zone

SeriesKey = tuple[str, str, datetime]
SortKey = tuple[datetime, str]
#: a series may not produce more occurrences than this in one window (runaway rules)
MAX_OCCURRENCES = 5000


def expand(items: Iterable[MirroredEvent], start: datetime, end: datetime) -> list[MirroredEvent]:
    """Occurrences overlapping [start, end), cancellations removed, sorted by start."""
    return [item for _, item in expand_keyed(items, start, end)]


def expand_keyed(items: Iterable[MirroredEvent], start: datetime,
                 end: datetime) -> list[tuple[SortKey, MirroredEvent]]:
    """As :func:`expand`, each occurrence with the key it is sorted by (its UTC start,
    then its id): every UTC instant is computed once, and callers that merge several
    calendars need not compute the keys again."""
    masters: list[MirroredEvent] = []
    found: list[tuple[SortKey, MirroredEvent]] = []
    replaced: set[SeriesKey] = set()
    for item in items:
        event = item.event
        if event.rrule or event.occurrences_listed:  # Event.is_series_master, inlined
            masters.append(item)
            continue
        rec = event.recurrence
        if rec is not None and rec.original_start is not None:
            replaced.add((event.calendar_id, rec.series_id,
                          to_utc(rec.original_start, event.time_zone)))
        if event.status is EventStatus.CANCELLED:
            continue
        ev_start = to_utc(event.start, event.time_zone)
        if _inside(ev_start, to_utc(event.end, event.time_zone), start, end):
            found.append(((ev_start, item.id), item))
    for master in masters:
        if master.event.status is EventStatus.CANCELLED or master.event.occurrences_listed:
            continue  # a cancelled series has no occurrences; listed ones are in ``items``
        calendar_id, series_id = master.event.calendar_id, master.event.provider_id
        for occurrence, occ_start, occ_end in _occurrences(master, start, end):
            if (_inside(occ_start, occ_end, start, end)
                    and (calendar_id, series_id, occ_start) not in replaced):
                found.append(((occ_start, occurrence.id), occurrence))
    found.sort(key=_first)
    return found


def _first(pair: tuple[SortKey, MirroredEvent]) -> SortKey:
    return pair[0]


def _inside(ev_start: datetime, ev_end: datetime, start: datetime, end: datetime) -> bool:
    """Overlap of UTC bounds; zero-length events count when their instant is inside."""
    if ev_end == ev_start:
        return start <= ev_start < end
    return ev_end > start and ev_start < end


Generated = tuple[MirroredEvent, datetime, datetime]
#: occurrences made lately, per (series public id, start): the same window or an
#: overlapping one reuses the very objects (so the read caches recognise them by
#: identity), and a series is not copied again for every window; each entry is checked
#: against its master, so a changed series never reuses one
OCCURRENCE_MEMO = 100_000
_made: LRUCache[tuple[str, Moment], tuple[MirroredEvent, Generated]] = LRUCache(
    OCCURRENCE_MEMO)


def _occurrences(master: MirroredEvent, start: datetime, end: datetime) -> Iterator[Generated]:
    """The master's occurrences whose generated start falls in the window (widened by
    the series' duration), each with its UTC start and end."""
    event = master.event
    duration = _as_datetime(event.end, event) - _as_datetime(event.start, event)
    shape = _shape(event)
    for when in _starts(shape, _bound(start - duration, event), _bound(end, event)):
        occ_start: Moment = when.date() if event.all_day else when
        key = (master.id, occ_start)
        held = _made.get(key)
        if held is not None and (held[0] is master or held[0] == master):
            yield held[1]
            continue
        made = _occurrence(master, occ_start, when + duration)
        with contextlib.suppress(ValueError):
            _made[key] = (master, made)
        yield made


def _occurrence(master: MirroredEvent, occ_start: Moment, until: datetime) -> Generated:
    event = master.event
    occ_end: Moment = until.date() if event.all_day else until
    occurrence = replace(
        event, start=occ_start, end=occ_end, rrule=(), exdates=(),
        recurrence=Recurrence(event.provider_id, occ_start, is_exception=False))
    return (MirroredEvent(occurrence_public_id(master.id, occ_start), master.calendar_id,
                          master.integration_id, occurrence, series_public_id=master.id),
            to_utc(occ_start, event.time_zone), to_utc(occ_end, event.time_zone))


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


def _shape(event: SeriesShape) -> _Shape:
    return _Shape(event.start, event.time_zone, event.all_day, event.rrule, event.exdates)


def _ruleset(event: SeriesShape) -> rruleset:
    """The master's rules, parsed once per distinct rule (parsing is most of the cost of
    expanding a series in a window); the result is only ever read."""
    return _parsed(_shape(event))


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


#: series starts generated and kept, over all rules (LRU by rule); a rule that would
#: need more than MEMO_PER_RULE of them to reach a window is asked of dateutil directly
MEMO_STARTS = 500_000
MEMO_PER_RULE = 20_000


class _Generated:
    """One rule's starts generated so far, in order, extended when a later window asks:
    a window is then two bisections instead of iterating the rule from its first start
    (dateutil iterates from DTSTART on every ``between``)."""

    __slots__ = ("complete", "rest", "starts")

    def __init__(self, rules: rruleset) -> None:
        self.starts: list[datetime] = []
        self.rest: Iterator[datetime] = iter(rules)
        self.complete = False

    def reach(self, upper: datetime) -> bool:
        """Generate up to the first start after ``upper``; ``False`` past the bound."""
        starts = self.starts
        while not self.complete and (not starts or starts[-1] <= upper):
            if len(starts) >= MEMO_PER_RULE:
                return False
            nxt = next(self.rest, None)
            if nxt is None:
                self.complete = True
            else:
                starts.append(nxt)
        return True

    def between(self, lower: datetime, upper: datetime) -> list[datetime]:
        starts = self.starts
        low = bisect.bisect_left(starts, lower)
        return starts[low:min(bisect.bisect_right(starts, upper), low + MAX_OCCURRENCES)]


_generated: LRUCache[_Shape, _Generated] = LRUCache(
    MEMO_STARTS, getsizeof=lambda g: len(g.starts) + 1)


def _starts(shape: _Shape, lower: datetime, upper: datetime) -> list[datetime]:
    """The starts the rule generates in [lower, upper] (at most MAX_OCCURRENCES)."""
    memo = _generated.get(shape)
    if memo is None:
        memo = _Generated(_parsed(shape))
    if not memo.reach(upper):
        return list(itertools.islice(_parsed(shape).between(lower, upper, inc=True),
                                     MAX_OCCURRENCES))
    with contextlib.suppress(ValueError):
        _generated[shape] = memo  # (again: its size grew)
    return memo.between(lower, upper)


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

