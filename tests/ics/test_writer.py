"""The fast writer's escaping and folding, read back by two independent parsers."""

from __future__ import annotations

import vobject
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from proxy.ics.writer import clean_text, content_lines, escape_text, fold, param_value

ANY_TEXT = st.one_of(st.text(max_size=300),
                     st.text(alphabet=st.sampled_from(list(',;:\\\n\r\t"^Nn é😀\u200d')),
                             max_size=200))


def _calendar(summary: str, cn: str) -> bytes:
    return content_lines([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT", "UID:u",
        "DTSTAMP:20260101T000000Z", "DTSTART:20260101T090000Z",
        f"SUMMARY:{escape_text(summary)}",
        f"ORGANIZER;CN={param_value(cn)}:mailto:a@example.org",
        "END:VEVENT", "END:VCALENDAR",
    ])


def _physical_lines(data: bytes) -> list[bytes]:
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"") and b"\r" not in data.replace(b"\r\n", b"")
    return data[:-2].split(b"\r\n")


@settings(max_examples=150, deadline=None)
@given(ANY_TEXT, ANY_TEXT)
def test_any_text_reads_back_exactly_in_icalendar_and_vobject(summary: str, cn: str) -> None:
    data = _calendar(summary, cn)
    for line in _physical_lines(data):
        assert len(line) <= 75
        line.decode()  # never a split UTF-8 sequence
    event = Calendar.from_ical(data).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == clean_text(summary)
    parsed = vobject.readOne(data.decode()).vevent
    assert parsed.summary.value == clean_text(summary)
    expected_cn = clean_text(cn.replace("\t", " ")).replace("\n", " ").replace("\\", "/")
    assert event["ORGANIZER"].params.get("CN", "") == expected_cn


def test_escapes_and_line_breaks() -> None:
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    assert escape_text("x\r\ny\rz") == "x\\ny\\nz"
    assert escape_text("bell\x07 del\x7f tab\t") == "bell del tab\t"
    assert escape_text("literal \\N stays") == "literal \\\\N stays"


def test_parameter_values_are_quoted_with_rfc6868_escapes() -> None:
    assert param_value('Doe, "J" ^') == '"Doe, ^\'J^\' ^^"'
    assert param_value("two\nlines") == '"two lines"'


def test_fold_keeps_75_octets_and_utf8_and_escapes_whole() -> None:
    line = "SUMMARY:" + "é" * 100
    folded = fold(line).encode()
    assert all(len(part) <= 75 for part in folded.split(b"\r\n"))
    assert folded.replace(b"\r\n ", b"") == line.encode()
    escaped = "DESCRIPTION:" + "x" * 62 + "\\,"  # the backslash would sit at octet 75
    pieces = fold(escaped).split("\r\n ")
    assert not pieces[0].endswith("\\") and pieces[1].startswith("\\,")
    emoji = "SUMMARY:" + "😀" * 40
    assert all(len(p) <= 75 for p in fold(emoji).encode().split(b"\r\n"))
    assert fold("SHORT:ascii") == "SHORT:ascii"
