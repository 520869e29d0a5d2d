"""Caches of what the read path computes: expanded occurrences, rendered fragments, and
whole answers.

Every key names what its value was computed from, so none of these needs invalidating:
a calendar's ``content_key`` (id, incarnation, mirror version) changes with every write
and every sync that changed events, and the store announces that change, which drops the
calendar records the next read takes its keys from (:mod:`proxy.cache.principals`). A
stale entry is therefore never reachable again; the LRU bounds evict it.

- a whole calendar's mirror per content key (:mod:`proxy.cache.mirror`), once it is read
  in more than one window, bounded by the number of items held;
- occurrences of one calendar per (content key, window), in ``/events`` order with their
  sort keys, bounded by the number of occurrences held;
- per event id and audience, what :func:`~proxy.redaction.redact` returned and its JSON
  bytes (the audience is the caller's *effective* one, so two callers who may see the same
  share a fragment, and callers who may see different things never do), bounded by
  entries. This one is checked rather than keyed on content: a hit must have been rendered
  from the very same (or an equal) event, so a fragment survives a new mirror version in
  which its event did not change, and never outlives a change of it;
- whole answers per (kind, window, and the content key and audience of every calendar in
  it), bounded by their bytes.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cachetools import LRUCache

from proxy.cache.mirror import MAX_INDEXED, MirrorIndex, Misses, index_size
from proxy.core.mirror import MirroredEvent
from proxy.redaction import VisibleEvent

#: occurrences held at most, over all calendars and windows
MAX_OCCURRENCES = 200_000
#: rendered events (per event and audience) held at most
MAX_FRAGMENTS = 200_000
#: bytes of whole answers held at most
MAX_ANSWER_BYTES = 64 * 1024 * 1024

SortKey = tuple[datetime, str]


@dataclass(frozen=True, slots=True)
class Expanded:
    """One calendar's occurrences in a window, sorted, with the keys they sort by."""

    items: tuple[MirroredEvent, ...]
    keys: tuple[SortKey, ...]


@dataclass(frozen=True, slots=True)
class Fragment:
    """One event as one audience sees it (``None``: it must not appear) and its JSON,
    with the mirrored event it was made from (a hit must be made from an equal one)."""

    source: MirroredEvent
    visible: VisibleEvent | None
    json: bytes

    def made_from(self, item: MirroredEvent) -> bool:
        """Whether ``item`` is what this fragment was rendered from: the same decoded
        event (identity, the common case: documents decode to one shared object) or an
        equal one (an occurrence expanded again for another window)."""
        source = self.source
        if source.event is not item.event and source.event != item.event:
            return False
        return (source.calendar_id, source.integration_id, source.series_public_id) == (
            item.calendar_id, item.integration_id, item.series_public_id)


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole answer: the bytes to send, their ETag, and the events they show."""

    body: bytes
    etag: str
    visible: tuple[VisibleEvent, ...]


def _occurrence_count(value: Expanded) -> int:
    return len(value.items) + 1


def _answer_bytes(value: Answer) -> int:
    return len(value.body) + 1


class ReadCaches:
    """The three bounded caches; one per process, shared by every request."""

    def __init__(self, max_occurrences: int = MAX_OCCURRENCES,
                 max_fragments: int = MAX_FRAGMENTS,
                 max_answer_bytes: int = MAX_ANSWER_BYTES,
                 max_indexed: int = MAX_INDEXED) -> None:
        self.indexes: LRUCache[Hashable, MirrorIndex] = LRUCache(max_indexed,
                                                                 getsizeof=index_size)
        self.misses = Misses()
        self.occurrences: LRUCache[Hashable, Expanded] = LRUCache(
            max_occurrences, getsizeof=_occurrence_count)
        self.fragments: LRUCache[Hashable, Fragment] = LRUCache(max_fragments)
        self.answers: LRUCache[Hashable, Answer] = LRUCache(
            max_answer_bytes, getsizeof=_answer_bytes)

    def stats(self) -> dict[str, Any]:
        """Fill and bounds of each cache (for benchmarks and operators)."""
        return {
            "indexed": {"held": self.indexes.currsize, "bound": self.indexes.maxsize},
            "occurrences": {"held": self.occurrences.currsize,
                            "bound": self.occurrences.maxsize},
            "fragments": {"held": self.fragments.currsize, "bound": self.fragments.maxsize},
            "answer_bytes": {"held": self.answers.currsize, "bound": self.answers.maxsize},
        }

    def clear(self) -> None:
        self.indexes.clear()
        self.misses = Misses()
        self.occurrences.clear()
        self.fragments.clear()
        self.answers.clear()
