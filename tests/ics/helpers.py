"""Rendering a mirrored calendar the way the HTTP layer does: redact, then render."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from icalendar import Calendar

from proxy.core.mirror import MirroredEvent
from proxy.ics import redact_for_feed, render_feed
from proxy.redaction import Detail, VisibleEvent
from proxy.redaction.visible import RecurrenceRef
from tests.ics.strategies import LISTED_WINDOW

LEVELS = [(Detail.BUSY, False), (Detail.LIMITED, False), (Detail.FULL, False),
          (Detail.FULL, True)]
GENERATED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

Writer = Callable[..., bytes]


def redacted(items: Iterable[MirroredEvent], detail: Detail,
             include_private: bool) -> tuple[list[VisibleEvent], list[RecurrenceRef]]:
    """What a feed gets: the visible events, and the series slots of dropped exceptions."""
    return redact_for_feed(items, detail, include_private)


def render(items: Iterable[MirroredEvent], detail: Detail, include_private: bool = False,
           writer: Writer = render_feed) -> bytes:
    visible, withheld = redacted(items, detail, include_private)
    return writer(visible, name="Exec calendar", detail=detail, generated_at=GENERATED_AT,
                  withheld=withheld, listed_window=LISTED_WINDOW)


Props = list[tuple[str, tuple[tuple[str, str], ...], bytes]]


def components(data: bytes) -> list[tuple[str, Props]]:
    """Every component of ``data`` as parsed by icalendar: name and sorted properties,
    each with its parameters and its value re-serialized from the parsed value."""
    result = []
    for component in Calendar.from_ical(data).walk():
        props = []
        for name, value in component.property_items(recursive=False, sorted=True):
            if name in ("BEGIN", "END"):
                continue
            params = tuple(sorted((k, str(v)) for k, v in getattr(value, "params", {}).items()))
            props.append((name, params, value.to_ical()))
        result.append((component.name, sorted(props)))
    return result
