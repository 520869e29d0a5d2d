"""The sync driver, generic over the provider protocol.

A round pages a calendar's sync from its stored cursor to the end and commits the mirror
and the new cursor in one store transaction; until then nothing is written, so a failure
mid-round leaves the previous mirror intact. An expired cursor starts a full round whose
result replaces the mirror (reconciling deletions the provider never reported). Reads
call :meth:`Syncer.ensure_fresh`, which makes no upstream call for a calendar synced
within the freshness window; concurrent readers of one calendar share one round.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from proxy.config import Settings
from proxy.core.mirror import MirroredEvent, event_public_id
from proxy.core.model import Contact, Event
from proxy.errors import CursorExpired
from proxy.operations.metrics import count_sync_round
from proxy.providers.base import Provider, SyncPage, Window
from proxy.store.interface import Store
from proxy.store.records import CalendarRecord, Integration

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
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store, self.settings = store, settings
        self._inflight: dict[str, asyncio.Future[None]] = {}

    def is_fresh(self, synced_at: datetime | None, now: datetime) -> bool:
        age = timedelta(seconds=self.settings.freshness_seconds)
        return synced_at is not None and now - synced_at < age

    async def ensure_fresh(self, integration: Integration, provider: Provider,
                           calendars: Sequence[CalendarRecord]) -> None:
        now = datetime.now(UTC)
        stale = [c for c in calendars if c.synced and not self.is_fresh(c.synced_at, now)]
        await asyncio.gather(*(self.sync_calendar(integration, provider, c) for c in stale))

    async def sync_calendar(self, integration: Integration, provider: Provider,
                            calendar: CalendarRecord) -> None:
        """One round for ``calendar``; callers arriving meanwhile wait for the same round."""
        running = self._inflight.get(calendar.id)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._inflight[calendar.id] = future
        try:
            await count_sync_round(integration.service.value, calendar.cursor is None,
                                   self._sync(integration, provider, calendar))
            future.set_result(None)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: the caller re-raises it below
            raise
        except BaseException:
            future.cancel()  # cancelled mid-round: waiters retry on their own
            raise
        finally:
            del self._inflight[calendar.id]

    async def _sync(self, integration: Integration, provider: Provider,
                    calendar: CalendarRecord) -> None:
        window = sync_window(self.settings, datetime.now(UTC))
        try:
            result = await self._round(provider, calendar.provider_id, calendar.cursor, window)
        except CursorExpired:
            log.info("sync cursor expired; full resync of calendar %s", calendar.id)
            result = await self._round(provider, calendar.provider_id, None, window)
        mirrored = [mirror_event(integration.id, calendar, e) for e in result.changed]
        await self.store.apply_event_sync(calendar.id, mirrored, result.removed,
                                          result.cursor, datetime.now(UTC), result.full)

    async def _round(self, provider: Provider, calendar_id: str, cursor: str | None,
                     window: Window) -> RoundResult:
        async def fetch(at: str | None) -> SyncPage:
            return await provider.sync_events(calendar_id, at, window)

        changed, removed, next_cursor = await page_to_end(fetch, cursor, _event_key)
        return RoundResult(changed, removed, next_cursor, cursor is None)

    async def sync_contacts(self, integration: Integration, provider: Provider,
                            force: bool = False) -> None:
        # the caller's record may come from a cache: the cursor and sync time are the store's
        current = await self.store.get_integration(integration.id) or integration
        if not force and self.is_fresh(current.contacts_synced_at, datetime.now(UTC)):
            return
        cursor = current.contacts_cursor
        try:
            changed, removed, next_cursor = await page_to_end(
                provider.sync_contacts, cursor, _contact_key)
        except CursorExpired:
            cursor = None
            changed, removed, next_cursor = await page_to_end(
                provider.sync_contacts, None, _contact_key)
        await self.store.apply_contact_sync(integration.id, changed, removed, next_cursor,
                                            datetime.now(UTC), cursor is None)


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
