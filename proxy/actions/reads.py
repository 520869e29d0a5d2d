"""What a caller may see of an owner's calendar: events, one event, free/busy.

:class:`Reader` decides the caller's audience per integration of the owner (grants differ
per service), keeps the mirror fresh (a stale calendar syncs first), and assembles the
answer from the caches of :mod:`proxy.cache.views`: a whole answer is reused while every
calendar in it has the same content key and the caller the same effective audience;
otherwise occurrences come from the occurrence cache (or the store, expanded), and each
event's redacted JSON from the fragment cache (or :func:`~proxy.redaction.redact` and the
renderer). Every byte of an answer comes out of ``redact`` for the caller's audience, and
the ETag is a hash of those bytes, so it can move only when what the caller sees moves.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import logging
from collections.abc import Hashable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from cachetools import LRUCache

from proxy.actions.target import Target, check_events_read, may_write, visible_busy_allowed
from proxy.cache.mirror import MirrorIndex
from proxy.cache.principals import Principals
from proxy.cache.views import Answer, Expanded, Fragment, ReadCaches, SortKey
from proxy.core.access import events_audience
from proxy.core.mirror import MirroredEvent
from proxy.core.recurrence import expand_keyed
from proxy.errors import NotFound
from proxy.redaction import Audience, VisibleEvent, redact
from proxy.render.freebusy import freebusy_json
from proxy.render.json import event_json, json_bytes
from proxy.store.records import CalendarRecord
from proxy.sync.calendars import CalendarService, Owned

log = logging.getLogger(__name__)
V = TypeVar("V")
Scoped = tuple[CalendarRecord, Audience]


def etag_of(body: bytes) -> str:
    """A strong ETag: a hash of exactly the bytes sent (already redacted)."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _keep(cache: LRUCache[Hashable, V], key: Hashable, value: V) -> None:
    try:  # noqa: SIM105 (not contextlib.suppress: this runs once per event of a read)
        cache[key] = value
    except ValueError:  # larger than the whole bound: serve, not keep
        pass


