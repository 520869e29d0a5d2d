"""EWS answer elements (lxml) to plain values and the common model.

The provider asks exchangelib's services for raw elements (:mod:`ews_services`) and reads
them here, as the Graph provider reads its JSON: only the fields calproxy uses, by
namespaced tag, in one pass over each item's children.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

T = "{http://schemas.microsoft.com/exchange/services/2006/types}"


def parse_time(text: str | None) -> datetime | None:
    """An xs:dateTime as Exchange writes it (UTC ``Z`` or with an offset), aware."""
    if not text:
        return None
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class Hit(NamedTuple):
    """One CalendarView hit: an id and what tells single items from occurrences."""

    id: str
    changekey: str | None
    uid: str | None
    start: datetime | None
    type: str | None


def item_id(elem: Any) -> tuple[str, str | None]:
    ref = elem.find(f"{T}ItemId")
    if ref is None or not ref.get("Id"):
        raise ValueError("EWS item without an ItemId")
    return str(ref.get("Id")), ref.get("ChangeKey")


def hit(elem: Any) -> Hit:
    ident, changekey = item_id(elem)
    return Hit(ident, changekey, elem.findtext(f"{T}UID"),
               parse_time(elem.findtext(f"{T}Start")), elem.findtext(f"{T}CalendarItemType"))
