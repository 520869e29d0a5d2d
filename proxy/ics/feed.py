"""Assembling a whole feed with the fast writer.

:func:`render_feed` is the entry point the HTTP layer calls. It takes only
:class:`~proxy.redaction.visible.VisibleEvent` values (what :func:`redact` returned for the
feed's audience, see :func:`audience_for`), plans the VEVENTs (:mod:`proxy.ics.plan`)
and writes them as strings, about 20x faster than building ``icalendar`` components.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from proxy.core.mirror import MirroredEvent
from proxy.core.model import Attendee, AttendeeKind, Moment, Person
from proxy.ics import fields
from proxy.ics.listed import Window
from proxy.ics.plan import Entry, plan_feed
from proxy.ics.timezones import vtimezone
from proxy.ics.writer import (
    content_lines,
    date_stamp,
    escape_text,
    fold,
    local_stamp,
    param_value,
    text_list,
    uri_value,
    utc_stamp,
)
from proxy.redaction.visible import (
    Audience,
    Detail,
    RecurrenceRef,
    VisibleEvent,
    redact,
)

PRODID = "-//calproxy//calproxy ICS feed 1.0//EN"
DEFAULT_REFRESH = timedelta(hours=1)


def audience_for(detail: Detail, include_private: bool = False) -> Audience:
    """The audience a feed's events are redacted for: private events show in full only
    at ``full`` detail with ``include_private``; feeds never edit anything."""
    return Audience(detail, sees_private=include_private and detail is Detail.FULL)


def redact_for_feed(items: Iterable[MirroredEvent], detail: Detail,
                    include_private: bool) -> tuple[list[VisibleEvent], list[RecurrenceRef]]:
    """What a feed may show, and the series slots of exceptions it must not (their
    masters get an EXDATE there, so a hidden change does not show as the original)."""
    audience = audience_for(detail, include_private)
    visible: list[VisibleEvent] = []
    withheld: list[RecurrenceRef] = []
    for item in items:
        shown = redact(item, audience)
        if shown is not None:
            visible.append(shown)
        elif item.event.recurrence is not None and item.series_public_id is not None:
            withheld.append(RecurrenceRef(item.series_public_id,
                                          item.event.recurrence.original_start, True))
    return visible, withheld


def render_feed(
    events: Iterable[VisibleEvent],
    *,
    name: str,
    detail: Detail,
    generated_at: datetime,
    withheld: Iterable[RecurrenceRef] = (),
    time_zone: str | None = None,
    refresh: timedelta = DEFAULT_REFRESH,
    listed_window: Window | None = None,
) -> bytes:
    """The feed as UTF-8 bytes (RFC 5545, CRLF, folded), deterministic for equal input.

    ``events`` must come from :func:`redact` with :func:`audience_for` ``(detail, ...)``;
    ``withheld`` are the slots of exceptions redaction left out (so the master gets an
    EXDATE there). ``generated_at`` (aware) is the DTSTAMP of events whose ``updated``
    is hidden: pass the time the feed's data last changed, not the wall clock, and equal
    data renders to equal bytes. ``time_zone`` adds X-WR-TIMEZONE (the owner's zone).
    ``listed_window`` is the span in which the mirror holds every occurrence the
    provider lists (the mirrored window within the feed's): series whose provider lists
    occurrences become one VEVENT with RRULE only when it is given (:mod:`.listed`).
    """
    entries = plan_feed(events, detail, withheld, listed_window)
    stamp = utc_stamp(generated_at)
    body: list[str] = []
    for entry in entries:
        _vevent(body, entry, detail, stamp)
    body.append("END:VCALENDAR")
    zones = sorted({e.tzid for e in entries if e.tzid is not None and not e.all_day})
    head = content_lines(_calendar_head(name, time_zone, refresh))
    zone_text = "".join(vtimezone(z) for z in zones).encode()
    return head + zone_text + content_lines(body, folded=True)


def _calendar_head(name: str, time_zone: str | None, refresh: timedelta) -> list[str]:
    ttl = duration_value(refresh)
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        f"NAME:{escape_text(name)}",
    ]
    if time_zone:
        lines.append(f"X-WR-TIMEZONE:{escape_text(time_zone)}")
    lines += [f"REFRESH-INTERVAL;VALUE=DURATION:{ttl}", f"X-PUBLISHED-TTL:{ttl}"]
    return lines


def duration_value(span: timedelta) -> str:
    """An RFC 5545 DURATION of whole minutes, at least one (``PT1H``, ``PT90M``)."""
    minutes = max(1, int(span.total_seconds()) // 60)
    return f"PT{minutes // 60}H" if minutes % 60 == 0 else f"PT{minutes}M"


def _vevent(out: list[str], entry: Entry, detail: Detail, stamp: str) -> None:
    """Append the VEVENT's content lines; every line that may exceed 75 octets is
    folded here, the rest (names, stamps, enums, TZIDs) are short by construction."""
    event = entry.event
    out.append("BEGIN:VEVENT")
    out.append(fold(f"UID:{escape_text(entry.uid)}"))
    out.append(f"DTSTAMP:{utc_stamp(event.updated) if event.updated else stamp}")
    out.append(_moment("DTSTART", entry.start, entry.tzid))
    if entry.end is not None:
        out.append(_moment("DTEND", entry.end, entry.tzid))
    if entry.recurrence_id is not None:
        out.append(_moment("RECURRENCE-ID", entry.recurrence_id, entry.anchor_tzid))
    for rule in event.rrule:
        out.append(fold(f"RRULE:{uri_value(fields.rrule_value(rule))}"))
    if entry.exdates:
        out.append(fold(_moments("EXDATE", entry.exdates, entry.anchor_tzid)))
    _texts(out, entry, detail)
    out.append(f"SEQUENCE:{event.sequence}")
    if event.created:
        out.append(f"CREATED:{utc_stamp(event.created)}")
    if event.updated:
        out.append(f"LAST-MODIFIED:{utc_stamp(event.updated)}")
    _people(out, event.organizer, event.attendees)
    categories = text_list(event.categories)
    if categories:
        out.append(fold(f"CATEGORIES:{categories}"))
    out.append("END:VEVENT")


def _texts(out: list[str], entry: Entry, detail: Detail) -> None:
    event = entry.event
    out.append(fold(f"SUMMARY:{escape_text(fields.summary(event, detail))}"))
    if event.description:
        out.append(fold(f"DESCRIPTION:{escape_text(event.description)}"))
    if event.location:
        out.append(fold(f"LOCATION:{escape_text(event.location)}"))
    url = fields.join_url(event, detail)
    if url:
        out.append(fold(f"URL:{uri_value(url)}"))
    out.append(f"STATUS:{fields.STATUS[event.status]}")
    out.append(f"TRANSP:{fields.transparency(event)}")
    access = fields.access_class(event, detail)
    if access:
        out.append(f"CLASS:{access}")
    busy = fields.BUSY_STATUS.get(event.show_as)
    if busy:
        out.append(f"X-MICROSOFT-CDO-BUSYSTATUS:{busy}")


def _people(out: list[str], organizer: Person | None, attendees: tuple[Attendee, ...]) -> None:
    if organizer is not None and organizer.email:
        out.append(fold(f"ORGANIZER{_cn(organizer.name)}:mailto:{uri_value(organizer.email)}"))
    for person in attendees:
        if not person.email:
            continue
        cutype = ";CUTYPE=RESOURCE" if person.kind is AttendeeKind.RESOURCE else ""
        out.append(fold(
            f"ATTENDEE{cutype};ROLE={fields.ROLE[person.kind]};"
            f"PARTSTAT={fields.PARTSTAT[person.response]}{_cn(person.name)}"
            f":mailto:{uri_value(person.email)}"
        ))


def _cn(name: str | None) -> str:
    return f";CN={param_value(name)}" if name else ""


def _moment(name: str, moment: Moment, tzid: str | None) -> str:
    return _moments(name, (moment,), tzid)


def _moments(name: str, moments: tuple[Moment, ...], tzid: str | None) -> str:
    """A DATE-TIME (or DATE) list property: ``TZID=`` wall-clock times, ``Z`` instants
    when there is no zone, ``VALUE=DATE`` for all-day values (the plan keeps one shape
    per property)."""
    if not isinstance(moments[0], datetime):
        return f"{name};VALUE=DATE:" + ",".join(date_stamp(m) for m in moments)
    if tzid is None:
        return f"{name}:" + ",".join(_utc(m) for m in moments)
    return f"{name};TZID={tzid}:" + ",".join(_local(m) for m in moments)


def _utc(moment: Moment) -> str:
    assert isinstance(moment, datetime)
    return utc_stamp(moment)


def _local(moment: Moment) -> str:
    assert isinstance(moment, datetime)
    return local_stamp(moment)
