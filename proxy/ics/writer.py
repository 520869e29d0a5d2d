"""The low level of the fast iCalendar writer: values, escaping, folding, CRLF.

Everything here produces text that RFC 5545 parsers (``icalendar``, ``vobject``, ical.js)
read back into exactly the value that went in, after :func:`clean_text`:

- TEXT values escape backslash, semicolon, comma and line breaks (§3.3.11);
- parameter values use RFC 6868 caret escapes and are quoted when they hold ``:;,``;
- content lines are folded so that no physical line exceeds 75 octets (§3.1), never
  inside a UTF-8 sequence and never between a backslash and the character it escapes
  (some clients mis-read a fold there);
- lines end in CRLF.

Control characters are not allowed in TEXT or parameter values at all (§3.1, CONTROL),
so :func:`clean_text` removes them before anything is written; both this writer and the
``icalendar`` reference path publish the cleaned text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime

MAX_OCTETS = 75
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(text: str) -> str:
    """``text`` with line breaks normalized to LF and other control characters removed.

    CRLF and a lone CR both become LF (RFC 5545 has one escape for a line break); TAB
    stays; every other C0 control and DEL is dropped because no TEXT value may hold it.
    """
    if text.isprintable():
        return text
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def escape_text(text: str) -> str:
    """A TEXT value (§3.3.11) for ``text``, after :func:`clean_text`."""
    text = clean_text(text)
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if ";" in text:
        text = text.replace(";", "\\;")
    if "," in text:
        text = text.replace(",", "\\,")
    if "\n" in text:
        text = text.replace("\n", "\\n")
    return text


def text_list(values: Iterable[str]) -> str:
    """A comma-separated list of TEXT values (CATEGORIES), empty entries left out."""
    return ",".join(escape_text(v) for v in values if clean_text(v))


def clean_param(text: str) -> str:
    """A parameter value as published: line breaks and tabs become spaces, and a
    backslash becomes a slash.

    Parameter values are short labels (a display name); a line break has no place in
    one, and CONTROL characters are not allowed at all. RFC 5545 gives backslashes no
    meaning in parameters, but ``icalendar`` unescapes ``\\,`` there and others do not:
    no spelling of a backslash reads back alike everywhere ("CORP\\jdoe" -> "CORP/jdoe").
    """
    return clean_text(text.replace("\t", " ")).replace("\n", " ").replace("\\", "/")


def param_value(text: str) -> str:
    """``text`` as a quoted parameter value with RFC 6868 caret escapes.

    Always quoted: parsers differ on unquoted values with spaces at either end."""
    value = clean_param(text).replace("^", "^^").replace('"', "^'")
    return f'"{value}"'


def uri_value(text: str) -> str:
    """A URI or CAL-ADDRESS value: not escaped (§3.3.13), but never a control char."""
    return _CONTROL.sub("", text.replace("\n", "").replace("\t", ""))


def utc_stamp(moment: datetime) -> str:
    """``20261124T140000Z``; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return local_stamp(moment) + "Z"


def local_stamp(m: datetime) -> str:
    """``20261124T090000``: the wall-clock time, for use with a TZID parameter.
    (Spelled out: ``strftime`` is three times slower, and this runs per property.)"""
    return f"{m.year:04d}{m.month:02d}{m.day:02d}T{m.hour:02d}{m.minute:02d}{m.second:02d}"


def date_stamp(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def fold(line: str) -> str:
    """``line`` folded into physical lines of at most 75 octets joined by CRLF SPACE.

    Cuts fall on UTF-8 character boundaries and never right after a backslash that
    starts an escape, so every client reassembles the exact logical line.
    """
    if len(line) <= MAX_OCTETS and line.isascii():
        return line
    data = line.encode()
    if len(data) <= MAX_OCTETS:
        return line
    pieces: list[bytes] = []
    start, limit = 0, MAX_OCTETS
    while len(data) - start > limit:
        cut = start + limit
        while data[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: back off
            cut -= 1
        if _ends_in_escape(data, start, cut):
            cut -= 1
        pieces.append(data[start:cut])
        start, limit = cut, MAX_OCTETS - 1  # continuation lines begin with a space
    pieces.append(data[start:])
    return b"\r\n ".join(pieces).decode()


def _ends_in_escape(data: bytes, start: int, cut: int) -> bool:
    """Whether ``data[start:cut]`` ends in an open escape: an odd run of ``\\`` or ``^``."""
    last = data[cut - 1]
    if last not in (0x5C, 0x5E):
        return False
    run = 0
    index = cut - 1
    while index > start and data[index] == last:
        run += 1
        index -= 1
    return run % 2 == 1


def content_lines(lines: Iterable[str], folded: bool = False) -> bytes:
    """Content lines, each ended by CRLF, as UTF-8 bytes; folded here unless the
    caller already folded every line that can exceed 75 octets (``folded=True``)."""
    result = list(lines) if folded else [fold(line) for line in lines]
    result.append("")
    return "\r\n".join(result).encode()
