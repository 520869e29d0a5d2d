"""The push keeper: one provider channel per synced calendar, kept alive (DESIGN §11 "In").

Each instance runs one :class:`PushKeeper` while push is enabled (with push off, it only
stops once the channels an earlier run left open). It reconciles the store's
channels with what should be watched: the synced calendars of connected integrations
whose provider :class:`~proxy.providers.base.Pushes`. It

* opens a channel for a watched calendar that has none (``watch``), then stores it;
* renews a channel within :meth:`PushKeeper.renew_within` of its expiry: in place where
  the provider can (Graph's PATCH), else with a new channel first and the old one stopped
  after (Google, whose channels overlap);
* stops the channels of calendars no longer watched (unsynced, removed, their
  integration suspended) and forgets them.

Every change to one calendar's channels happens under the lease ``push:{calendar_id}``
(:mod:`proxy.sync.leases`) and re-reads the store inside it, so instances on one database
never open two channels for one calendar; up to ``CALPROXY_SYNC_CONCURRENCY`` calendars
are settled at once. The keeper reconciles every
:data:`SCAN_SECONDS`, at the next renewal due, and soon after integrations or calendars
change (store announcements). :meth:`PushKeeper.stop_all` is called by a disconnect
before the integration is deleted; :meth:`PushKeeper.renew_now` and
:meth:`PushKeeper.resubscribe` serve Graph's lifecycle notices.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from proxy.config import Settings
from proxy.core.model import Service
from proxy.errors import CalproxyError, UpstreamAuthError, UpstreamNotFound
from proxy.providers.base import Provider, PushChannel, Pushes, PushTarget
from proxy.store.changes import Change, Topic
from proxy.store.interface import Store
from proxy.store.records import CalendarRecord, Integration, IntegrationStatus, PushChannelRecord
from proxy.store.sql_base import sha256_hex
from proxy.sync.calendars import CalendarService
from proxy.sync.leases import Leases

log = logging.getLogger(__name__)

#: a full reconcile at least this often
SCAN_SECONDS = 300.0
#: after a store announcement, wait this long for the rest of the burst, then reconcile
SETTLE_SECONDS = 0.5
#: reconciles woken by announcements are at least this far apart (sync rounds announce
#: their calendars all the time; a reconcile reads the whole schedule)
MIN_INTERVAL_SECONDS = 2.0
#: a calendar whose channel could not be kept is tried again after 2, 4, ... seconds, at most
MAX_BACKOFF_SECONDS = 600.0
#: renew at most this long before expiry (less for providers with short channels)
RENEW_MARGIN = timedelta(hours=12)
#: the hook paths below the public URL, per service: (notifications, lifecycle)
HOOKS: dict[Service, tuple[str, str | None]] = {
    Service.GRAPH: ("/hooks/graph", "/hooks/graph/lifecycle"),
    Service.GOOGLE: ("/hooks/google", None),
}


def _now() -> datetime:
    return datetime.now(UTC)


def as_channel(record: PushChannelRecord) -> PushChannel:
    return PushChannel(record.upstream_id, record.resource_id, record.expires_at)


class PushKeeper:
    """Keeps this deployment's channels in line with the watched calendars."""

    def __init__(self, store: Store, settings: Settings, service: CalendarService,
                 leases: Leases, nudge: Callable[[str], None] | None = None,
                 scan_seconds: float = SCAN_SECONDS) -> None:
        self.store, self.settings, self.service, self.leases = store, settings, service, leases
        #: called with a calendar id after its channel was opened again (lost notices)
        self.nudge = nudge
        self.scan_seconds = scan_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        #: integrations being disconnected here: never watched again
        self._retiring: set[str] = set()
        #: integrations whose provider cannot push (EWS): not looked at again
        self._silent: set[str] = set()
        #: calendars whose channel failed: (failures so far, when to try again)
        self._backoff: dict[str, tuple[int, datetime]] = {}
        #: the channels the last reconcile saw, to notice rows that went with their calendar
        self._known: dict[str, PushChannelRecord] = {}

    # --- life cycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Keep channels in the background; with push off, stop once what an earlier run
        left open (else those would live on to their expiry, every notice still syncing)."""
        if not self.settings.push_enabled:
            self._task = asyncio.create_task(self._retire_leftovers(),
                                             name="calproxy-push-retire")
            return
        self._unsubscribe = self.store.changes.subscribe(self._on_change)
        self._task = asyncio.create_task(self._run(), name="calproxy-push-keeper")

    async def _retire_leftovers(self) -> None:
        try:
            left = {c.calendar_id for c in await self.store.list_push_channels()}
        except Exception as exc:
            log.warning("push channels not listed (%s)", type(exc).__name__)
            return
        for calendar_id in sorted(left):  # push is off: nothing is watched, all are stopped
            await self._guarded(calendar_id, self._settle_calendar)

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        """Reconcile soon (after :data:`SETTLE_SECONDS`)."""
        self._wake.set()

    def _on_change(self, change: Change) -> None:
        if change.topic in (Topic.INTEGRATION, Topic.CALENDAR):
            self._wake.set()

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                next_due = await self.reconcile()
            except Exception as exc:  # the store or a provider is down: try again later
                log.warning("push channels not reconciled (%s)", type(exc).__name__)
                next_due = _now() + timedelta(seconds=min(30.0, self.scan_seconds))
            seconds = min(self.scan_seconds, max(0.0, (next_due - _now()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), seconds)
            if self._wake.is_set():  # let the rest of the burst land
                await asyncio.sleep(max(SETTLE_SECONDS, MIN_INTERVAL_SECONDS
                                        - (time.monotonic() - started)))
            self._wake.clear()

    # --- reconciling -----------------------------------------------------------------------
    async def reconcile(self) -> datetime:
        """One pass over every watched calendar and every stored channel; returns when
        the next renewal is due (at the latest a scan from now)."""
        schedule = await self.store.sync_schedule()
        channels = await self.store.list_push_channels()
        await self._stop_orphans(channels)
        wanted = {t.key: t.integration_id for t in schedule.calendars}
        covered = {c.calendar_id for c in channels}
        doubled = {c for c in covered if sum(x.calendar_id == c for x in channels) > 1}
        todo = doubled | {c.calendar_id for c in channels
                          if c.calendar_id not in wanted or c.integration_id in self._retiring
                          or self._renewal_due(c)}
        if self.settings.push_enabled:
            now = _now()
            todo |= {calendar_id for calendar_id, integration_id in wanted.items()
                     if calendar_id not in covered and integration_id not in self._retiring
                     and integration_id not in self._silent
                     and self._backoff.get(calendar_id, (0, now))[1] <= now}
        gate = asyncio.Semaphore(self.settings.sync_concurrency)

        async def settle(calendar_id: str) -> None:
            async with gate:
                await self._guarded(calendar_id, self._settle_calendar)

        await asyncio.gather(*(settle(c) for c in sorted(todo)))
        return await self._next_due()

    async def _stop_orphans(self, channels: Sequence[PushChannelRecord]) -> None:
        """Channels whose rows went with their calendar (removed upstream, so the store
        forgot it and its channels at once) are stopped upstream from what was last seen.
        Rows another instance deleted belong to calendars that still exist: skipped."""
        current = {c.id: c for c in channels}
        vanished = [r for key, r in self._known.items() if key not in current]
        self._known = current
        for record in vanished:
            try:
                if await self.store.get_calendar(record.calendar_id) is not None:
                    continue
                integration = await self.store.get_integration(record.integration_id)
                if integration is None:  # deleted: its disconnect stopped what it could
                    continue
                async with self._any_provider(integration) as provider:
                    if isinstance(provider, Pushes):
                        async with self._turn(integration):
                            await provider.unwatch(as_channel(record))
            except Exception as exc:  # it expires by itself
                log.warning("orphaned push channel not stopped (%s)", type(exc).__name__)

    async def _next_due(self) -> datetime:
        latest = _now() + timedelta(seconds=self.scan_seconds)
        channels = await self.store.list_push_channels()
        self._known = {c.id: c for c in channels}  # as this pass left them
        return min([latest, *(c.expires_at - self._margin(c) for c in channels)])

    async def _guarded(self, calendar_id: str, work: Callable[[str], Awaitable[None]]) -> None:
        """Run ``work(calendar_id)`` under the calendar's lease, logging its failure (one
        calendar's trouble does not stop the others; it is tried again after a back-off)."""
        try:
            async with self.leases.hold(f"push:{calendar_id}") as held:
                if held is not None:
                    await work(calendar_id)
            self._backoff.pop(calendar_id, None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failures = self._backoff.get(calendar_id, (0, _now()))[0] + 1
            wait = min(2.0 ** failures, MAX_BACKOFF_SECONDS)
            self._backoff[calendar_id] = (failures, _now() + timedelta(seconds=wait))
            log.warning("push channel of a calendar not kept (%s); again in %.0f s",
                        type(exc).__name__, wait)

    async def _settle_calendar(self, calendar_id: str) -> None:
        """Bring one calendar's channels in line (under its lease): stop them when it is
        no longer watched; else renew what is due and open one when there is none."""
        found = await self._watched(calendar_id)
        channels = await self._channels_of(calendar_id)
        if found is None:
            for channel in channels:
                await self._stop(channel)
            return
        integration, calendar, provider = found
        live = []
        for channel in channels:
            if self._renewal_due(channel):
                renewed = await self._renew(integration, calendar, provider, channel)
                if renewed is not None:
                    live.append(renewed)
            else:
                live.append(channel)
        live.sort(key=lambda c: c.created_at)
        for extra in live[:-1]:  # one channel per calendar: the newest stays
            await self._stop(extra)
        if not live:
            await self._open(integration, calendar, provider)

    async def _channels_of(self, calendar_id: str) -> list[PushChannelRecord]:
        calendar = await self.store.get_calendar(calendar_id)
        if calendar is None:  # its channels went with it
            return []
        return [c for c in await self.store.list_push_channels(calendar.integration_id)
                if c.calendar_id == calendar_id]

    async def _watched(self, calendar_id: str) -> tuple[Integration, CalendarRecord,
                                                        Pushes] | None:
        """The calendar, its integration and its pushing provider if it is to be watched."""
        if not self.settings.push_enabled:
            return None
        calendar = await self.store.get_calendar(calendar_id)
        if calendar is None or not calendar.synced:
            return None
        integration = await self.store.get_integration(calendar.integration_id)
        if (integration is None or integration.status is not IntegrationStatus.CONNECTED
                or integration.id in self._retiring or integration.id in self._silent):
            return None
        provider = await self.service.connections.provider(integration)
        if integration.service not in HOOKS or not isinstance(provider, Pushes):
            self._silent.add(integration.id)
            return None
        return integration, calendar, provider

    # --- one channel ---------------------------------------------------------------------------
    def _margin(self, channel: PushChannelRecord) -> timedelta:
        lifetime = channel.expires_at - channel.created_at
        return min(RENEW_MARGIN, max(lifetime / 4, timedelta(seconds=1)))

    def _renewal_due(self, channel: PushChannelRecord) -> bool:
        return channel.expires_at - self._margin(channel) <= _now()

    def _target(self, service: Service, lifetime: timedelta) -> PushTarget:
        hook, lifecycle = HOOKS[service]
        base = self.settings.base_url
        return PushTarget(f"{base}{hook}", f"{base}{lifecycle}" if lifecycle else None,
                          secrets.token_hex(16), secrets.token_urlsafe(32), _now() + lifetime)

    async def _open(self, integration: Integration, calendar: CalendarRecord,
                    provider: Pushes) -> PushChannelRecord:
        """Ask for a channel and store it; a channel that cannot be stored is stopped."""
        target = self._target(integration.service, provider.push.lifetime)
        async with self._turn(integration):
            granted = await provider.watch(calendar.provider_id, calendar.is_primary, target)
        record = PushChannelRecord(
            id=target.channel_id, calendar_id=calendar.id, integration_id=integration.id,
            service=integration.service, upstream_id=granted.upstream_id,
            resource_id=granted.resource_id, secret_hash=sha256_hex(target.secret),
            expires_at=granted.expires, created_at=_now())
        try:
            return await self.store.put_push_channel(record)
        except BaseException:  # e.g. the calendar was deleted meanwhile
            with contextlib.suppress(Exception):
                async with self._turn(integration):
                    await provider.unwatch(granted)
            raise

    async def _renew(self, integration: Integration, calendar: CalendarRecord,
                     provider: Pushes, channel: PushChannelRecord) -> PushChannelRecord | None:
        """The channel renewed (in place, or replaced by a new one); ``None`` when it was
        gone upstream and has been forgotten."""
        if not provider.push.renews_in_place:
            fresh = await self._open(integration, calendar, provider)
            await self._stop(channel)
            return fresh
        try:
            async with self._turn(integration):
                renewed = await provider.renew(as_channel(channel),
                                               _now() + provider.push.lifetime)
        except UpstreamNotFound:  # expired or removed upstream: forget it, open anew
            await self.store.delete_push_channel(channel.id)
            return None
        record = replace(channel, upstream_id=renewed.upstream_id,
                         resource_id=renewed.resource_id, expires_at=renewed.expires,
                         created_at=_now())
        return await self.store.put_push_channel(record)

    async def _stop(self, channel: PushChannelRecord) -> None:
        """Stop the channel upstream, then forget it. A provider that cannot be reached
        for it any more (integration gone, its grant revoked) leaves the channel to
        expire by itself; its notices are then ignored as unknown."""
        integration = await self.store.get_integration(channel.integration_id)
        if integration is not None:
            async with self._any_provider(integration) as provider:
                if isinstance(provider, Pushes):
                    try:
                        async with self._turn(integration):
                            await provider.unwatch(as_channel(channel))
                    except (UpstreamAuthError, UpstreamNotFound):
                        pass
        await self.store.delete_push_channel(channel.id)

    @contextlib.asynccontextmanager
    async def _any_provider(self, integration: Integration) -> AsyncIterator[Provider | None]:
        """The integration's provider even when it is suspended (a channel can still be
        stopped with the tokens it has), closed afterwards if it was built for this."""
        connections = self.service.connections
        if integration.status is IntegrationStatus.CONNECTED:
            yield await connections.provider(integration)
            return
        try:
            provider = await connections.build(integration)
        except CalproxyError:
            yield None
            return
        try:
            yield provider
        finally:
            await provider.close()

    def _turn(self, integration: Integration) -> contextlib.AbstractAsyncContextManager[None]:
        """A push call passes the mailbox's gate like every other provider call."""
        return self.service.connections.manners.turn(integration.service, integration.id)

    # --- asked from outside ------------------------------------------------------------------
    async def stop_all(self, integration_id: str) -> None:
        """Stop every channel of an integration about to be deleted (never raises: the
        disconnect goes on; a channel that could not be stopped expires by itself)."""
        self._retiring.add(integration_id)
        try:
            for channel in await self.store.list_push_channels(integration_id):
                try:
                    await self._stop(channel)
                except Exception as exc:
                    log.warning("push channel not stopped (%s)", type(exc).__name__)
                    with contextlib.suppress(Exception):
                        await self.store.delete_push_channel(channel.id)
        except Exception as exc:
            log.warning("push channels of an integration not listed (%s)", type(exc).__name__)

    def forget_retired(self, integration_id: str) -> None:
        """The integration is deleted: the id need not be remembered any longer."""
        self._retiring.discard(integration_id)

    async def renew_now(self, record: PushChannelRecord) -> None:
        """Graph's ``reauthorizationRequired``: renew this channel at once."""
        await self._guarded(record.calendar_id, lambda cid: self._renew_one(cid, record.id))

    async def _renew_one(self, calendar_id: str, channel_id: str) -> None:
        found = await self._watched(calendar_id)
        current = [c for c in await self._channels_of(calendar_id) if c.id == channel_id]
        if found is None or not current:
            await self._settle_calendar(calendar_id)
            return
        integration, calendar, provider = found
        if await self._renew(integration, calendar, provider, current[0]) is None:
            await self._open(integration, calendar, provider)

    async def resubscribe(self, record: PushChannelRecord) -> None:
        """Graph's ``subscriptionRemoved``: forget the channel, watch the calendar again,
        and sync it (what changed meanwhile was not told)."""
        await self._guarded(record.calendar_id, lambda cid: self._resubscribe(cid, record.id))
        if self.nudge is not None:
            self.nudge(record.calendar_id)

    async def _resubscribe(self, calendar_id: str, channel_id: str) -> None:
        await self.store.delete_push_channel(channel_id)
        await self._settle_calendar(calendar_id)

    async def channels_of(self, calendar_ids: Sequence[str]) -> list[PushChannelRecord]:
        """The stored channels of these calendars (tests and the portal read it)."""
        wanted = set(calendar_ids)
        return [c for c in await self.store.list_push_channels() if c.calendar_id in wanted]
