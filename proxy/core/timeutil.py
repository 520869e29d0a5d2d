"""Time helpers shared by the core: UTC instants, RFC 3339, Windows zone names."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

Moment = datetime | date


@lru_cache(maxsize=512)
def zone(name: str | None) -> ZoneInfo:
    """The IANA zone ``name``, or UTC when it is unknown."""
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def iana_zone(name: str | None) -> str | None:
    """Map a Windows zone name ("W. Europe Standard Time") or an IANA name to IANA.

    Unknown and custom zones ("Customized Time Zone", ``tzone://Microsoft/Custom``) give
    ``None``: the caller then keeps the UTC instant.
    """
    if not name:
        return None
    mapped = WINDOWS_TO_OLSON.get(name.strip())
    if mapped:
        return str(mapped)
    return name if "/" in name and is_known_zone(name) else ("UTC" if name == "UTC" else None)


def to_utc(moment: Moment, time_zone: str | None = None) -> datetime:
    """The UTC instant of ``moment``; a date is midnight in ``time_zone`` (default UTC)."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone(time_zone))
        return moment.astimezone(UTC)
    return datetime.combine(moment, time(0), tzinfo=zone(time_zone)).astimezone(UTC)


def in_zone(moment: datetime, time_zone: str | None) -> datetime:
    return moment.astimezone(zone(time_zone))


def format_moment(moment: Moment) -> str:
    """RFC 3339 with offset for instants, ``YYYY-MM-DD`` for all-day dates."""
    if isinstance(moment, datetime):
        return moment.isoformat()
    return moment.isoformat()


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp with an offset; raise ``ValueError`` otherwise."""
    if not isinstance(text, str) or len(text) < 20 or text[10] not in "Tt ":
        raise ValueError("expected an RFC 3339 timestamp such as 2026-11-24T09:00:00Z")
    value = datetime.fromisoformat(text.replace("z", "Z"))
    if value.tzinfo is None:
        raise ValueError("the timestamp needs an offset such as Z or +01:00")
    return value


def parse_moment(text: str) -> Moment:
    """An RFC 3339 timestamp, or a plain date for all-day values."""
    if isinstance(text, str) and len(text) == 10:
        return date.fromisoformat(text)
    return parse_rfc3339(text)


def days(n: int) -> timedelta:
    return timedelta(days=n)
