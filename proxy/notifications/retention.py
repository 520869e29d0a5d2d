"""Keeping the change log short (DESIGN §11: a stream's ``Last-Event-ID`` replays at least
the last hour's entries).

Every instance prunes, every :data:`PRUNE_EVERY` and once at start-up; the deletes are
idempotent, so instances need no coordination. An entry goes once it is older than
``CALPROXY_CHANGE_LOG_HOURS`` (at least 1) *and* no active webhook of its owner is still
behind it: a webhook that fails is retried for up to 24 hours with its backlog intact, and
is told every entry in order once its receiver is back. When it is disabled it delivers
nothing more, and its backlog ages out like any other entry (a webhook is never resumed;
a new one starts from the newest entry). Watches of owners whose streams ended are
dropped too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

from proxy.store.interface import Store

log = logging.getLogger(__name__)
PRUNE_EVERY = 600.0
#: how often the task looks whether a pruning is due (cheap: no I/O)
TICK_SECONDS = 1.0


class ChangeLogPruner:
    def __init__(self, store: Store, hours: int) -> None:
        self.store, self.keep = store, timedelta(hours=max(1, hours))
        #: seconds between prunings (tests shorten it)
        self.every = PRUNE_EVERY
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def prune(self) -> int:
        """One pruning; the number of entries dropped (0 when the store failed)."""
        try:
            return await self.store.prune_changes(datetime.now(UTC) - self.keep)
        except Exception as exc:  # the next pruning tries again
            log.warning("change log: pruning failed (%s)", type(exc).__name__)
            return 0

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            await self.prune()
            while time.monotonic() - started < self.every:
                await asyncio.sleep(TICK_SECONDS)