class Reader:
    """The read path; one per process (it owns no state but the caches it is given).

    :mod:`proxy.actions.calendar` names its reads for the JSON API and the portal; what
    it checks first comes from :mod:`proxy.actions.target`, so it imports no action."""

    def __init__(self, principals: Principals, service: CalendarService,
                 caches: ReadCaches) -> None:
        self.principals, self.service, self.caches = principals, service, caches
        self._building: dict[Hashable, asyncio.Task[None]] = {}
        #: every audience seen, numbered (at most 24: detail x three flags)
        self._audiences: dict[Audience, int] = {}

    # --- audiences ---------------------------------------------------------------------
    async def audiences(self, target: Target) -> dict[str, Audience]:
        """The caller's audience per integration of the owner; 403 for colleagues."""
        integrations = await self.principals.list_integrations(target.owner.id)
        return {i.id: events_audience(target.relation, target.grant, may_write(target, i))
                for i in integrations}

    async def _scoped(self, target: Target,
                      calendar_id: str | None) -> tuple[list[Owned], list[Scoped]]:
        """The fresh calendars to read, and each with the caller's audience for it."""
        check_events_read(target)
        pairs = await self.service.readable(target.owner.id, calendar_id)
        audiences = await self.audiences(target)
        return pairs, [(c, audiences[i.id]) for i, c in pairs if i.id in audiences]

    # --- answers -----------------------------------------------------------------------
    async def events(self, target: Target, start: datetime, end: datetime,
                     calendar_id: str | None = None) -> Answer:
        """``{"events": [...]}``: the occurrences in [start, end) the caller may see."""
        _, scoped = await self._scoped(target, calendar_id)
        key = ("events", start, end, tuple((c.content_key, a) for c, a in scoped))
        cached = self.caches.answers.get(key)
        if cached is not None:
            return cached
        by_calendar = [(c, a, await self._expanded(c, start, end)) for c, a in scoped]
        numbers = {id(a): self._audience_number(a) for _, a in scoped}
        fragments = [self._fragment(a, item, numbers[id(a)])
                     for _, a, item in _merged(by_calendar)]
        shown = [f for f in fragments if f.visible is not None]
        body = b'{"events":[' + b",".join(f.json for f in shown) + b"]}"
        answer = Answer(body, etag_of(body), tuple(f.visible for f in shown
                                                   if f.visible is not None))
        _keep(self.caches.answers, key, answer)
        return answer

    async def event(self, target: Target, event_id: str) -> Answer:
        """One event or occurrence; 404 when it does not exist or must not appear."""
        pairs, scoped = await self._scoped(target, None)
        key = ("event", event_id, tuple((c.content_key, a) for c, a in scoped))
        cached = self.caches.answers.get(key)
        if cached is not None:
            return cached
        item = await self.service.event_in(pairs, event_id)
        body, visible = self._visible_fragment(scoped, item)
        answer = Answer(body, etag_of(body), (visible,))
        _keep(self.caches.answers, key, answer)
        return answer

    async def find(self, target: Target,
                   event_id: str) -> tuple[MirroredEvent, VisibleEvent]:
        """The mirrored event (to write it) and how the caller sees it; 404 unless the
        caller may see it."""
        pairs, scoped = await self._scoped(target, None)
        item = await self.service.event_in(pairs, event_id)
        return item, self._visible_fragment(scoped, item)[1]

    async def freebusy(self, target: Target, start: datetime, end: datetime) -> Answer:
        """``{"intervals": [...]}``: busy times only, for any caller in the account."""
        audience = visible_busy_allowed(target)
        calendars = [c for _, c in await self.service.readable(target.owner.id)]
        key = ("freebusy", start, end, audience, tuple(c.content_key for c in calendars))
        cached = self.caches.answers.get(key)
        if cached is not None:
            return cached
        items = [item for c in calendars for item in (await self._expanded(c, start, end)).items]
        visible = [v for v in (redact(i, audience) for i in items) if v is not None]
        body = json_bytes(freebusy_json(visible))
        answer = Answer(body, etag_of(body), tuple(visible))
        _keep(self.caches.answers, key, answer)
        return answer

    # --- pieces ------------------------------------------------------------------------
    async def _expanded(self, calendar: CalendarRecord, start: datetime,
                        end: datetime) -> Expanded:
        key = (calendar.content_key, start, end)
        cached = self.caches.occurrences.get(key)
        if cached is not None:
            return cached
        keyed = expand_keyed(await self._candidates(calendar, start, end), start, end)
        expanded = Expanded(tuple(i for _, i in keyed), tuple(k for k, _ in keyed))
        _keep(self.caches.occurrences, key, expanded)
        return expanded

    async def _candidates(self, calendar: CalendarRecord, start: datetime,
                          end: datetime) -> list[MirroredEvent]:
        """What the core expands: from the calendar's index when it has one, else the
        store's window query (and an index built in the background once the calendar is
        read in a second window)."""
        key = calendar.content_key
        index = self.caches.indexes.get(key)
        if index is not None:
            return index.candidates(start, end)
        if self.caches.misses.second(key) and key not in self._building:
            self._building[key] = asyncio.create_task(self._build(calendar))
        return await self.service.calendar_window(calendar, start, end)

    async def _build(self, calendar: CalendarRecord) -> None:
        """Load and index one calendar's whole mirror (about ten window queries' worth)."""
        try:
            index = MirrorIndex.build(await self.service.calendar_items(calendar))
            _keep(self.caches.indexes, calendar.content_key, index)
        except Exception as exc:  # the window queries keep serving meanwhile
            log.warning("indexing a calendar failed: %s", type(exc).__name__)
        finally:
            self._building.pop(calendar.content_key, None)

    def _audience_number(self, audience: Audience) -> int:
        """A small number per distinct audience (compared whole, every field), so that a
        fragment key hashes as a string and an int instead of the audience's fields."""
        number = self._audiences.get(audience)
        if number is None:
            number = self._audiences[audience] = len(self._audiences)
        return number

    async def close(self) -> None:
        """Stop indexing in the background (before the store closes)."""
        tasks = list(self._building.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _visible_fragment(self, scoped: list[Scoped],
                          item: MirroredEvent) -> tuple[bytes, VisibleEvent]:
        """``item`` as the caller sees it; 404 (not 403: it says nothing) when hidden."""
        found = [a for c, a in scoped if c.id == item.calendar_id]
        fragment = self._fragment(found[0], item) if found else None
        if fragment is None or fragment.visible is None:
            raise NotFound("event: no such event", "event_not_found")
        return fragment.json, fragment.visible

    def _fragment(self, audience: Audience, item: MirroredEvent,
                  number: int | None = None) -> Fragment:
        """``item`` redacted and rendered for ``audience`` (whose number the caller may
        have looked up once for many items)."""
        key = (item.id, self._audience_number(audience) if number is None else number)
        cached = self.caches.fragments.get(key)
        if cached is not None and cached.made_from(item):
            return cached
        visible = redact(item, audience)
        fragment = Fragment(item, visible, b"" if visible is None else json_bytes(
            event_json(visible)))
        _keep(self.caches.fragments, key, fragment)
        return fragment


def _merged(by_calendar: Sequence[tuple[CalendarRecord, Audience, Expanded]],
            ) -> Iterable[tuple[CalendarRecord, Audience, MirroredEvent]]:
    """Every calendar's occurrences in one ``/events`` order (start, then id)."""
    if len(by_calendar) == 1:
        calendar, audience, expanded = by_calendar[0]
        return ((calendar, audience, item) for item in expanded.items)
    streams: list[Iterable[tuple[SortKey, int, Any]]] = [
        ((k, n, (c, a, item)) for k, item in zip(e.keys, e.items, strict=True))
        for n, (c, a, e) in enumerate(by_calendar)]
    return (entry for _, _, entry in heapq.merge(*streams))
