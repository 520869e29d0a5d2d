"""Graph's ``patternedRecurrence`` JSON → :class:`proxy.core.ms_recurrence.MsRecurrence`.

Only the wire format lives here; the meaning (and the RRULE) is the core's. The range's
``recurrenceTimeZone`` is a Windows name ("Pacific Standard Time") or an IANA one; it is
mapped like every Graph zone, and when absent or unknown the event's own zone is used,
as Graph documents.
"""

from __future__ import annotations

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
from proxy.core.timeutil import iana_zone


def graph_rrule(recurrence: Any, *, all_day: bool, time_zone: str) -> str | None:
    """The RRULE of a seriesMaster's ``recurrence``, or ``None`` when it has none that
    RFC 5545 can express (or it is not the documented shape)."""
    parsed = parse_recurrence(recurrence)
    return None if parsed is None else to_rrule(parsed, all_day=all_day, time_zone=time_zone)


def parse_recurrence(recurrence: Any) -> MsRecurrence | None:
    if not isinstance(recurrence, dict):
        return None
    try:
        pattern = _pattern(recurrence["pattern"])
        rng = _range(recurrence["range"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return None if pattern is None else MsRecurrence(pattern, rng)


def _pattern(data: dict[str, Any]) -> Pattern | None:
    days = weekdays(list(data.get("daysOfWeek") or ()))
    if days is None:
        return None
    return Pattern(
        type=PatternType(data["type"]), interval=int(data.get("interval") or 0),
        days_of_week=days,
        first_day_of_week=Weekday((data.get("firstDayOfWeek") or "sunday").lower()),
        day_of_month=int(data.get("dayOfMonth") or 0), month=int(data.get("month") or 0),
        index=WeekIndex((data.get("index") or "first").lower()))


def _range(data: dict[str, Any]) -> Range:
    kind = RangeType(data["type"])
    end = data.get("endDate")
    return Range(
        type=kind, start_date=date.fromisoformat(data["startDate"]),
        end_date=date.fromisoformat(end) if kind is RangeType.END_DATE and end else None,
        number_of_occurrences=int(data.get("numberOfOccurrences") or 0),
        time_zone=iana_zone(data.get("recurrenceTimeZone")))
