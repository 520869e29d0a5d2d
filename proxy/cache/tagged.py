"""A bounded cache whose entries are dropped by tag, safe against stale fills.

Entries carry tags (``(topic, key)`` pairs of :mod:`proxy.store.changes`); an announcement
drops every entry tagged with it. A reader that loads from the store while a write commits
could put the value it read *before* the write into the cache *after* the announcement,
where it would stay: :meth:`TaggedCache.generation` is taken before the load and
:meth:`TaggedCache.put` refuses the value when any announcement arrived in between.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

from cachetools import LRUCache

V = TypeVar("V")
Tag = tuple[str, str]


Entry = tuple[Any, tuple[Tag, ...], float]


class _Entries(LRUCache[Hashable, Entry]):
    """An LRU cache that tells its owner which keys it evicted.

    Expiry is kept in each entry and checked on the read (:meth:`TaggedCache.get`)
    rather than by cachetools' ``TLRUCache``, whose every lookup enters its timer twice:
    a principal lookup is made several times per request, and this keeps each one a
    dictionary hit. An expired entry is dropped when it is next read, or evicted."""

    def __init__(self, maxsize: int, on_drop: Callable[[Hashable, tuple[Tag, ...]], None],
                 ) -> None:
        super().__init__(maxsize)
        self._on_drop = on_drop

    def popitem(self) -> tuple[Hashable, Entry]:
        key, value = super().popitem()
        self._on_drop(key, value[1])
        return key, value


class TaggedCache(Generic[V]):
    """``maxsize`` entries at most, each for at most ``ttl`` seconds, dropped by tag."""

    def __init__(self, maxsize: int, ttl: float) -> None:
        self._entries = _Entries(maxsize, self._unindex)
        self._by_tag: dict[Tag, set[Hashable]] = {}
        self._generation = 0
        self.maxsize, self.ttl = maxsize, ttl

    @property
    def generation(self) -> int:
        """Take this before loading a value from the store; pass it to :meth:`put`."""
        return self._generation

    def get(self, key: Hashable) -> tuple[bool, V | None]:
        """``(True, value)`` on a hit (the value may be ``None``), ``(False, None)``."""
        found = self._entries.get(key)
        if found is None:
            return False, None
        if found[2] <= time.monotonic():  # expired: gone, as if never kept
            del self._entries[key]
            self._unindex(key, found[1])
            return False, None
        value: V = found[0]
        return True, value

    def put(self, key: Hashable, value: V, tags: Iterable[Tag], generation: int) -> None:
        """Keep ``value`` unless an invalidation arrived since ``generation`` was taken."""
        if generation != self._generation:
            return
        tagged = tuple(tags)
        self._entries[key] = (value, tagged, time.monotonic() + self.ttl)
        for tag in tagged:
            self._by_tag.setdefault(tag, set()).add(key)

    def invalidate(self, tag: Tag) -> None:
        """Drop every entry carrying ``tag`` and refuse fills that began before now."""
        self._generation += 1
        for key in self._by_tag.pop(tag, set()):
            self._entries.pop(key, None)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()
        self._by_tag.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _unindex(self, key: Hashable, tags: tuple[Tag, ...]) -> None:
        """An entry left by eviction or expiry: forget it in the tag index too."""
        for tag in tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]
