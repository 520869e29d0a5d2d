"""The principal cache's container: entries expire after their time, are dropped by tag,
refuse fills that began before an invalidation, and leave no tag index behind them."""

from __future__ import annotations

import time

from proxy.cache.tagged import TaggedCache


def test_entries_expire_after_their_time() -> None:
    cache: TaggedCache[str] = TaggedCache(10, ttl=0.05)
    cache.put("k", "v", [("user", "u1")], cache.generation)
    assert cache.get("k") == (True, "v")
    time.sleep(0.06)
    assert cache.get("k") == (False, None)
    assert len(cache) == 0 and cache._by_tag == {}


def test_a_tag_drops_every_entry_carrying_it_and_refuses_older_fills() -> None:
    cache: TaggedCache[str | None] = TaggedCache(10, ttl=60)
    cache.put("a", "1", [("user", "u1")], cache.generation)
    cache.put("b", None, [("user", "u1"), ("account", "x")], cache.generation)
    cache.put("c", "3", [("user", "u2")], cache.generation)
    assert cache.get("b") == (True, None)  # a cached None is a hit
    began = cache.generation
    cache.invalidate(("user", "u1"))
    assert cache.get("a") == cache.get("b") == (False, None)
    assert cache.get("c") == (True, "3")
    cache.put("a", "stale", [("user", "u1")], began)  # loaded before the invalidation
    assert cache.get("a") == (False, None)


def test_evicted_entries_leave_the_tag_index() -> None:
    cache: TaggedCache[int] = TaggedCache(2, ttl=60)
    for n in range(5):
        cache.put(n, n, [("user", f"u{n}")], cache.generation)
    assert len(cache) == 2 and set(cache._by_tag) == {("user", "u3"), ("user", "u4")}
