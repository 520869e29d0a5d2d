"""Series whose provider lists every occurrence (Graph, EWS): one VEVENT with RRULE.

Graph and EWS calendar views deliver each occurrence of a series; their providers also
deliver the series master (``occurrences_listed``) with the RRULE converted from
Microsoft's pattern (:mod:`proxy.core.ms_recurrence`). In a feed the listed occurrences
are the truth, as they are for ``/events``; the master's rule is only a compact way to
write them, so it is checked against them before it is used:

- at least one occurrence must be listed (a master left over from a series deleted
  upstream lists none), every listed occurrence's original start must be a start the
  rule generates, and no two may share one: otherwise (a pattern the converter got
  wrong, a series edited upstream between two reads) :func:`fold_listed` answers
  ``None`` and the plan writes the occurrences as standalone VEVENTs, exactly as
  without a master;
- a generated start in the *listed window* (where the mirror holds every occurrence the
  provider has) without a listed occurrence was deleted upstream: an EXDATE;
- a listed occurrence the feed may not publish (cancelled, free at ``busy``): an EXDATE;
- a listed occurrence that is not what the rule would produce there (moved, another
  length, other visible fields): an override with RECURRENCE-ID;
- the rest are reproduced by the rule and dropped.

Outside the listed window the rule speaks for itself (as a Google master's does), so a
subscriber sees the series go on; inside it, expanding the feed yields exactly the
listed occurrences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from proxy.core.model import Moment
from proxy.core.recurrence import series_starts
from proxy.core.timeutil import to_utc
from proxy.redaction.visible import VisibleEvent

Window = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class Folded:
    """What a listed series becomes: EXDATE values and RECURRENCE-ID overrides."""

    exdates: tuple[Moment, ...]
    overrides: tuple[VisibleEvent, ...]


def fold_listed(master: VisibleEvent, children: Iterable[VisibleEvent],
                publishable: Callable[[VisibleEvent], bool],
                window: Window | None) -> Folded | None:
    """Fold the listed occurrences ``children`` of ``master`` into its rule, or ``None``
    when the rule does not reproduce them (or no listed window is known)."""
    if window is None:
        return None
    listed: dict[datetime, VisibleEvent] = {}
    for child in children:
        original = child.recurrence.original_start if child.recurrence else None
        if original is None:
            return None
        key = _instant(original, master.time_zone)
        if key in listed:
            return None
        listed[key] = child
    if not listed:  # a series deleted upstream (or none of it here): the rule has no say
        return None
    length = _length(master)
    lower = min([window[0] - length, *listed])
    upper = max([window[1], *listed])
    starts = series_starts(master, lower, upper)
    if starts is None:
        return None
    slots = {_instant(s, master.time_zone): s for s in starts}
    if not listed.keys() <= slots.keys():
        return None
    exdates = [slot for key, slot in slots.items()
               if key not in listed and _overlaps(key, length, window)]
    overrides: list[VisibleEvent] = []
    for key, child in listed.items():
        if not publishable(child):
            exdates.append(slots[key])
        elif not _reproduced(child, master, key, length):
            overrides.append(child)
    return Folded(tuple(exdates), tuple(overrides))


def _instant(moment: Moment, time_zone: str) -> datetime:
    return to_utc(moment, time_zone)


def _length(event: VisibleEvent) -> timedelta:
    return _instant(event.end, event.time_zone) - _instant(event.start, event.time_zone)


def _overlaps(start: datetime, length: timedelta, window: Window) -> bool:
    """The calendar view's rule: an occurrence is listed when it overlaps the window (a
    zero-length one when its instant is inside)."""
    if not length:
        return window[0] <= start < window[1]
    return start + length > window[0] and start < window[1]


def _reproduced(child: VisibleEvent, master: VisibleEvent, slot: datetime,
                length: timedelta) -> bool:
    """Whether the rule's occurrence at ``slot`` shows exactly what ``child`` shows."""
    return (_instant(child.start, master.time_zone) == slot and _length(child) == length
            and child.all_day == master.all_day and _shown(child) == _shown(master))


def _shown(event: VisibleEvent) -> tuple[object, ...]:
    """The fields a generated occurrence takes from its master (times apart)."""
    return (event.title, event.description, event.location, event.status, event.show_as,
            event.sensitivity, event.organizer, event.attendees, event.join_url,
            event.conference, event.categories, event.redacted)
