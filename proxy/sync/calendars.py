"""Reads through the mirror and writes through to the provider, for one owner.

Reads never reach a provider when the mirror is fresh; writes go to the provider first and
land in the mirror from the provider's answer, so they are visible in the next read
without waiting for a sync.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Literal, Protocol

from proxy.config import Settings
from proxy.core.mirror import MirroredEvent
from proxy.core.model import Access, Contact, ContactDraft, EventDraft, EventStatus
from proxy.core.recurrence import expand
from proxy.errors import Conflict, Forbidden, NotFound, Unprocessable
from proxy.providers.base import Provider
from proxy.store.interface import Store
from proxy.store.records import CalendarRecord, Integration, IntegrationStatus
from proxy.sync.connections import Connections
from proxy.sync.driver import Syncer, mirror_event, sync_window

Owned = tuple[Integration, CalendarRecord]


class Lookups(Protocol):
    """Where the service reads integrations and calendar records: the store itself, or
    the read path's announcement-invalidated cache of it (:class:`proxy.cache.Principals`)."""

    async def list_integrations(self, user_id: str) -> list[Integration]: ...
    async def list_calendars(self, integration_ids: Sequence[str]) -> list[CalendarRecord]: ...


class CalendarService:
    def __init__(self, store: Store, settings: Settings, connections: Connections,
                 syncer: Syncer, lookups: Lookups | None = None) -> None:
        self.store, self.settings = store, settings
        self.connections, self.syncer = connections, syncer
        self.lookups: Lookups = store if lookups is None else lookups

    # --- integrations and calendars ----------------------------------------------------
    async def serving_integrations(self, owner_id: str,
                                   kind: Literal["calendar", "contacts"]) -> list[Integration]:
        """The owner's connected integrations granted ``kind``; 409 when all of them are
        suspended, 403 when none was granted access to ``kind``."""
        integrations = await self.lookups.list_integrations(owner_id)
        live = [i for i in integrations if i.status is IntegrationStatus.CONNECTED]
        granted = [i for i in live if getattr(i.granted, kind) is not Access.NONE]
        if granted:
            return granted
        if live:
            raise Forbidden(f"No connected integration was granted {kind} access.",
                            "integration_no_access")
        broken = [i for i in integrations if i.status in {
            IntegrationStatus.SUSPENDED, IntegrationStatus.ERROR}]
        if broken:
            reason = broken[0].reason or broken[0].status.value
            raise Conflict(f"The {kind} integration is {broken[0].status.value} ({reason}); "
                           "it must be reconnected.", "reintegration_required")
        raise Conflict(f"This user has not connected a {kind} service yet.", "not_integrated")

    async def calendars(self, owner_id: str, refresh: bool = False) -> list[Owned]:
        integrations = await self.serving_integrations(owner_id, "calendar")
        if len(integrations) == 1:  # the common case: no tasks to gather (a read's cost)
            return await self._calendars_of(integrations[0], refresh)
        results = await asyncio.gather(*(self._calendars_of(i, refresh) for i in integrations))
        return [pair for found in results for pair in found]

    async def _calendars_of(self, integration: Integration, refresh: bool) -> list[Owned]:
        records = await self.lookups.list_calendars([integration.id])
        if refresh:
            provider = await self.connections.provider(integration)
            upstream = await provider.list_calendars()
            records = await self.store.upsert_calendars(integration.id, upstream, False)
        elif not records:  # first use: listed once, whichever instance gets there first
            await self.syncer.discover(integration, await self.connections.provider(integration))
            records = await self.lookups.list_calendars([integration.id])
        return [(integration, r) for r in records]

    async def sync_now(self, calendar_id: str, *, stale_only: bool, wait: bool,
                       integration: Integration | None = None,
                       seen: datetime | None = None) -> CalendarRecord | None:
        """One round of a synced calendar of a connected integration, as background work
        runs it (the scheduler, push nudges): ``stale_only`` skips a calendar still fresh
        (or synced past ``seen``, its ``synced_at`` as the caller last saw it);
        ``wait=False`` leaves a round running on another instance to it. A caller that
        knows the calendar's ``integration`` (the scheduler, from its last scan) saves
        reading calendar and integration first: the round's own first transaction reads
        the calendar. Returns the calendar as it is afterwards, or ``None`` once it is no
        longer to be kept (gone, unsynced, or its integration not connected)."""
        if integration is None:
            calendar = await self.store.get_calendar(calendar_id)
            if calendar is None or not calendar.synced:
                return None
            integration = await self.store.get_integration(calendar.integration_id)
            seen = calendar.synced_at
        if integration is None or integration.status is not IntegrationStatus.CONNECTED:
            return None
        provider = await self.connections.provider(integration)
        after = await self.syncer.refresh_calendar(integration, provider, calendar_id, seen,
                                                   wait=wait, stale_only=stale_only)
        return after if after is not None and after.synced else None

    async def set_synced(self, owner_id: str, calendar_id: str, synced: bool) -> CalendarRecord:
        owned = await self.resolve_calendar(owner_id, calendar_id)
        return await self.store.set_calendar_synced(owned[1].id, synced)

    async def resolve_calendar(self, owner_id: str, calendar_id: str | None) -> Owned:
        """The owner's calendar ``calendar_id``, or the primary one for ``None``."""
        pairs = await self.calendars(owner_id)
        for pair in pairs:
            if calendar_id is None and pair[1].is_primary and pair[1].synced:
                return pair
            if pair[1].id == calendar_id:
                return pair
        if calendar_id is None and pairs:
            return pairs[0]
        raise NotFound("calendar_id: no such calendar", "calendar_not_found")

    # --- reads ---------------------------------------------------------------------------
    async def readable(self, owner_id: str, calendar_id: str | None = None) -> list[Owned]:
        """The owner's synced calendars (or just ``calendar_id``), brought up to date: a
        calendar whose ``synced_at`` is older than the freshness window syncs first, and
        then its record (new version, new ``synced_at``) is read again."""
        pairs = [p for p in await self.calendars(owner_id) if p[1].synced]
        if calendar_id is not None:
            pairs = [p for p in pairs if p[1].id == calendar_id]
            if not pairs:
                raise NotFound("calendar: no such synced calendar", "calendar_not_found")
        if not await self._refresh(pairs):
            return pairs
        wanted = {p[1].id for p in pairs}
        return [p for p in await self.calendars(owner_id) if p[1].id in wanted]

    async def calendar_window(self, calendar: CalendarRecord, start: datetime,
                              end: datetime) -> list[MirroredEvent]:
        """One calendar's mirrored items for [start, end), series unexpanded (the reader
        expands them with :func:`~proxy.core.recurrence.expand_keyed`)."""
        return await self.store.window_items([calendar.id], start, end)

    async def calendar_items(self, calendar: CalendarRecord) -> list[MirroredEvent]:
        """Every mirrored item of one calendar, series unexpanded (for in-memory indexes)."""
        return await self.store.window_items([calendar.id], datetime.min.replace(
            tzinfo=UTC), datetime.max.replace(tzinfo=UTC))

    async def occurrences(self, owner_id: str, start: datetime, end: datetime,
                          calendar_id: str | None = None) -> list[MirroredEvent]:
        ids = [p[1].id for p in await self.readable(owner_id, calendar_id)]
        return expand(await self.store.events_in_range(ids, start, end), start, end)

    async def fresh_calendars(self, owner_id: str) -> list[CalendarRecord]:
        """The owner's synced calendars, brought up to date, with their mirror versions."""
        return sorted((p[1] for p in await self.readable(owner_id)), key=lambda r: r.id)

    async def feed_items(self, calendars: list[CalendarRecord], start: datetime,
                         end: datetime) -> list[MirroredEvent]:
        """The mirrored items of a feed window, series unexpanded (masters with RRULE)."""
        items = await self.store.events_in_range([c.id for c in calendars], start, end)
        return sorted(items, key=lambda i: i.id)

    async def _refresh(self, pairs: list[Owned]) -> bool:
        """Sync the stale calendars among ``pairs``; ``False`` when all were fresh (then
        nothing was asked of a provider or the store)."""
        now = datetime.now(UTC)
        by_integration: dict[str, tuple[Integration, list[CalendarRecord]]] = {}
        for integration, record in pairs:
            if not self.syncer.is_fresh(record.synced_at, now):
                by_integration.setdefault(integration.id, (integration, []))[1].append(record)
        if not by_integration:
            return False

        async def refresh(integration: Integration, records: list[CalendarRecord]) -> None:
            provider = await self.connections.provider(integration)
            await self.syncer.ensure_fresh(integration, provider, records)

        await asyncio.gather(*(refresh(i, records) for i, records in by_integration.values()))
        return True

    async def event(self, owner_id: str, event_id: str) -> MirroredEvent:
        """One event or occurrence of the owner, by public id."""
        return await self.event_in(await self.readable(owner_id), event_id)

    async def event_in(self, pairs: list[Owned], event_id: str) -> MirroredEvent:
        """One event or occurrence of these (fresh) calendars, by public id."""
        found = await self.store.get_event(event_id)
        if found is not None and found.calendar_id in {p[1].id for p in pairs}:
            return found
        window = sync_window(self.settings, datetime.now(UTC))
        ids = [p[1].id for p in pairs]
        for item in expand(await self.store.events_in_range(ids, window.start, window.end),
                           window.start, window.end):
            if item.id == event_id:
                return item
        raise NotFound("event: no such event", "event_not_found")

    # --- writes ----------------------------------------------------------------------------
    async def create_event(self, owned: Owned, draft: EventDraft) -> MirroredEvent:
        integration, calendar = owned
        provider = await self.connections.provider(integration)
        require(provider.capabilities.write_events, integration, "writing events")
        writable(calendar)
        created = await provider.create_event(calendar.provider_id, draft)
        item = mirror_event(integration.id, calendar, created)
        await self.store.put_event(calendar.id, item)
        return item

    async def _target(self, owner_id: str, item: MirroredEvent) -> tuple[
            Provider, Integration, CalendarRecord, str]:
        """Where a write on ``item`` goes: provider, integration, calendar, provider id.

        An occurrence the core expanded from a series master has the master's provider id;
        the provider names the id that addresses that one occurrence instead.
        """
        integration, calendar = await self.resolve_calendar(owner_id, item.calendar_id)
        provider = await self.connections.provider(integration)
        require(provider.capabilities.write_events, integration, "writing events")
        writable(calendar)
        event, rec = item.event, item.event.recurrence
        if (rec is not None and rec.original_start is not None and not rec.is_exception
                and rec.series_id == event.provider_id):
            return provider, integration, calendar, await provider.occurrence_id(
                calendar.provider_id, rec.series_id, rec.original_start)
        return provider, integration, calendar, event.provider_id

    async def update_event(self, owner_id: str, item: MirroredEvent,
                           draft: EventDraft) -> MirroredEvent:
        provider, integration, calendar, event_id = await self._target(owner_id, item)
        updated = await provider.update_event(calendar.provider_id, event_id, draft)
        result = mirror_event(integration.id, calendar, updated)
        await self.store.put_event(calendar.id, result)
        return result

    async def delete_event(self, owner_id: str, item: MirroredEvent) -> None:
        provider, integration, calendar, event_id = await self._target(owner_id, item)
        await provider.delete_event(calendar.provider_id, event_id)
        if event_id == item.event.provider_id:
            await self.store.delete_event(calendar.id, event_id)
            return
        # one occurrence of a series: mirror it as cancelled so that it vanishes at once
        cancelled = replace(item.event, provider_id=event_id, status=EventStatus.CANCELLED)
        await self.store.put_event(calendar.id, mirror_event(integration.id, calendar,
                                                             cancelled))

    # --- contacts ------------------------------------------------------------------------
    async def contacts(self, owner_id: str) -> list[tuple[str, str, Contact]]:
        integrations = await self.serving_integrations(owner_id, "contacts")
        for integration in integrations:
            if integration.granted.contacts.rank > 0:
                provider = await self.connections.provider(integration)
                if provider.capabilities.read_contacts:
                    await self.syncer.sync_contacts(integration, provider)
        return await self.store.list_contacts([i.id for i in integrations])

    async def create_contact(self, integration: Integration,
                             draft: ContactDraft) -> tuple[str, Contact]:
        provider = await self.connections.provider(integration)
        require(provider.capabilities.write_contacts, integration, "creating contacts")
        contact = await provider.create_contact(draft)
        public_id = await self.store.put_contact(integration.id, contact)
        return public_id, contact


def writable(calendar: CalendarRecord) -> None:
    """Calendars shared with the owner read-only upstream refuse writes here already."""
    if not calendar.can_write:
        raise Forbidden("calendar_id: this calendar is read-only for its owner upstream.",
                        "calendar_read_only")


def require(capable: bool, integration: Integration, what: str) -> None:
    """Refuse what a provider cannot do, the same way for every provider."""
    if not capable:
        raise Unprocessable(f"The {integration.service.value} service does not support {what}.",
                            "not_supported_by_service")
