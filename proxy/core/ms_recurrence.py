"""Microsoft recurrences (Graph's ``patternedRecurrence``, EWS's ``Recurrence``) as RRULEs.

Both APIs describe a series the same way: a *pattern* (how often) and a *range* (for how
long). Each provider reads its own wire format into :class:`MsRecurrence`; :func:`to_rrule`
turns it into one RFC 5545 RRULE value, or ``None`` when the pattern cannot be written as
one (the caller then keeps the series as its listed occurrences).

The semantics, as Microsoft documents them (Graph ``recurrencePattern`` and
``recurrenceRange``; EWS ``RelativeMonthlyRecurrence`` and ``DayOfWeekIndex``; MS-OXOCAL):

- ``interval`` counts days, weeks, months or years depending on the pattern type.
- ``weekly``: on ``daysOfWeek`` every ``interval`` weeks, weeks beginning on
  ``firstDayOfWeek`` (RRULE ``WKST``, which decides which days share a week when
  ``interval`` > 1).
- ``relativeMonthly`` / ``relativeYearly``: the ``index``-th (first..fourth, last) of the
  days in ``daysOfWeek`` counted from the start of the month: with several days that is
  the n-th day of the month that is any of them (``BYSETPOS``; "the first weekday"); with
  one day an ordinal ``BYDAY`` (``2TH``), which every client reads.
- ``absoluteMonthly`` / ``absoluteYearly``: ``dayOfMonth`` (of ``month``); Outlook and
  Exchange put a day the month does not have on its last day (day 31 is "the last day of
  every month"; Feb 29 yearly falls on Feb 28 in common years), so days 29-31 become
  "the last of days 28..n" (``BYMONTHDAY=28,29,30;BYSETPOS=-1``; 31 is ``BYMONTHDAY=-1``).
- range ``endDate``: the last date on which an occurrence may *start*, inclusive, in the
  recurrence time zone (``recurrenceTimeZone``, else the event's). ``UNTIL`` is then a
  DATE for all-day series and the UTC instant of the end of that day otherwise (RFC 5545
  wants UTC when DTSTART has a TZID). ``numbered``: ``COUNT``. ``noEnd``: neither.

The series' DTSTART is the master's start (Graph and EWS make it the first occurrence);
the range's ``startDate`` is only checked for sense.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from proxy.core.timeutil import zone


class PatternType(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    ABSOLUTE_MONTHLY = "absoluteMonthly"
    RELATIVE_MONTHLY = "relativeMonthly"
    ABSOLUTE_YEARLY = "absoluteYearly"
    RELATIVE_YEARLY = "relativeYearly"


class Weekday(enum.StrEnum):
    SUNDAY = "sunday"
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"

    @property
    def code(self) -> str:
        """The RFC 5545 weekday (``SU``, ``MO``, ...)."""
        return self.value[:2].upper()


class WeekIndex(enum.StrEnum):
    FIRST = "first"
    SECOND = "second"
    THIRD = "third"
    FOURTH = "fourth"
    LAST = "last"

    @property
    def position(self) -> int:
        return -1 if self is WeekIndex.LAST else list(WeekIndex).index(self) + 1


class RangeType(enum.StrEnum):
    END_DATE = "endDate"
    NO_END = "noEnd"
    NUMBERED = "numbered"


#: EWS names whole groups of days in one DaysOfWeek value
DAY_GROUPS: dict[str, tuple[Weekday, ...]] = {
    "day": tuple(Weekday),
    "weekday": (Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY,
                Weekday.FRIDAY),
    "weekendday": (Weekday.SATURDAY, Weekday.SUNDAY),
}


def weekdays(names: list[str] | tuple[str, ...]) -> tuple[Weekday, ...] | None:
    """Day names as Graph (``monday``) or EWS (``Monday``, ``Weekday``, ``Day``) write
    them, in the order given without repeats; ``None`` if one of them is unknown."""
    found: list[Weekday] = []
    for name in names:
        key = name.strip().lower()
        group = DAY_GROUPS.get(key)
        if group is None:
            try:
                group = (Weekday(key),)
            except ValueError:
                return None
        found.extend(d for d in group if d not in found)
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Pattern:
    """How often: the fields of a Graph ``recurrencePattern`` (EWS has the same ones)."""

    type: PatternType
    interval: int = 1
    days_of_week: tuple[Weekday, ...] = ()
    first_day_of_week: Weekday = Weekday.SUNDAY
    day_of_month: int = 0
    month: int = 0
    index: WeekIndex = WeekIndex.FIRST


@dataclass(frozen=True, slots=True)
class Range:
    """For how long; ``time_zone`` is the recurrence zone as an IANA name (``None``: the
    event's own zone), the dates are in it and ``end_date`` is inclusive."""

    type: RangeType
    start_date: date
    end_date: date | None = None
    number_of_occurrences: int = 0
    time_zone: str | None = None


@dataclass(frozen=True, slots=True)
class MsRecurrence:
    pattern: Pattern
    range: Range


def to_rrule(recurrence: MsRecurrence, *, all_day: bool, time_zone: str) -> str | None:
    """The RRULE value (without ``RRULE:``) of ``recurrence`` for a series whose DTSTART
    is a date (``all_day``) or a time in ``time_zone``; ``None`` when it cannot be one
    (an unknown or incomplete pattern, an interval below 1, an empty or inverted range)."""
    parts = _pattern_parts(recurrence.pattern)
    ending = _range_parts(recurrence.range, all_day, time_zone)
    if parts is None or ending is None:
        return None
    return ";".join([*parts, *ending])


def _pattern_parts(p: Pattern) -> list[str] | None:
    if p.interval < 1:
        return None
    freq = {PatternType.DAILY: "DAILY", PatternType.WEEKLY: "WEEKLY",
            PatternType.ABSOLUTE_MONTHLY: "MONTHLY", PatternType.RELATIVE_MONTHLY: "MONTHLY",
            PatternType.ABSOLUTE_YEARLY: "YEARLY", PatternType.RELATIVE_YEARLY: "YEARLY"}
    parts = [f"FREQ={freq[p.type]}"]
    if p.interval != 1:
        parts.append(f"INTERVAL={p.interval}")
    yearly = p.type in (PatternType.ABSOLUTE_YEARLY, PatternType.RELATIVE_YEARLY)
    if yearly:
        if not 1 <= p.month <= 12:
            return None
        parts.append(f"BYMONTH={p.month}")
    if p.type is PatternType.WEEKLY:
        if not p.days_of_week:
            return None
        parts += [f"BYDAY={_codes(p.days_of_week)}", f"WKST={p.first_day_of_week.code}"]
    elif p.type in (PatternType.RELATIVE_MONTHLY, PatternType.RELATIVE_YEARLY):
        relative = _relative(p.days_of_week, p.index)
        if relative is None:
            return None
        parts += relative
    elif p.type is not PatternType.DAILY:
        absolute = _month_day(p.day_of_month)
        if absolute is None:
            return None
        parts += absolute
    return parts


def _codes(days: tuple[Weekday, ...]) -> str:
    return ",".join(d.code for d in days)


def _relative(days: tuple[Weekday, ...], index: WeekIndex) -> list[str] | None:
    if not days:
        return None
    if len(days) == 1:
        return [f"BYDAY={index.position}{days[0].code}"]
    return [f"BYDAY={_codes(days)}", f"BYSETPOS={index.position}"]


def _month_day(day: int) -> list[str] | None:
    """A day of the month, on the month's last day when the month is shorter."""
    if not 1 <= day <= 31:
        return None
    if day <= 28:
        return [f"BYMONTHDAY={day}"]
    if day == 31:
        return ["BYMONTHDAY=-1"]
    return [f"BYMONTHDAY={','.join(str(d) for d in range(28, day + 1))}", "BYSETPOS=-1"]


def _range_parts(r: Range, all_day: bool, time_zone: str) -> list[str] | None:
    if r.type is RangeType.NO_END:
        return []
    if r.type is RangeType.NUMBERED:
        return [f"COUNT={r.number_of_occurrences}"] if r.number_of_occurrences > 0 else None
    if r.end_date is None or r.end_date < r.start_date:
        return None
    return [f"UNTIL={until_value(r.end_date, all_day, r.time_zone or time_zone)}"]


def until_value(end_date: date, all_day: bool, time_zone: str) -> str:
    """``UNTIL`` for an inclusive end date: the date itself for all-day series, else the
    UTC instant of the last second of that day in ``time_zone``."""
    if all_day:
        return end_date.strftime("%Y%m%d")
    last = datetime.combine(end_date, time(23, 59, 59), tzinfo=zone(time_zone))
    return last.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
