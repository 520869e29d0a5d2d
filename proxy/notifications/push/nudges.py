"""Nudges: a provider said a calendar changed, so run one incremental round of it soon.

:meth:`Nudger.nudge` returns at once. The round starts :attr:`Nudger.settle` seconds later
(well within DESIGN §11's 5 s), so that a burst of notices (Graph sends one per changed
event, often several in a second) costs one round. A nudge while that calendar's round
runs asks for exactly one more round after it: the running round may have read the
provider before the change the nudge announces. Rounds of different calendars run side
by side; a failed round is logged by type and left to the next nudge or to polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

#: seconds a nudge waits for the rest of its burst before the round starts
SETTLE_SECONDS = 0.5

Round = Callable[[str], Awaitable[object]]


class Nudger:
    """Coalesces nudges per calendar into rounds of ``run_round(calendar_id)``."""

    def __init__(self, run_round: Round, settle: float = SETTLE_SECONDS) -> None:
        self.run_round, self.settle = run_round, settle
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        #: rounds run (tests and benchmarks read it)
        self.rounds = 0

    def nudge(self, calendar_id: str) -> None:
        """Ask for a round of ``calendar_id`` (never waits, never raises)."""
        if calendar_id in self._workers:
            self._again.add(calendar_id)
            return
        self._workers[calendar_id] = asyncio.create_task(
            self._work(calendar_id), name="calproxy-nudge")

    def busy(self) -> bool:
        """Whether a round is due or running (tests wait on it)."""
        return bool(self._workers)

    async def _work(self, calendar_id: str) -> None:
        try:
            while True:
                await asyncio.sleep(self.settle)  # the rest of the burst joins this round
                self._again.discard(calendar_id)
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
