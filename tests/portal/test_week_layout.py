"""The week view's layout (pure): blocks cut at the owner's midnights, rows and lanes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from proxy.core.model import ShowAs
from proxy.portal.week import busy_block, lay_out, monday_of

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2026, 11, 30)


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    month = 11 if day >= 30 else 12
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_the_week_starts_on_monday() -> None:
    assert monday_of(date(2026, 12, 3)) == monday_of(date(2026, 12, 6)) == MONDAY


def test_overlapping_blocks_share_the_day_in_lanes() -> None:
    blocks = [busy_block(_at(30, 14), _at(30, 15), ShowAs.BUSY),          # 09:00-10:00
              busy_block(_at(30, 14, 30), _at(30, 16), ShowAs.TENTATIVE),  # 09:30-11:00
              busy_block(_at(30, 15), _at(30, 15, 30), ShowAs.BUSY),       # 10:00-10:30
              busy_block(_at(30, 17), _at(30, 18), ShowAs.BUSY)]           # 12:00-13:00
    week = lay_out(MONDAY, NEW_YORK, blocks, [])
    assert (week.first_hour, week.last_hour, week.rows) == (7, 19, 48)
    monday = week.days[0].timed
    assert [(b.times, b.row, b.span, b.lanes, b.lane) for b in monday] == [
        ("09:00–10:00", 8, 4, 2, 0), ("09:30–11:00", 10, 6, 2, 1),
        ("10:00–10:30", 12, 2, 2, 0), ("12:00–13:00", 20, 4, 1, 0)]
    assert monday[1].classes == "event show-tentative at-10 span-6 k2-1"


def test_a_block_over_midnight_shows_on_both_days_and_widens_the_hours() -> None:
    late = busy_block(_at(2, 4), _at(2, 6), ShowAs.OUT_OF_OFFICE)  # Tue 23:00 - Wed 01:00
    week = lay_out(MONDAY, NEW_YORK, [late], [])
    assert (week.first_hour, week.last_hour) == (0, 24)
    tuesday, wednesday = week.days[1].timed, week.days[2].timed
    assert [(b.row, b.span, b.title) for b in tuesday] == [(92, 4, "Out of office")]
    assert [(b.row, b.span) for b in wednesday] == [(0, 4)]
    assert week.hours[0] == (0, "00:00") and len(week.hours) == 24


def test_all_day_blocks_cover_their_days_end_exclusive() -> None:
    offsite = busy_block(_at(3, 5), _at(5, 5), ShowAs.BUSY)
    week = lay_out(MONDAY, NEW_YORK, [], [(date(2026, 12, 3), date(2026, 12, 5), offsite)])
    assert [len(d.all_day) for d in week.days] == [0, 0, 0, 1, 1, 0, 0]
    assert week.days[3].label == "Thursday 3 December"
