"""Read caches: what the read path would otherwise ask the store for, or compute again.

Everything here is either keyed on what it was computed from (calendar incarnations and
mirror versions, the caller's effective audience, the window) or dropped when the store
announces a committed change to it through :mod:`proxy.store.changes`; the principal
lookups (tokens, users, delegations, policies, integrations, calendar records) also expire
after a short time so that a change another instance made without a relay still shows
within that time. Nothing is kept per instance that an announcement cannot reach, so
several instances behind a relay stay coherent. Every cache is bounded (LRU, by entries
or by bytes); :meth:`ReadCaches.stats` reports their fill.
"""

from proxy.cache.principals import Principals
from proxy.cache.tagged import TaggedCache
from proxy.cache.views import ReadCaches

__all__ = ["Principals", "ReadCaches", "TaggedCache"]
