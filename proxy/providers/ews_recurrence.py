"""EWS's ``t:Recurrence`` element → :class:`proxy.core.ms_recurrence.MsRecurrence`.

Only the wire format lives here; the meaning (and the RRULE) is the core's, shared with
Graph. A Recurrence holds one pattern element (``DailyRecurrence``,
``WeeklyRecurrence`` with ``DaysOfWeek`` and ``FirstDayOfWeek``,
``AbsoluteMonthlyRecurrence``, ``RelativeMonthlyRecurrence`` with ``DayOfWeekIndex``,
``AbsoluteYearlyRecurrence``, ``RelativeYearlyRecurrence``; ``Month`` is a month name) and
one range element (``NoEndRecurrence``, ``EndDateRecurrence``, ``NumberedRecurrence``,
each with a ``StartDate``). Dates are xs:date, possibly with an offset (``2026-03-02Z``);
they are in the master's own zone (its ``StartTimeZone``), so the range carries no zone
of its own. Regenerating patterns (``DailyRegeneration`` and the like, tasks only) have no
RRULE.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from proxy.core.ms_recurrence import (
    MsRecurrence,
    Pattern,
    PatternType,
    Range,
    RangeType,
    Weekday,
    WeekIndex,
    to_rrule,
    weekdays,
)

T = "{http://schemas.microsoft.com/exchange/services/2006/types}"
PATTERNS = {
    "DailyRecurrence": PatternType.DAILY, "WeeklyRecurrence": PatternType.WEEKLY,
    "AbsoluteMonthlyRecurrence": PatternType.ABSOLUTE_MONTHLY,
    "RelativeMonthlyRecurrence": PatternType.RELATIVE_MONTHLY,
    "AbsoluteYearlyRecurrence": PatternType.ABSOLUTE_YEARLY,
    "RelativeYearlyRecurrence": PatternType.RELATIVE_YEARLY,
}
RANGES = {"NoEndRecurrence": RangeType.NO_END, "EndDateRecurrence": RangeType.END_DATE,
          "NumberedRecurrence": RangeType.NUMBERED}
MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}


def ews_rrule(recurrence: Any, *, all_day: bool, time_zone: str) -> str | None:
    """The RRULE of a RecurringMaster's Recurrence element, or ``None`` when it has none
    that RFC 5545 can express (or it is not the documented shape)."""
    parsed = parse_recurrence(recurrence)
    return None if parsed is None else to_rrule(parsed, all_day=all_day, time_zone=time_zone)


def parse_recurrence(recurrence: Any) -> MsRecurrence | None:
    if recurrence is None:
        return None
    pattern = rng = None
    try:
        for child in recurrence:
            name = child.tag[len(T):] if isinstance(child.tag, str) else ""
            if name in PATTERNS:
                pattern = _pattern(PATTERNS[name], child)
            elif name in RANGES:
                rng = _range(RANGES[name], child)
    except (TypeError, ValueError, KeyError):
        return None
    return None if pattern is None or rng is None else MsRecurrence(pattern, rng)


def _text(elem: Any, name: str) -> str:
    return (elem.findtext(f"{T}{name}") or "").strip()


def _pattern(kind: PatternType, elem: Any) -> Pattern | None:
    days = weekdays(_text(elem, "DaysOfWeek").split())
    if days is None:
        return None
    month = _text(elem, "Month")
    return Pattern(
        type=kind, interval=int(_text(elem, "Interval") or 1), days_of_week=days,
        first_day_of_week=Weekday((_text(elem, "FirstDayOfWeek") or "Sunday").lower()),
        day_of_month=int(_text(elem, "DayOfMonth") or 0),
        month=MONTHS[month.lower()] if month else 0,
        index=WeekIndex((_text(elem, "DayOfWeekIndex") or "First").lower()))


def _date(text: str) -> date:
    """An xs:date, ignoring any offset suffix (``Z``, ``-08:00``)."""
    return date.fromisoformat(text[:10])


def _range(kind: RangeType, elem: Any) -> Range:
    end = _text(elem, "EndDate")
    return Range(
        type=kind, start_date=_date(_text(elem, "StartDate")),
        end_date=_date(end) if kind is RangeType.END_DATE and end else None,
        number_of_occurrences=int(_text(elem, "NumberOfOccurrences") or 0))
