"""Nudges: a provider said a calendar changed, so run one incremental round of it soon.

:meth:`Nudger.nudge` returns at once. The round starts :attr:`Nudger.settle` seconds later
(well within DESIGN §11's 5 s), so that a burst of notices (Graph sends one per changed
event, often several in a second) costs one round. A nudge while that calendar's round
runs asks for exactly one more round after it: the running round may have read the
provider before the change the nudge announces. Rounds of different calendars run side
by side; a failed round is logged by type and left to the next nudge or to polling.

Rounds of one calendar start at least :attr:`Nudger.min_gap` seconds apart: a calendar
that changes every few seconds would otherwise cost one provider round per change, more
than polling. The gap only ever delays a round (the "one more round" is kept, it just
waits for the gap); a calendar quiet for longer than the gap is synced after the settle
alone. With the default 5 s a change still shows within DESIGN's 10 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

#: seconds a nudge waits for the rest of its burst before the round starts
SETTLE_SECONDS = 0.5
#: rounds' starts remembered before the stale ones (older than the gap) are forgotten
_REMEMBERED = 1024

Round = Callable[[str], Awaitable[object]]


class Nudger:
    """Coalesces nudges per calendar into rounds of ``run_round(calendar_id)``, at most
    one every ``min_gap`` seconds per calendar."""

    def __init__(self, run_round: Round, settle: float = SETTLE_SECONDS,
                 min_gap: float = 0.0) -> None:
        self.run_round, self.settle, self.min_gap = run_round, settle, min_gap
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        #: when each calendar's last nudged round started (monotonic seconds)
        self._started: dict[str, float] = {}
        #: rounds run (tests and benchmarks read it)
        self.rounds = 0

    def nudge(self, calendar_id: str) -> None:
        """Ask for a round of ``calendar_id`` (never waits, never raises)."""
        if calendar_id in self._workers:
            self._again.add(calendar_id)
            return
        self._forget_stale()
        self._workers[calendar_id] = asyncio.create_task(
            self._work(calendar_id), name="calproxy-nudge")

    def busy(self) -> bool:
        """Whether a round is due or running (tests wait on it)."""
        return bool(self._workers)

    def _delay(self, calendar_id: str) -> float:
        """Seconds until the next round may start: the settle, or longer while the gap
        after the calendar's last round has not passed."""
        last = self._started.get(calendar_id)
        if last is None:
            return self.settle
        return max(self.settle, last + self.min_gap - time.monotonic())

    def _forget_stale(self) -> None:
        """Keep the memory of round starts small: only those still within the gap count."""
        if len(self._started) < _REMEMBERED:
            return
        horizon = time.monotonic() - self.min_gap
        for calendar_id, started in list(self._started.items()):
            if started < horizon and calendar_id not in self._workers:
                del self._started[calendar_id]

    async def _work(self, calendar_id: str) -> None:
        try:
            while True:
                await asyncio.sleep(self._delay(calendar_id))  # the burst joins this round
                self._again.discard(calendar_id)
                self._started[calendar_id] = time.monotonic()
                self.rounds += 1
                try:
                    await self.run_round(calendar_id)
                except Exception as exc:  # polling catches up; the next nudge retries
                    log.warning("nudged sync round failed (%s)", type(exc).__name__)
                if calendar_id not in self._again:
                    return
        finally:
            self._workers.pop(calendar_id, None)
            self._again.discard(calendar_id)

    async def stop(self) -> None:
        tasks = list(self._workers.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
