"""A calendar's whole mirror in memory, per content key, so a new window asks no query.

The index holds what ``Store.events_in_range`` would return for any window: the concrete
events sorted by their UTC start, and the items the store always loads (series masters,
exceptions, cancellations, whose kinds :func:`proxy.store.sql_events.event_kind` decides).
:meth:`MirrorIndex.candidates` returns a superset of the window's rows in the same sense
as the store's query; the core's :func:`~proxy.core.recurrence.expand` then applies every
rule, so nothing of the expansion is decided here.

Loading a whole calendar costs about as much as ten window queries, so the reader builds
an index only for a content key that is asked for a second, different window
(:class:`Misses`), and builds it in the background while window queries keep answering:
a write followed by a read stays as cheap as a window query, and a calendar browsed
across windows is served from memory until its content changes.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cachetools import LRUCache

from proxy.core.mirror import MirroredEvent
from proxy.core.timeutil import to_utc
from proxy.store.sql_events import ALWAYS_LOADED, event_kind

#: items held at most over all indexes (each index counts its items)
MAX_INDEXED = 200_000


@dataclass(frozen=True, slots=True)
class MirrorIndex:
    starts: tuple[datetime, ...]
    ends: tuple[datetime, ...]
    concrete: tuple[MirroredEvent, ...]
    always: tuple[MirroredEvent, ...]
    longest: timedelta

    @classmethod
    def build(cls, items: Sequence[MirroredEvent]) -> MirrorIndex:
        timed: list[tuple[datetime, datetime, MirroredEvent]] = []
        always: list[MirroredEvent] = []
        for item in items:
            event = item.event
            try:
                start, end = to_utc(event.start, event.time_zone), to_utc(event.end,
                                                                          event.time_zone)
            except OverflowError:  # at the calendar's edge: let the core decide
                always.append(item)
                continue
            if event_kind(event) in ALWAYS_LOADED:
                always.append(item)
            else:
                timed.append((start, max(start, end), item))
        timed.sort(key=lambda t: (t[0], t[2].id))
        longest = max((e - s for s, e, _ in timed), default=timedelta(0))
        return cls(tuple(s for s, _, _ in timed), tuple(e for _, e, _ in timed),
                   tuple(i for _, _, i in timed), tuple(always), longest)

    def __len__(self) -> int:
        return len(self.concrete) + len(self.always)

    def candidates(self, start: datetime, end: datetime) -> list[MirroredEvent]:
        """Every item the store's window query would return (a superset is fine)."""
        low = bisect.bisect_left(self.starts, start - self.longest)
        high = bisect.bisect_left(self.starts, end)
        found = [self.concrete[n] for n in range(low, high)
                 if self.ends[n] > start or self.starts[n] >= start]
        found.extend(self.always)
        return found


class Misses:
    """Which content keys were asked for a window they had no answer for, and how often."""

    def __init__(self, maxsize: int = 10_000) -> None:
        self._seen: LRUCache[Hashable, int] = LRUCache(maxsize)

    def second(self, key: Hashable) -> bool:
        """Count a miss of ``key``; ``True`` from the second one on."""
        count = self._seen.get(key, 0) + 1
        self._seen[key] = count
        return count >= 2


def index_size(index: MirrorIndex) -> int:
    return len(index) + 1
