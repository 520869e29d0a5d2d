"""The background scheduler: every synced mirror is refreshed once per freshness period
without anyone having to read it (DESIGN §10).

Each instance runs one. It reads the schedule from the store (synced calendars and the
contacts of connected integrations, with their ``synced_at``; integrations whose
calendars were never listed) every :attr:`Scheduler.scan_seconds`, and runs a round for
each target as soon as its mirror reaches ``CALPROXY_FRESHNESS_SECONDS`` of age, plus a
small random jitter (at most 2 % of the period, at most a second) so that calendars synced
together drift apart and instances do not race each other to the same calendar. Rounds
run at most ``CALPROXY_SYNC_CONCURRENCY`` at a time.

A round is refreshed when it is due, never earlier, so each mirror costs at most one
upstream round per period; a read that finds a mirror stale in the moment before its
round lands syncs first, as without the scheduler (it joins a round already running).
With several instances every one of them schedules every target, and the lease per
calendar (:class:`~proxy.sync.driver.Syncer`) lets one of them run the round; the others
find the mirror fresh, or leave a round running elsewhere to its holder. An instance that
hears of another's committed round (relayed change notices) pushes that target a period
ahead at once, so the instances rarely try the same calendar in the same period.

A failed round is retried after an exponential back-off (capped at one period); a
throttled one after the provider's ``Retry-After``. :meth:`Scheduler.sync_lag` is the age
of the stalest mirror (what ``calproxy_sync_lag_seconds`` exports).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from proxy.config import Settings
from proxy.core.model import Access
from proxy.errors import UpstreamThrottled
from proxy.providers.base import Provider
from proxy.store.changes import Change, Topic
from proxy.store.interface import Store
from proxy.store.records import Integration, IntegrationStatus, SyncSchedule
from proxy.sync.calendars import CalendarService

log = logging.getLogger(__name__)


@dataclass
class _Target:
    kind: str  # calendar | contacts | discover
    key: str  # the calendar id, or the integration id
    integration_id: str
    synced_at: datetime | None
    first_seen: datetime
    due: datetime
    failures: int = 0
    #: synced_at was inferred from another instance's notice: the next scan sets it right
    assumed: bool = False


def _now() -> datetime:
    return datetime.now(UTC)


class Scheduler:
    def __init__(self, store: Store, settings: Settings, service: CalendarService) -> None:
        self.store, self.settings, self.service = store, settings, service
        self.freshness = timedelta(seconds=settings.freshness_seconds)
        self.jitter = min(settings.freshness_seconds * 0.02, 1.0)
        self.scan_seconds = max(0.5, min(settings.freshness_seconds / 4, 30.0))
        self.concurrency = settings.sync_concurrency
        self._targets: dict[str, _Target] = {}
        #: the connected integrations as of the last scan (a round needs not read its own)
        self._integrations: dict[str, Integration] = {}
        #: targets whose provider cannot sync them (contacts of a calendar-only service)
        self._unsupported: set[str] = set()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._next_scan = _now()
        self._unsubscribe: Callable[[], None] | None = None

    # --- life cycle ------------------------------------------------------------------------
    async def start(self) -> None:
        self._unsubscribe = self.store.changes.subscribe(self._on_change, relayed_only=True)
        self._loop_task = asyncio.create_task(self._run(), name="calproxy-scheduler")

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        tasks = [t for t in (self._loop_task, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- what it measures --------------------------------------------------------------------
    def sync_lag(self, now: datetime | None = None) -> float:
        """Seconds since the stalest mirror this scheduler keeps was synced (a mirror never
        synced counts from when the scheduler first saw it); 0 with nothing to keep."""
        now = now or _now()
        stamps = [t.synced_at or t.first_seen for t in self._targets.values()
                  if t.kind != "discover"]
        return max(((now - s).total_seconds() for s in stamps), default=0.0)

    # --- the loop --------------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            now = _now()
            if now >= self._next_scan:
                self._next_scan = now + timedelta(seconds=self.scan_seconds)
                try:
                    self._merge(await self.store.sync_schedule(), _now())
                except Exception as exc:  # the store is down: try again at the next scan
                    log.warning("sync schedule unavailable: %s", type(exc).__name__)
            self._dispatch(now)
            await self._sleep(now)

    def _dispatch(self, now: datetime) -> None:
        due = sorted((t for k, t in self._targets.items()
                      if t.due <= now and k not in self._running), key=lambda t: t.due)
        for target in due[:max(0, self.concurrency - len(self._running))]:
            name = f"{target.kind}:{target.key}"
            self._running[name] = asyncio.create_task(self._work(name, target))

    async def _sleep(self, now: datetime) -> None:
        waiting = [t.due for k, t in self._targets.items() if k not in self._running]
        until = min([self._next_scan, *waiting])
        seconds = min(max((until - now).total_seconds(), 0.005), self.scan_seconds)
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _merge(self, schedule: SyncSchedule, now: datetime) -> None:
        """Bring the targets in line with the store (the store's ``synced_at`` wins)."""
        seen: set[str] = set()
        self._integrations = schedule.integrations
        kinds = (("calendar", schedule.calendars), ("contacts", schedule.contacts))
        for kind, found in kinds:
            for item in found:
                seen.add(self._upsert(kind, item.key, item.integration_id, item.synced_at, now))
        for integration_id in schedule.undiscovered:
            seen.add(self._upsert("discover", integration_id, integration_id, None, now))
        for name in [n for n in self._targets if n not in seen and n not in self._running]:
            del self._targets[name]

    def _on_change(self, change: Change) -> None:
        """Another instance committed a change of a target: most likely its round landed,
        so this instance need not try it before a period has passed. A write's notice
        postpones a target wrongly, but only until the next scan reads its true
        ``synced_at`` (and the instance that wrote keeps the target on time meanwhile)."""
        kind = _NOTICE_KINDS.get(change.topic)
        name = f"{kind}:{change.key}"
        target = self._targets.get(name) if kind else None
        if target is None or name in self._running:
            return
        now = _now()
        target.synced_at, target.assumed = now, True
        if target.failures == 0:
            target.due = self._due_after(now, now)

    def _upsert(self, kind: str, key: str, integration_id: str, synced_at: datetime | None,
                now: datetime) -> str:
        name = f"{kind}:{key}"
        target = self._targets.get(name)
        if name in self._unsupported:
            return name
        if target is None:
            self._targets[name] = _Target(kind, key, integration_id, synced_at, now,
                                          self._due_after(synced_at, now))
        elif name not in self._running and (synced_at != target.synced_at or target.assumed):
            target.synced_at, target.assumed = synced_at, False
            if target.failures == 0:
                target.due = self._due_after(synced_at, now)
        return name

    def _due_after(self, synced_at: datetime | None, now: datetime) -> datetime:
        if synced_at is None:
            return now
        return synced_at + self.freshness + timedelta(seconds=random.uniform(0, self.jitter))

    # --- one round ---------------------------------------------------------------------------
    async def _work(self, name: str, target: _Target) -> None:
        try:
            keep = await self._round(target)
            target.failures = 0
            now = _now()
            target.due = self._due_after(target.synced_at, now)
            if target.due <= now:  # left to a round running on another instance
                target.due = now + timedelta(seconds=min(2.0, self.scan_seconds))
            if not keep:
                self._targets.pop(name, None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            target.failures += 1
            wait = min(2.0 ** target.failures, self.freshness.total_seconds())
            if isinstance(exc, UpstreamThrottled):
                wait = max(wait, float(exc.retry_after))
            target.due = _now() + timedelta(seconds=wait)
            log.warning("background sync of a %s failed (%s); retrying in %.0f s",
                        target.kind, type(exc).__name__, wait)
        finally:
            self._running.pop(name, None)
            self._wake.set()

    async def _round(self, target: _Target) -> bool:
        """Sync ``target`` if it is still due; False when it is no longer to be kept.

        A calendar's round reads nothing before it starts: the integration comes from the
        last scan, and the round's first transaction reads the calendar (and finds its
        integration no longer connected, or a round landed meanwhile)."""
        integration = self._integrations.get(target.integration_id)
        if integration is None:  # connected since the last scan
            integration = await self.store.get_integration(target.integration_id)
        if integration is None or integration.status is not IntegrationStatus.CONNECTED:
            return False
        if target.kind == "calendar":
            calendar = await self.service.sync_now(target.key, stale_only=True, wait=False,
                                                   integration=integration,
                                                   seen=target.synced_at)
            target.synced_at = calendar.synced_at if calendar else None
            return calendar is not None
        provider = await self.service.connections.provider(integration)
        syncer = self.service.syncer
        if target.kind == "discover":
            await syncer.discover(integration, provider)
            self._next_scan = _now()  # pick its calendars up at once
            return False
        if target.kind == "contacts":
            return await self._contacts(target, integration, provider)
        return False  # no other kinds

    async def _contacts(self, target: _Target, integration: Integration,
                        provider: Provider) -> bool:
        if not provider.capabilities.read_contacts:
            self._unsupported.add(f"contacts:{target.key}")
            return False
        if integration.granted.contacts is Access.NONE:
            return False
        await self.service.syncer.sync_contacts(integration, provider, wait=False)
        current = await self.store.get_integration(integration.id)
        target.synced_at = current.contacts_synced_at if current else None
        return current is not None


#: the notices that announce a target's round (topic: target kind)
_NOTICE_KINDS = {Topic.CALENDAR: "calendar", Topic.CONTACTS: "contacts"}


async def sync_lag(store: Store, now: datetime | None = None) -> float:
    """The age of the stalest synced mirror, from the store (for an instance without a
    scheduler); never-synced mirrors are not counted."""
    now = now or _now()
    schedule = await store.sync_schedule()
    stamps = [t.synced_at for t in (*schedule.calendars, *schedule.contacts) if t.synced_at]
    return max(((now - s).total_seconds() for s in stamps), default=0.0)
