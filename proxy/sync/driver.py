"""The sync driver, generic over the provider protocol.

A round pages a calendar's sync from its stored cursor to the end and commits the mirror
and the new cursor in one store transaction; until then nothing is written, so a failure
mid-round leaves the previous mirror intact. An expired cursor starts a full round whose
result replaces the mirror (reconciling deletions the provider never reported). Reads
call :meth:`Syncer.ensure_fresh`, which makes no upstream call for a calendar synced
within the freshness window; concurrent readers of one calendar share one round, in this
process and across instances (:class:`Syncer`). ``LeaseLost`` (re-exported here) is what a
round whose lease lapsed before its commit ends with.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar, cast

from proxy.config import Settings
from proxy.core.mirror import MirroredEvent, event_public_id
from proxy.core.model import Contact, Event
from proxy.errors import CursorExpired
from proxy.operations.metrics import RoundKind, counted_round
from proxy.providers.base import Provider, SyncPage, Window
from proxy.store.changes import Change, Topic
from proxy.store.interface import Store
from proxy.store.records import CalendarRecord, Integration, LeaseLost, RoundClaim, RoundStart
from proxy.sync.leases import Held, Leases
from proxy.sync.manners import Manners, Turn

log = logging.getLogger(__name__)
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
#: a provider that never finishes a round is cut off after this many pages
MAX_PAGES = 10_000


@dataclass(frozen=True, slots=True)
class RoundResult:
    changed: list[Event]
    removed: list[str]
    cursor: str | None
    full: bool


def mirror_event(integration_id: str, calendar: CalendarRecord, event: Event) -> MirroredEvent:
    """Give a provider event its public identity within ``calendar`` (derived from the
    calendar's public id, so stable across reconnects: see :mod:`proxy.core.mirror`)."""
    series = event.recurrence.series_id if event.recurrence else None
    return MirroredEvent(
        id=event_public_id(calendar.id, event.provider_id),
        calendar_id=calendar.id, integration_id=integration_id, event=event,
        series_public_id=None if series is None else event_public_id(calendar.id, series),
    )


def sync_window(settings: Settings, now: datetime) -> Window:
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return Window(day - timedelta(days=settings.sync_past_days),
                  day + timedelta(days=settings.sync_future_days + 1))


class Syncer:
    """Runs rounds: one per calendar at a time in this process (single-flight) and across
    every instance on the database (a lease per calendar, :mod:`proxy.sync.leases`).

    A calendar's round costs the store two transactions: one to start it
    (:meth:`~proxy.store.interface.Store.begin_round`: the lease, a mailbox slot, and the
    calendar as committed, which tells whether a round landed meanwhile), one to commit it
    (``apply_event_sync``, which checks that the lease is still this instance's and
    releases it with the slot). An instance that finds another instance's round running
    waits for its result instead of asking the provider again: it tries again when the
    calendar changes (relayed change notices wake it) or every ``poll_seconds``, and
    takes the other's result once it landed, or the round over once the lease lapsed.
    """

    def __init__(self, store: Store, settings: Settings, leases: Leases | None = None,
                 poll_seconds: float = 0.25, manners: Manners | None = None) -> None:
        self.store, self.settings = store, settings
        self.leases = leases if leases is not None else Leases(store)
        #: the mailbox gates a round takes its turn at (None: each call takes its own)
        self.manners = manners
        self.poll_seconds = poll_seconds
        #: upstream rounds this instance ran (benchmarks and metrics read it)
        self.rounds = 0
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        self._wakers: dict[str, asyncio.Event] = {}
        store.changes.subscribe(self._on_change)

    def is_fresh(self, synced_at: datetime | None, now: datetime) -> bool:
        age = timedelta(seconds=self.settings.freshness_seconds)
        return synced_at is not None and now - synced_at < age

    async def ensure_fresh(self, integration: Integration, provider: Provider,
                           calendars: Sequence[CalendarRecord]) -> None:
        now = datetime.now(UTC)
        stale = [c for c in calendars if c.synced and not self.is_fresh(c.synced_at, now)]
        await asyncio.gather(*(self.sync_calendar(integration, provider, c) for c in stale))

    async def sync_calendar(self, integration: Integration, provider: Provider,
                            calendar: CalendarRecord,
                            wait: bool = True) -> CalendarRecord | None:
        """One round for ``calendar`` (as last seen: a round that landed since counts);
        see :meth:`refresh_calendar`."""
        return await self.refresh_calendar(integration, provider, calendar.id,
                                           calendar.synced_at, wait)

    async def refresh_calendar(self, integration: Integration, provider: Provider,
                               calendar_id: str, seen: datetime | None, wait: bool = True,
                               stale_only: bool = True) -> CalendarRecord | None:
        """Bring the calendar past ``seen`` (its ``synced_at`` as the caller last saw it):
        one round, unless one landed since, or (``stale_only``) the calendar is fresh.
        Callers arriving meanwhile share the same round. With ``wait=False`` a round
        running on another instance is left to it. Returns the calendar as known
        afterwards (None: gone or disconnected)."""
        landed = self._landed(seen)

        def wanted(current: CalendarRecord) -> bool:
            fresh = stale_only and self.is_fresh(current.synced_at, datetime.now(UTC))
            return current.synced and not fresh and not landed(current.synced_at)

        return await self._single(f"calendar:{calendar_id}", lambda: self._calendar_round(
            integration, provider, calendar_id, wanted, wait))

    async def _calendar_round(self, integration: Integration, provider: Provider,
                              calendar_id: str, wanted: Callable[[CalendarRecord], bool],
                              wait: bool) -> CalendarRecord | None:
        key = f"calendar:{calendar_id}"

        while True:
            async with self._turn(integration) as turn:
                start = await self.store.begin_round(RoundClaim(
                    key, self.leases.holder, self.leases.seconds, calendar_id,
                    () if turn is None else turn.slots, None if turn is None else turn.pause,
                ), wanted)
                if start.held and start.calendar is not None:
                    if turn is not None:
                        turn.slot = start.slot
                    try:
                        return await self._held_round(integration, provider, start, key)
                    except LeaseLost:
                        log.info("lost the lease of a round; taking the next holder's result")
                elif start.paused_for > 0 and self.manners is not None:
                    self.manners.pause(integration.service, integration.id, start.paused_for)
                    continue  # the next turn waits the pause out, or answers 503
                elif start.calendar is None or not wanted(start.calendar) or not wait:
                    return start.calendar
            await self._changed(key)

    async def _held_round(self, integration: Integration, provider: Provider,
                          start: RoundStart, key: str) -> CalendarRecord:
        calendar = start.calendar
        assert calendar is not None
        also = () if start.slot is None else (start.slot,)
        async with self.leases.keep(Held(key, also)) as held:
            with counted_round(integration.service.value, calendar.cursor is None) as kind:
                return await self._sync(integration, provider, calendar, held, kind)

    def _turn(self, integration: Integration) -> AbstractAsyncContextManager[Turn | None]:
        if self.manners is None:
            return contextlib.nullcontext()
        return self.manners.round(integration.service, integration.id)

    async def _changed(self, key: str) -> None:
        """Until the target of ``key`` changes (a relayed notice) or ``poll_seconds``."""
        waker = self._wakers.setdefault(key, asyncio.Event())
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waker.wait(), self.poll_seconds)
        finally:
            self._wakers.pop(key, None)

    async def sync_contacts(self, integration: Integration, provider: Provider,
                            force: bool = False, wait: bool = True) -> None:
        if not force and self.is_fresh(integration.contacts_synced_at, datetime.now(UTC)):
            return

        async def stamp() -> object:
            current = await self.store.get_integration(integration.id)
            return _GONE if current is None else current.contacts_synced_at

        async def run(held: Held) -> None:
            current = await self.store.get_integration(integration.id)
            if current is not None:
                await self._sync_contacts(current, provider, held)

        key, landed = f"contacts:{integration.id}", self._landed(integration.contacts_synced_at)
        await self._single(key, lambda: self._leased(key, landed, stamp, run, wait))

    async def discover(self, integration: Integration, provider: Provider) -> None:
        """List a new integration's calendars (once across instances)."""
        async def stamp() -> object:
            return len(await self.store.list_calendars([integration.id]))

        async def run(held: Held) -> None:
            upstream = await provider.list_calendars()
            _still_held(held)
            await self.store.upsert_calendars(integration.id, upstream, False)

        key = f"discover:{integration.id}"
        await self._single(key, lambda: self._leased(key, lambda n: n != 0, stamp, run, True))

    def _landed(self, seen: datetime | None) -> Callable[[object], bool]:
        """Whether a ``synced_at`` read now means a round landed that this caller may take
        as its own: a fresh one that moved since the caller looked, or any that landed
        after it started (the caller's record may come from a cache, so "moved" alone
        proves nothing), or the target is gone."""
        started = datetime.now(UTC)

        def landed(stamp: object) -> bool:
            if not isinstance(stamp, datetime):
                return stamp is _GONE
            return stamp != seen and (stamp >= started
                                      or self.is_fresh(stamp, datetime.now(UTC)))

        return landed

    async def _single(self, key: str, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work`` once for ``key`` in this process: callers arriving meanwhile share
        its result."""
        running = self._inflight.get(key)
        if running is not None:
            return cast(T, await asyncio.shield(running))
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await work()
            future.set_result(result)
            return result
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: the caller re-raises it below
            raise
        except BaseException:
            future.cancel()  # cancelled mid-round: waiters retry on their own
            raise
        finally:
            del self._inflight[key]

    async def _leased(self, key: str, landed: Callable[[object], bool],
                      stamp: Callable[[], Awaitable[object]],
                      run: Callable[[Held], Awaitable[None]], wait: bool) -> None:
        while True:
            async with self.leases.hold(key) as held:
                if held is not None:
                    if not landed(await stamp()):  # nothing landed since the caller looked
                        await run(held)
                    return
            if not wait or await self._landed_elsewhere(key, landed, stamp):
                return

    async def _landed_elsewhere(self, key: str, landed: Callable[[object], bool],
                                stamp: Callable[[], Awaitable[object]]) -> bool:
        """Wait while another instance holds ``key``: True once its round landed, False
        when its lease went away without a result (then this instance tries)."""
        waker = self._wakers.setdefault(key, asyncio.Event())
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waker.wait(), self.poll_seconds)
                waker.clear()
                if landed(await stamp()):
                    return True
                if not await self.leases.held_elsewhere(key):
                    return False
        finally:
            self._wakers.pop(key, None)

    def _on_change(self, change: Change) -> None:
        prefix = _WAKES.get(change.topic)
        waker = self._wakers.get(f"{prefix}{change.key}") if prefix else None
        if waker is not None:
            waker.set()

    async def _sync(self, integration: Integration, provider: Provider,
                    calendar: CalendarRecord, held: Held,
                    kind: RoundKind | None = None) -> CalendarRecord:
        window = sync_window(self.settings, datetime.now(UTC))
        self.rounds += 1
        try:
            result = await self._round(provider, calendar.provider_id, calendar.cursor, window)
        except CursorExpired:
            log.info("sync cursor expired; full resync of calendar %s", calendar.id)
            if kind is not None:
                kind.full = True  # counted as the full round it now is
            result = await self._round(provider, calendar.provider_id, None, window)
        mirrored = [mirror_event(integration.id, calendar, e) for e in result.changed]
        _still_held(held)
        record = await self.store.apply_event_sync(
            calendar.id, mirrored, result.removed, result.cursor, datetime.now(UTC),
            result.full, lease=self.leases.fence(held))
        held.released = True
        return record

    async def _round(self, provider: Provider, calendar_id: str, cursor: str | None,
                     window: Window) -> RoundResult:
        async def fetch(at: str | None) -> SyncPage:
            return await provider.sync_events(calendar_id, at, window)

        changed, removed, next_cursor = await page_to_end(fetch, cursor, _event_key)
        return RoundResult(changed, removed, next_cursor, cursor is None)

    async def _sync_contacts(self, integration: Integration, provider: Provider,
                             held: Held) -> None:
        cursor = integration.contacts_cursor
        self.rounds += 1
        try:
            changed, removed, next_cursor = await page_to_end(
                provider.sync_contacts, cursor, _contact_key)
        except CursorExpired:
            cursor = None
            changed, removed, next_cursor = await page_to_end(
                provider.sync_contacts, None, _contact_key)
        _still_held(held)
        await self.store.apply_contact_sync(integration.id, changed, removed, next_cursor,
                                            datetime.now(UTC), cursor is None,
                                            lease=self.leases.fence(held))
        held.released = True


#: the change notices that can mean another instance's round landed
_WAKES = {Topic.CALENDAR: "calendar:", Topic.CONTACTS: "contacts:"}
#: what :meth:`Syncer._single`'s stamp answers for a calendar or integration that is gone
_GONE = object()


def _still_held(held: Held) -> None:
    """Give up before the commit when the renewal already saw the lease go (the commit
    would be refused anyway: the store checks the lease in its transaction)."""
    if held.lost:
        raise LeaseLost("the lease on this round lapsed; another instance may have taken it")


class _Page(Protocol[T_co]):
    @property
    def changed(self) -> tuple[T_co, ...]: ...
    @property
    def removed(self) -> tuple[str, ...]: ...
    @property
    def next_cursor(self) -> str | None: ...
    @property
    def done(self) -> bool: ...


def _event_key(event: Event) -> str:
    return event.provider_id


def _contact_key(contact: Contact) -> str:
    return contact.provider_id


async def page_to_end(
    fetch: Callable[[str | None], Awaitable[_Page[T]]], cursor: str | None,
    key: Callable[[T], str],
) -> tuple[list[T], list[str], str | None]:
    """Follow ``fetch`` from ``cursor`` until a page says the round is done.

    Returns the changed items (later pages win), removed ids and the cursor to store.
    """
    changed: dict[str, T] = {}
    removed: list[str] = []
    for _ in range(MAX_PAGES):
        page = await fetch(cursor)
        for item_id in page.removed:
            changed.pop(item_id, None)
            removed.append(item_id)
        changed.update((key(item), item) for item in page.changed)
        cursor = page.next_cursor
        if page.done:
            return list(changed.values()), removed, cursor
    raise CursorExpired("the provider never finished the sync round")
