"""EWS Recurrence elements → RRULEs, through the core's Microsoft recurrence mapping."""

from __future__ import annotations

import pytest
from lxml import etree

from proxy.providers.ews_recurrence import ews_rrule

T = "http://schemas.microsoft.com/exchange/services/2006/types"


def rule(body: str, *, all_day: bool = False, time_zone: str = "Europe/Berlin") -> str | None:
    element = etree.fromstring(f'<t:Recurrence xmlns:t="{T}">{body}</t:Recurrence>')
    return ews_rrule(element, all_day=all_day, time_zone=time_zone)


@pytest.mark.parametrize(("body", "expected"), [
    ("<t:WeeklyRecurrence><t:Interval>2</t:Interval><t:DaysOfWeek>Monday Wednesday"
     "</t:DaysOfWeek><t:FirstDayOfWeek>Monday</t:FirstDayOfWeek></t:WeeklyRecurrence>"
     "<t:NumberedRecurrence><t:StartDate>2026-03-02+01:00</t:StartDate>"
     "<t:NumberOfOccurrences>10</t:NumberOfOccurrences></t:NumberedRecurrence>",
     "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;WKST=MO;COUNT=10"),
    ("<t:DailyRecurrence><t:Interval>3</t:Interval></t:DailyRecurrence>"
     "<t:NoEndRecurrence><t:StartDate>2026-03-02Z</t:StartDate></t:NoEndRecurrence>",
     "FREQ=DAILY;INTERVAL=3"),
    ("<t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Weekday"
     "</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence>"
     "<t:EndDateRecurrence><t:StartDate>2026-01-30</t:StartDate><t:EndDate>2026-06-30"
     "</t:EndDate></t:EndDateRecurrence>",
     "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;UNTIL=20260630T215959Z"),
    ("<t:AbsoluteYearlyRecurrence><t:DayOfMonth>29</t:DayOfMonth><t:Month>February"
     "</t:Month></t:AbsoluteYearlyRecurrence>"
     "<t:NoEndRecurrence><t:StartDate>2028-02-29</t:StartDate></t:NoEndRecurrence>",
     "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1"),
    ("<t:RelativeYearlyRecurrence><t:DaysOfWeek>Thursday</t:DaysOfWeek><t:DayOfWeekIndex>"
     "Fourth</t:DayOfWeekIndex><t:Month>November</t:Month></t:RelativeYearlyRecurrence>"
     "<t:NoEndRecurrence><t:StartDate>2026-11-26</t:StartDate></t:NoEndRecurrence>",
     "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH"),
    ("<t:AbsoluteMonthlyRecurrence><t:Interval>1</t:Interval><t:DayOfMonth>31"
     "</t:DayOfMonth></t:AbsoluteMonthlyRecurrence>"
     "<t:EndDateRecurrence><t:StartDate>2026-01-31</t:StartDate><t:EndDate>2026-12-31"
     "</t:EndDate></t:EndDateRecurrence>",
     "FREQ=MONTHLY;BYMONTHDAY=-1;UNTIL=20261231T225959Z"),
])
def test_patterns_and_ranges(body: str, expected: str) -> None:
    assert rule(body) == expected


def test_all_day_until_is_a_date() -> None:
    assert rule("<t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence>"
                "<t:EndDateRecurrence><t:StartDate>2026-03-02</t:StartDate><t:EndDate>"
                "2026-03-09</t:EndDate></t:EndDateRecurrence>",
                all_day=True) == "FREQ=DAILY;UNTIL=20260309"


@pytest.mark.parametrize("body", [
    "<t:DailyRegeneration><t:Interval>2</t:Interval></t:DailyRegeneration>"
    "<t:NoEndRecurrence><t:StartDate>2026-03-02</t:StartDate></t:NoEndRecurrence>",
    "<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Funday</t:DaysOfWeek>"
    "</t:WeeklyRecurrence><t:NoEndRecurrence><t:StartDate>2026-03-02</t:StartDate>"
    "</t:NoEndRecurrence>",
    "<t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence>",
    "<t:DailyRecurrence><t:Interval>x</t:Interval></t:DailyRecurrence>"
    "<t:NoEndRecurrence><t:StartDate>2026-03-02</t:StartDate></t:NoEndRecurrence>",
])
def test_no_rrule_for_what_rfc5545_cannot_say_or_broken_shapes(body: str) -> None:
    assert rule(body) is None
