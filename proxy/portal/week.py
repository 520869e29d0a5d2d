"""Laying out a week of already redacted events as blocks at their times (pure).

The week view's grid has 96 quarter-hour rows per day; a block's row and height are CSS
classes (``at-N``, ``span-N``; the Content-Security-Policy forbids inline styles), and
overlapping blocks share the day's width in lanes (``k{lanes}-{lane}``). Blocks are made
only from :class:`~proxy.redaction.VisibleEvent` (what ``redact`` let the viewer see) or
from free/busy intervals, so nothing hidden can reach the page from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from proxy.core.model import ShowAs
from proxy.core.timeutil import to_utc
from proxy.redaction import VisibleEvent

QUARTER = timedelta(minutes=15)
MAX_LANES = 4
SHOW_AS_WORDS = {ShowAs.BUSY: "Busy", ShowAs.TENTATIVE: "Tentative",
                 ShowAs.OUT_OF_OFFICE: "Out of office",
                 ShowAs.WORKING_ELSEWHERE: "Working elsewhere", ShowAs.UNKNOWN: "Busy",
                 ShowAs.FREE: "Free"}


@dataclass(slots=True)
class Block:
    title: str
    start: datetime  # in the owner's zone
    end: datetime
    show_as: ShowAs
    location: str = ""
    private: bool = False  # a private event the viewer may see in full
    event_id: str | None = None  # set only where the viewer may edit it
    row: int = 0
    span: int = 1
    lanes: int = 1
    lane: int = 0

    @property
    def times(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"

    @property
    def classes(self) -> str:
        return (f"event show-{self.show_as.value} at-{self.row} span-{self.span} "
                f"k{self.lanes}-{self.lane}")


@dataclass(slots=True)
class Day:
    day: date
    all_day: list[Block] = field(default_factory=list)
    timed: list[Block] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.day:%A} {self.day.day} {self.day:%B}"


@dataclass(slots=True)
class Week:
    """Seven days shown from ``first_hour`` to ``last_hour`` (07-19 unless events lie
    outside), so a row class counts quarter-hours from ``first_hour``."""

    days: list[Day]
    first_hour: int
    last_hour: int

    @property
    def rows(self) -> int:
        return (self.last_hour - self.first_hour) * 4

    @property
    def hours(self) -> list[tuple[int, str]]:
        """(row of the hour's label, label) for each hour shown."""
        return [((h - self.first_hour) * 4, f"{h:02d}:00")
                for h in range(self.first_hour, self.last_hour)]


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def block_of(event: VisibleEvent) -> Block:
    """A block saying only what the visible event says (busy blocks carry their title)."""
    return Block(title=event.title, start=to_utc(event.start, event.time_zone),
                 end=to_utc(event.end, event.time_zone), show_as=event.show_as,
                 location=event.location, private=event.sensitivity.is_private
                 and not event.redacted, event_id=event.id if event.can_edit else None)


def busy_block(start: datetime, end: datetime, show_as: ShowAs) -> Block:
    """A free/busy interval, titled by its show-as alone."""
    return Block(title=SHOW_AS_WORDS.get(show_as, "Busy"), start=start, end=end,
                 show_as=show_as)


def lay_out(start: date, zone: ZoneInfo, blocks: list[Block],
            all_day: list[tuple[date, date, Block]]) -> Week:
    """Seven days from ``start``: timed blocks cut at midnights (``zone``), placed in rows
    and lanes; all-day blocks listed on each day they cover (``[first, end)``)."""
    days = [Day(start + timedelta(days=n)) for n in range(7)]
    for first, end, block in all_day:
        for day in days:
            if first <= day.day < end:
                day.all_day.append(block)
    for day in days:
        midnight = datetime.combine(day.day, time(0), tzinfo=zone)
        next_midnight = datetime.combine(day.day + timedelta(days=1), time(0), tzinfo=zone)
        for block in blocks:
            b_start, b_end = block.start.astimezone(zone), block.end.astimezone(zone)
            if b_end <= midnight or b_start >= next_midnight:
                continue
            piece_start, piece_end = max(b_start, midnight), min(b_end, next_midnight)
            row = int((piece_start - midnight) / QUARTER)
            span = max(1, -int(-(piece_end - piece_start) // QUARTER))
            day.timed.append(Block(block.title, b_start, b_end, block.show_as,
                                   block.location, block.private, block.event_id,
                                   min(row, 95), min(span, 96 - min(row, 95))))
        _lanes(day.timed)
    return _framed(days)


def _framed(days: list[Day]) -> Week:
    """The hours to show: 07:00 to 19:00, widened to every block's; rows rebased."""
    timed = [b for day in days for b in day.timed]
    first = min([7] + [b.row // 4 for b in timed])
    last = max([19] + [-(-(b.row + b.span) // 4) for b in timed])
    for block in timed:
        block.row -= first * 4
    return Week(days, first, last)


def _lanes(blocks: list[Block]) -> None:
    """Give overlapping blocks side-by-side lanes (greedy, per cluster of overlaps)."""
    blocks.sort(key=lambda b: (b.row, -b.span))
    cluster: list[Block] = []
    lane_ends: list[int] = []
    cluster_end = -1
    for block in blocks:
        if cluster and block.row >= cluster_end:
            _finish(cluster, len(lane_ends))
            cluster, lane_ends = [], []
        free = next((i for i, end in enumerate(lane_ends) if end <= block.row), None)
        if free is None:
            lane_ends.append(0)
            free = len(lane_ends) - 1
        lane_ends[free] = block.row + block.span
        block.lane = free
        cluster.append(block)
        cluster_end = max(cluster_end if len(cluster) > 1 else -1, block.row + block.span)
    if cluster:
        _finish(cluster, len(lane_ends))


def _finish(cluster: list[Block], lanes: int) -> None:
    width = min(MAX_LANES, lanes)
    for member in cluster:
        member.lanes, member.lane = width, min(member.lane, width - 1)
