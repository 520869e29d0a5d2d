"""Caches of what the read path computes: expanded occurrences, rendered fragments, and
whole answers.

Every key names what its value was computed from, so none of these needs invalidating:
a calendar's ``content_key`` (id, incarnation, mirror version) changes with every write
and every sync that changed events, and the store announces that change, which drops the
calendar records the next read takes its keys from (:mod:`proxy.cache.principals`). A
stale entry is therefore never reachable again; the LRU bounds evict it.

- occurrences of one calendar per (content key, window), in ``/events`` order with their
  sort keys, bounded by the number of occurrences held;
- per event and audience, what :func:`~proxy.redaction.redact` returned and its JSON bytes
  (the audience is the caller's *effective* one, so two callers who may see the same share
  a fragment, and callers who may see different things never do), bounded by entries;
- whole answers per (kind, window, and the content key and audience of every calendar in
  it), bounded by their bytes.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cachetools import LRUCache

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
    """One event as one audience sees it (``None``: it must not appear) and its JSON."""

    visible: VisibleEvent | None
    json: bytes


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
                 max_answer_bytes: int = MAX_ANSWER_BYTES) -> None:
        self.occurrences: LRUCache[Hashable, Expanded] = LRUCache(
            max_occurrences, getsizeof=_occurrence_count)
        self.fragments: LRUCache[Hashable, Fragment] = LRUCache(max_fragments)
        self.answers: LRUCache[Hashable, Answer] = LRUCache(
            max_answer_bytes, getsizeof=_answer_bytes)

    def stats(self) -> dict[str, Any]:
        """Fill and bounds of each cache (for benchmarks and operators)."""
        return {
            "occurrences": {"held": self.occurrences.currsize,
                            "bound": self.occurrences.maxsize},
            "fragments": {"held": self.fragments.currsize, "bound": self.fragments.maxsize},
            "answer_bytes": {"held": self.answers.currsize, "bound": self.answers.maxsize},
        }

    def clear(self) -> None:
        self.occurrences.clear()
        self.fragments.clear()
        self.answers.clear()
