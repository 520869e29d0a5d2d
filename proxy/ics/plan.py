"""Which VEVENTs a feed holds: series grouping, overrides, EXDATEs, UIDs, times.

Both writers (the fast one in :mod:`proxy.ics.feed` and the ``icalendar`` reference in
:mod:`proxy.ics.reference`) serialize the same plan, so they can only differ in bytes,
never in what they publish.

The rules, so that every subscriber sees every occurrence exactly once:

- A series master (``rrule`` non-empty) is one VEVENT with RRULE and EXDATE.
- An exception of a master in the feed becomes an override with RECURRENCE-ID (its
  original start) and the master's UID. A cancelled occurrence, a free one at ``busy``
  detail and a withheld one (see :func:`proxy.redaction.visible.withheld_slot`) become
  an EXDATE on the master instead. Plain occurrences of a master in the feed are dropped:
  the RRULE already yields them.
- A master whose provider lists its occurrences (``occurrences_listed``: Graph, EWS) is
  checked against them and folded into RRULE, EXDATEs and overrides by
  :mod:`proxy.ics.listed`; when its rule does not reproduce them, it is left out and its
  occurrences stand alone (next rule).
- Occurrences whose master is not in the feed (providers that only deliver expanded
  occurrences, or a master left out at this detail) become standalone VEVENTs with a
  UID derived from the series UID and the original start. RDATE would keep them one
  series, but Google Calendar and Outlook ignore or mangle RDATE in subscriptions, while
  separate events are read alike by every client.
- Cancelled events outside series, and free events at ``busy`` detail, are left out.
- UIDs are unique among top-level VEVENTs: a repeated UID (the same meeting synced from
  two services) is replaced by one derived from it and the event's public id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from proxy.core.model import EventStatus, Moment, ShowAs
from proxy.core.timeutil import to_utc
from proxy.ics.listed import Window, fold_listed
from proxy.ics.timezones import in_zone, tzid_for, zone_info
from proxy.ics.writer import clean_text
from proxy.redaction.visible import Detail, RecurrenceRef, VisibleEvent


@dataclass(frozen=True, slots=True)
class Entry:
    """One VEVENT to write. Times are already in the event's zone (``tzid``; ``None``
    means UTC) or ``date`` values when ``all_day``; ``end`` is ``None`` when the source
    end was not after its start (RFC 5545 forbids such a DTEND)."""

    event: VisibleEvent
    uid: str
    tzid: str | None
    all_day: bool
    start: Moment
    end: Moment | None
    recurrence_id: Moment | None = None
    exdates: tuple[Moment, ...] = ()
    sort_key: tuple[float, str, float] = (0.0, "", 0.0)
    #: The zone of RECURRENCE-ID and EXDATE values: the series master's.
    anchor_tzid: str | None = None


@dataclass(slots=True)
class _Series:
    master: VisibleEvent
    exdates: list[Moment] = field(default_factory=list)
    overrides: list[VisibleEvent] = field(default_factory=list)


def derived_uid(uid: str, *parts: str) -> str:
    """A stable UID for a VEVENT split off ``uid``; says nothing beyond its inputs."""
    text = "\x1f".join(("calproxy-feed-uid", uid, *parts))
    return hashlib.sha256(text.encode()).hexdigest()[:32] + "@calproxy"


def plan_feed(
    events: Iterable[VisibleEvent], detail: Detail, withheld: Iterable[RecurrenceRef] = (),
    listed_window: Window | None = None,
) -> list[Entry]:
    """The VEVENTs of a feed at ``detail``, in a deterministic order (by start, UID).

    ``listed_window`` is where the mirror holds every occurrence of the series whose
    provider lists them (the mirrored window within the feed's); without it such series
    are written as standalone occurrences."""
    series: dict[str, _Series] = {}
    singles: list[VisibleEvent] = []
    children: list[VisibleEvent] = []
    for event in {e.id: e for e in events}.values():
        if event.rrule or event.occurrences_listed:
            if _publishable(event, detail):
                series[event.id] = _Series(event)
        elif event.recurrence is not None:
            children.append(event)
        elif _publishable(event, detail):
            singles.append(event)
    children = _fold_listed(children, series, detail, listed_window)
    singles.extend(_attach(children, series, detail))
    for ref in withheld:
        if ref.series_id in series and ref.original_start is not None:
            series[ref.series_id].exdates.append(ref.original_start)
    return _entries(singles, list(series.values()))


def _publishable(event: VisibleEvent, detail: Detail) -> bool:
    if event.status is EventStatus.CANCELLED:
        return False
    return not (detail is Detail.BUSY and event.show_as is ShowAs.FREE)


def _fold_listed(children: list[VisibleEvent], series: dict[str, _Series], detail: Detail,
                 window: Window | None) -> list[VisibleEvent]:
    """Fold the occurrences of listed series into their masters (or drop the masters
    whose rule does not reproduce them); return the children still to be attached."""
    listed = {sid for sid, s in series.items() if s.master.occurrences_listed}
    if not listed:
        return children
    mine: dict[str, list[VisibleEvent]] = {sid: [] for sid in listed}
    rest: list[VisibleEvent] = []
    for child in children:
        ref = child.recurrence
        (mine[ref.series_id] if ref and ref.series_id in listed else rest).append(child)
    for sid, own in mine.items():
        folded = fold_listed(series[sid].master, own,
                             lambda e: _publishable(e, detail), window)
        if folded is None:
            del series[sid]
            rest.extend(own)
        else:
            series[sid].exdates.extend(folded.exdates)
            series[sid].overrides.extend(folded.overrides)
    return rest


def _attach(
    children: list[VisibleEvent], series: dict[str, _Series], detail: Detail
) -> list[VisibleEvent]:
    """File occurrences under their masters; return those that must stand alone."""
    alone: list[VisibleEvent] = []
    for child in children:
        ref = child.recurrence
        assert ref is not None
        owner = series.get(ref.series_id)
        if owner is None:
            if _publishable(child, detail):
                alone.append(child)
        elif not _publishable(child, detail):
            if ref.original_start is not None:
                owner.exdates.append(ref.original_start)
        elif ref.is_exception:
            (owner.overrides if ref.original_start is not None else alone).append(child)
    return alone


def _entries(singles: list[VisibleEvent], series: list[_Series]) -> list[Entry]:
    tops = [_single(event) for event in singles]
    tops.extend(_master(s) for s in series)
    seen: set[str] = set()
    uids: dict[str, str] = {}
    for entry in sorted(tops, key=lambda e: (e.uid, e.sort_key, e.event.id)):
        uid = entry.uid
        if uid in seen:
            uid = derived_uid(uid, entry.event.id)
        seen.add(uid)
        uids[entry.event.id] = uid
    result = [_with_uid(entry, uids[entry.event.id]) for entry in tops]
    by_id = {entry.event.id: entry for entry in result}
    for s in series:
        master = by_id[s.master.id]
        result.extend(_override(master, child) for child in s.overrides)
    result.sort(key=lambda e: e.sort_key)
    return result


def _with_uid(entry: Entry, uid: str) -> Entry:
    if uid == entry.uid:
        return entry
    return Entry(entry.event, uid, entry.tzid, entry.all_day, entry.start, entry.end,
                 entry.recurrence_id, entry.exdates, (entry.sort_key[0], uid, 0.0),
                 entry.anchor_tzid)


def _published_uid(event: VisibleEvent) -> str:
    """The UID as written: TEXT may hold no control characters, and may not be empty."""
    uid = clean_text(event.uid)
    return uid if uid.strip() else derived_uid(uid, event.id)


def _single(event: VisibleEvent) -> Entry:
    """A standalone VEVENT; a lone occurrence gets a UID of its own slot in the series."""
    uid = _published_uid(event)
    if event.recurrence is not None:
        slot = event.recurrence.original_start or event.start
        uid = derived_uid(uid, to_utc(slot, event.time_zone).isoformat())
    return _timed(event, uid)


def _master(s: _Series) -> Entry:
    entry = _timed(s.master, _published_uid(s.master))
    moved = {_instant(_anchor(c.recurrence.original_start, entry), entry.tzid)
             for c in s.overrides if c.recurrence and c.recurrence.original_start}
    exdates: dict[float, Moment] = {}
    for moment in (*s.master.exdates, *s.exdates):
        anchored = _anchor(moment, entry)
        key = _instant(anchored, entry.tzid)
        if key not in moved:
            exdates[key] = anchored
    ordered = tuple(exdates[k] for k in sorted(exdates))
    return Entry(entry.event, entry.uid, entry.tzid, entry.all_day, entry.start,
                 entry.end, None, ordered, entry.sort_key, entry.tzid)


def _override(master: Entry, child: VisibleEvent) -> Entry:
    assert child.recurrence is not None and child.recurrence.original_start is not None
    entry = _timed(child, master.uid)
    rid = _anchor(child.recurrence.original_start, master)
    key = (entry.sort_key[0], master.uid, _instant(rid, master.tzid))
    return Entry(child, master.uid, entry.tzid, entry.all_day, entry.start, entry.end,
                 rid, (), key, master.tzid)


def _timed(event: VisibleEvent, uid: str) -> Entry:
    tzid = tzid_for(event.time_zone)
    all_day = event.all_day or not isinstance(event.start, datetime)
    start = _in(event.start, tzid, all_day)
    end: Moment | None = _in(event.end, tzid, all_day)
    if end is not None and _instant(end, tzid) <= _instant(start, tzid):
        end = None
    return Entry(event, uid, tzid, all_day, start, end,
                 sort_key=(_instant(start, tzid), uid, 0.0))


def _in(moment: Moment, tzid: str | None, all_day: bool) -> Moment:
    """``moment`` as a date (all-day) or as wall-clock time in ``tzid``."""
    if isinstance(moment, datetime):
        local = in_zone(moment, tzid)
        return local.date() if all_day else local
    if all_day:
        return moment
    return datetime.combine(moment, time(0), tzinfo=zone_info(tzid))


def _anchor(moment: Moment, master: Entry) -> Moment:
    """An EXDATE or RECURRENCE-ID value shaped like the master's DTSTART (§3.8.5.1):
    a date for all-day series, else wall-clock time in the master's zone."""
    if master.all_day or isinstance(moment, datetime):
        return _in(moment, master.tzid, master.all_day)
    wall = master.start.timetz() if isinstance(master.start, datetime) else time(0)
    return datetime.combine(moment, wall.replace(tzinfo=None), tzinfo=zone_info(master.tzid))


def _instant(moment: Moment, tzid: str | None) -> float:
    if isinstance(moment, datetime):
        return moment.timestamp()
    assert isinstance(moment, date)
    return datetime.combine(moment, time(0), tzinfo=zone_info(tzid)).timestamp()
