"""Turning committed mirror changes into change-log entries, once per viewer class.

The tracker listens to the store's announcements of calendar changes that this process
committed (every instance tracks its own writes, so each change is tracked once), waits a
moment so that a burst becomes one entry, and then, for an owner someone watches (a
webhook, or a stream in the last hour), compares what each viewer class reads of that
calendar now with its last snapshot. A difference is logged as the thin body that class
may see; the snapshot swap and the entry are one store transaction, and a lost race is
simply recomputed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from proxy.config import Settings
from proxy.core.mirror import MirroredEvent
from proxy.core.recurrence import expand
from proxy.notifications.views import Viewer, diff, notification, snapshot
from proxy.store.changes import Change, Topic
from proxy.store.interface import Store
from proxy.sync.driver import sync_window

log = logging.getLogger(__name__)
#: changes of one calendar closer together than this become one entry
COALESCE_SECONDS = 0.3


class ChangeTracker:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store, self.settings = store, settings
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe = store.changes.subscribe(self._on_change, local_only=True)

    def _on_change(self, change: Change) -> None:
        if change.topic is Topic.CALENDAR:
            self._pending.add(change.key)
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self._unsubscribe()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(COALESCE_SECONDS)
            self._wake.clear()
            calendars, self._pending = self._pending, set()
            for calendar_id in sorted(calendars):
                try:
                    await self.track(calendar_id)
                except Exception as exc:  # one calendar's failure must not stop the rest
                    log.error("change tracking failed: %s", type(exc).__name__)

    async def track(self, calendar_id: str) -> None:
        """Log what each viewer class of the calendar's owner would now read differently."""
        found = await self.store.watched_calendar(calendar_id)  # one query per round
        if found is None:
            return
        calendar, owner_id, email = found
        window = sync_window(self.settings, datetime.now(UTC))
        items = [] if not calendar.synced else expand(
            await self.store.events_in_range([calendar_id], window.start, window.end),
            window.start, window.end)
        for viewer in Viewer:
            await self._record(owner_id, email, viewer, calendar_id, items)

    async def baseline(self, owner_id: str) -> None:
        """Snapshot every calendar of the owner, so the next change can be told apart."""
        for integration in await self.store.list_integrations(owner_id):
            for calendar in await self.store.list_calendars([integration.id]):
                await self.track(calendar.id)

    async def _record(self, owner_id: str, email: str, viewer: Viewer, calendar_id: str,
                      items: list[MirroredEvent]) -> None:
        digests = snapshot(viewer, items)
        for _ in range(5):
            prior = await self.store.get_snapshot(owner_id, viewer.value, calendar_id)
            if prior is None:
                await self.store.record_change(owner_id, viewer.value, calendar_id, None,
                                               digests, None)
                return
            change = diff(prior[0], digests)
            if not change:
                return
            body = notification(viewer, email, calendar_id, change)
            if await self.store.record_change(owner_id, viewer.value, calendar_id, prior[1],
                                              digests, body) is not None:
                return
