"""Free/busy: merged busy intervals, and nothing else of any event."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from proxy.core.model import ShowAs
from proxy.core.timeutil import to_utc
from proxy.redaction import VisibleEvent


def freebusy_intervals(events: Iterable[VisibleEvent]) -> list[tuple[datetime, datetime, ShowAs]]:
    """Every non-free event's time; overlapping or touching intervals of the same
    show-as merged; sorted by start, then show-as."""
    spans = sorted(
        (to_utc(e.start, e.time_zone), to_utc(e.end, e.time_zone), e.show_as)
        for e in events if e.show_as is not ShowAs.FREE
    )
    merged: dict[ShowAs, list[list[Any]]] = {}
    for start, end, show_as in spans:
        runs = merged.setdefault(show_as, [])
        if runs and start <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], end)
        else:
            runs.append([start, end, show_as])
    flat = [(s, e, k) for runs in merged.values() for s, e, k in runs]
    return sorted(flat, key=lambda t: (t[0], t[1], t[2].value))


def freebusy_json(events: Iterable[VisibleEvent]) -> dict[str, Any]:
    return {"intervals": [
        {"start": s.isoformat().replace("+00:00", "Z"), "end": e.isoformat().replace(
            "+00:00", "Z"), "show_as": k.value}
        for s, e, k in freebusy_intervals(events)
    ]}
