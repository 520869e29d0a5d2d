"""Microsoft patterns → RRULE, checked against Microsoft's documented semantics.

The oracle below enumerates days and applies the rules as Graph's ``recurrencePattern``
/ ``recurrenceRange`` and EWS/MS-OXOCAL describe them (n-th of the allowed days counted
from the month's start; a month day the month lacks falls on its last day; weeks start on
``firstDayOfWeek``; ``endDate`` inclusive in the recurrence zone; ``numbered`` counts).
dateutil expands our RRULE from the first occurrence; both must list the same dates.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

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

HORIZON = 800  # days enumerated by the oracle
DAYS = list(Weekday)  # sunday first
START = date(2026, 1, 1)


def _weekday(day: date) -> Weekday:
    return DAYS[(day.weekday() + 1) % 7]


def _month_day(day: date, wanted: int) -> bool:
    return day.day == min(wanted, calendar.monthrange(day.year, day.month)[1])


def _nth_of(day: date, days: tuple[Weekday, ...], index: WeekIndex) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    allowed = [date(day.year, day.month, d) for d in range(1, last + 1)
               if _weekday(date(day.year, day.month, d)) in days]
    return allowed[index.position - 1 if index.position > 0 else -1] == day


def _matches(p: Pattern, day: date, start: date) -> bool:
    months = (day.year - start.year) * 12 + day.month - start.month
    if p.type is PatternType.DAILY:
        return (day - start).days % p.interval == 0
    if p.type is PatternType.WEEKLY:
        first = DAYS.index(p.first_day_of_week)
        week = day - timedelta(days=(DAYS.index(_weekday(day)) - first) % 7)
        week0 = start - timedelta(days=(DAYS.index(_weekday(start)) - first) % 7)
        return _weekday(day) in p.days_of_week and ((week - week0).days // 7) % p.interval == 0
    if p.type is PatternType.ABSOLUTE_MONTHLY:
        return months % p.interval == 0 and _month_day(day, p.day_of_month)
    if p.type is PatternType.RELATIVE_MONTHLY:
        return months % p.interval == 0 and _nth_of(day, p.days_of_week, p.index)
    years = day.year - start.year
    if day.month != p.month or years % p.interval:
        return False
    if p.type is PatternType.ABSOLUTE_YEARLY:
        return _month_day(day, p.day_of_month)
    return _nth_of(day, p.days_of_week, p.index)


def oracle(rec: MsRecurrence) -> list[date]:
    found: list[date] = []
    r = rec.range
    for n in range(HORIZON):
        day = r.start_date + timedelta(days=n)
        if r.type is RangeType.END_DATE and r.end_date and day > r.end_date:
            break
        if _matches(rec.pattern, day, r.start_date):
            found.append(day)
            if r.type is RangeType.NUMBERED and len(found) == r.number_of_occurrences:
                break
    return found


def expanded(rule: str, first: date, at: time | None, zone: str) -> list[date]:
    tz = ZoneInfo(zone)
    dtstart = datetime.combine(first, at, tzinfo=tz) if at else datetime.combine(first, time())
    end = dtstart + timedelta(days=HORIZON)
    rules = rrulestr(rule, dtstart=dtstart)  # UNTIL is already in the form RFC 5545 wants
    return [d.date() for d in rules.between(dtstart, end, inc=True)]


DAY_SETS = st.lists(st.sampled_from(DAYS), min_size=1, max_size=3, unique=True).map(tuple)
PATTERNS = st.one_of(
    st.builds(Pattern, st.just(PatternType.DAILY), st.integers(1, 4)),
    st.builds(Pattern, st.just(PatternType.WEEKLY), st.integers(1, 3), DAY_SETS,
              st.sampled_from(DAYS)),
    st.builds(Pattern, st.just(PatternType.ABSOLUTE_MONTHLY), st.integers(1, 3),
              day_of_month=st.integers(1, 31)),
    st.builds(Pattern, st.just(PatternType.RELATIVE_MONTHLY), st.integers(1, 3), DAY_SETS,
              index=st.sampled_from(list(WeekIndex))),
    st.builds(Pattern, st.just(PatternType.ABSOLUTE_YEARLY), st.integers(1, 2),
              day_of_month=st.integers(1, 31), month=st.integers(1, 12)),
    st.builds(Pattern, st.just(PatternType.RELATIVE_YEARLY), st.integers(1, 2), DAY_SETS,
              month=st.integers(1, 12), index=st.sampled_from(list(WeekIndex))),
)
ZONES = ["UTC", "Europe/Berlin", "Pacific/Auckland", "America/Los_Angeles"]


@st.composite
def ranges(draw: st.DrawFn) -> Range:
    start = START + timedelta(days=draw(st.integers(0, 60)))
    kind = draw(st.sampled_from(list(RangeType)))
    if kind is RangeType.NUMBERED:
        return Range(kind, start, number_of_occurrences=draw(st.integers(1, 12)))
    end = start + timedelta(days=draw(st.integers(0, 500)))
    return Range(kind, start, end if kind is RangeType.END_DATE else None)


@settings(max_examples=300, deadline=None)
@given(PATTERNS, ranges(), st.sampled_from(ZONES),
       st.one_of(st.none(), st.sampled_from([time(0, 30), time(9), time(23, 30)])))
def test_rrule_lists_what_microsoft_documents(pattern: Pattern, rng: Range, zone: str,
                                              at: time | None) -> None:
    rec = MsRecurrence(pattern, rng)
    days = oracle(rec)
    rule = to_rrule(rec, all_day=at is None, time_zone=zone)
    assert rule is not None
    if not days:
        return
    horizon = rng.start_date + timedelta(days=HORIZON)  # where the oracle stops looking
    assert [d for d in expanded(rule, days[0], at, zone) if d < horizon] == days


def test_table_of_shapes() -> None:
    weekly = Pattern(PatternType.WEEKLY, 2, (Weekday.MONDAY, Weekday.THURSDAY), Weekday.MONDAY)
    assert to_rrule(MsRecurrence(weekly, Range(RangeType.NO_END, START)), all_day=False,
                    time_zone="UTC") == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;WKST=MO"
    second_thu = Pattern(PatternType.RELATIVE_MONTHLY, 1, (Weekday.THURSDAY,),
                         index=WeekIndex.SECOND)
    numbered = Range(RangeType.NUMBERED, START, number_of_occurrences=5)
    assert to_rrule(MsRecurrence(second_thu, numbered), all_day=False,
                    time_zone="UTC") == "FREQ=MONTHLY;BYDAY=2TH;COUNT=5"
    last_weekday = Pattern(PatternType.RELATIVE_YEARLY, 1, weekdays(["Weekday"]) or (),
                           month=11, index=WeekIndex.LAST)
    assert to_rrule(MsRecurrence(last_weekday, numbered), all_day=True, time_zone="UTC") == (
        "FREQ=YEARLY;BYMONTH=11;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=5")
    day30 = Pattern(PatternType.ABSOLUTE_MONTHLY, 1, day_of_month=30)
    assert to_rrule(MsRecurrence(day30, numbered), all_day=True, time_zone="UTC") == (
        "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1;COUNT=5")


def test_until_is_the_end_of_the_end_date_in_the_recurrence_zone() -> None:
    daily = Pattern(PatternType.DAILY)
    rng = Range(RangeType.END_DATE, START, date(2026, 3, 31), time_zone="Pacific/Auckland")
    # 23:59:59 on Mar 31 in Auckland (UTC+13) is 10:59:59Z that day
    assert to_rrule(MsRecurrence(daily, rng), all_day=False,
                    time_zone="UTC") == "FREQ=DAILY;UNTIL=20260331T105959Z"
    assert to_rrule(MsRecurrence(daily, rng), all_day=True,
                    time_zone="UTC") == "FREQ=DAILY;UNTIL=20260331"


def test_what_cannot_be_a_rule_is_none() -> None:
    ok = Range(RangeType.NO_END, START)
    for pattern in (Pattern(PatternType.DAILY, 0), Pattern(PatternType.WEEKLY),
                    Pattern(PatternType.RELATIVE_MONTHLY),
                    Pattern(PatternType.ABSOLUTE_MONTHLY, day_of_month=32),
                    Pattern(PatternType.ABSOLUTE_YEARLY, day_of_month=3, month=13)):
        assert to_rrule(MsRecurrence(pattern, ok), all_day=False, time_zone="UTC") is None
    daily = Pattern(PatternType.DAILY)
    for rng in (Range(RangeType.END_DATE, START), Range(RangeType.NUMBERED, START),
                Range(RangeType.END_DATE, START, START - timedelta(days=1))):
        assert to_rrule(MsRecurrence(daily, rng), all_day=False, time_zone="UTC") is None
    assert weekdays(["monday", "Funday"]) is None
    assert weekdays(["WeekendDay", "Sunday"]) == (Weekday.SATURDAY, Weekday.SUNDAY)
