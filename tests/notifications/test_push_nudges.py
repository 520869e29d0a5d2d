"""The nudger's coalescing, with a round that records when it ran: a burst is one round,
a nudge during a round causes exactly one more, the round starts within 5 s, a failed
round does not stop later ones, calendars do not wait for each other, and rounds of one
calendar keep the minimum gap without losing the round a late nudge asked for."""

from __future__ import annotations

import asyncio
import itertools
import time

from proxy.notifications.push.nudges import Nudger


class Rounds:
    def __init__(self) -> None:
        self.started: list[tuple[str, float]] = []
        self.gate: asyncio.Event | None = None
        self.fail = False

    async def __call__(self, calendar_id: str) -> None:
        self.started.append((calendar_id, time.monotonic()))
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            self.fail = False
            raise RuntimeError("the provider is down")


async def settled(nudger: Nudger) -> None:
    while nudger.busy():
        await asyncio.sleep(0.01)


async def test_a_burst_is_one_round_that_starts_within_5_seconds() -> None:
    rounds = Rounds()
    nudger = Nudger(rounds)  # the default settling time
    asked = time.monotonic()
    for _ in range(25):
        nudger.nudge("cal")
        await asyncio.sleep(0.005)
    await settled(nudger)
    assert [c for c, _ in rounds.started] == ["cal"]
    assert rounds.started[0][1] - asked < 5


async def test_a_nudge_during_a_round_causes_exactly_one_more() -> None:
    rounds = Rounds()
    rounds.gate = asyncio.Event()
    nudger = Nudger(rounds, settle=0.01)
    nudger.nudge("cal")
    while not rounds.started:
        await asyncio.sleep(0.005)
    for _ in range(5):  # the running round may have read upstream before these changes
        nudger.nudge("cal")
    rounds.gate.set()
    await settled(nudger)
    assert [c for c, _ in rounds.started] == ["cal", "cal"]


async def test_no_nudge_during_the_round_no_second_round() -> None:
    rounds = Rounds()
    nudger = Nudger(rounds, settle=0.01)
    nudger.nudge("cal")
    await settled(nudger)
    nudger.nudge("cal")  # after the round: a round of its own
    await settled(nudger)
    assert [c for c, _ in rounds.started] == ["cal", "cal"]


async def test_a_failed_round_does_not_stop_the_next() -> None:
    rounds = Rounds()
    rounds.fail = True
    nudger = Nudger(rounds, settle=0.01)
    nudger.nudge("cal")
    await settled(nudger)
    nudger.nudge("cal")
    await settled(nudger)
    assert len(rounds.started) == 2


async def test_calendars_do_not_wait_for_each_other() -> None:
    rounds = Rounds()
    rounds.gate = asyncio.Event()
    nudger = Nudger(rounds, settle=0.01)
    nudger.nudge("a")
    nudger.nudge("b")
    while len(rounds.started) < 2:
        await asyncio.sleep(0.005)
    assert sorted(c for c, _ in rounds.started) == ["a", "b"]
    rounds.gate.set()
    await settled(nudger)
    await nudger.stop()


async def test_rounds_of_one_calendar_keep_the_minimum_gap() -> None:
    """A calendar changing all the time costs at most one round per gap."""
    rounds = Rounds()
    nudger = Nudger(rounds, settle=0.01, min_gap=0.6)
    started = time.monotonic()
    while time.monotonic() - started < 1.5:  # a change every 20 ms for 1.5 s
        nudger.nudge("cal")
        await asyncio.sleep(0.02)
    await settled(nudger)
    times = [t for _, t in rounds.started]
    assert 2 <= len(times) <= 4, times  # without the gap: one per settle, dozens
    assert all(b - a >= 0.59 for a, b in itertools.pairwise(times))
    assert times[-1] > started + 1.2  # the nudges at the end still got their round


async def test_a_nudge_during_a_round_waits_for_the_gap_but_is_not_lost() -> None:
    rounds = Rounds()
    rounds.gate = asyncio.Event()
    nudger = Nudger(rounds, settle=0.01, min_gap=0.5)
    nudger.nudge("cal")
    while not rounds.started:
        await asyncio.sleep(0.005)
    nudger.nudge("cal")
    rounds.gate.set()
    await settled(nudger)
    (_, first), (_, second) = rounds.started
    assert 0.49 <= second - first < 2


async def test_a_quiet_calendar_is_synced_after_the_settle_alone() -> None:
    rounds = Rounds()
    nudger = Nudger(rounds, settle=0.01, min_gap=0.3)
    nudger.nudge("cal")
    await settled(nudger)
    await asyncio.sleep(0.35)  # quiet for longer than the gap
    asked = time.monotonic()
    nudger.nudge("cal")
    await settled(nudger)
    assert rounds.started[1][1] - asked < 0.2
    nudger.nudge("other")  # the gap is per calendar: another is not held back
    await settled(nudger)
    assert rounds.started[2][1] - rounds.started[1][1] < 0.2


async def test_the_default_gap_still_shows_a_change_within_10_seconds() -> None:
    from proxy.config import Settings

    gap = Settings().push_min_gap_seconds
    assert gap == 5 and gap + Nudger(Rounds()).settle < 10


async def test_round_starts_are_forgotten_once_past_the_gap() -> None:
    """The memory of round starts stays small: many calendars nudged once each, long ago."""
    rounds = Rounds()
    nudger = Nudger(rounds, settle=0.0, min_gap=0.05)
    for n in range(1100):
        nudger.nudge(f"cal-{n}")
    await settled(nudger)
    assert len(nudger._started) == 1100
    await asyncio.sleep(0.1)  # all of them past the gap
    nudger.nudge("one more")
    assert len(nudger._started) < 10
    await settled(nudger)
