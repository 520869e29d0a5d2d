"""The blocking exchangelib operations, each run in a worker thread by :class:`EwsSession`.

Every function takes the exchangelib ``Account`` first. Reads go through the raw services
of :mod:`ews_services` and return item elements (or light tuples), which
:mod:`ews_parse` turns into the common model; writes build exchangelib items and save
them. Field lists are restricted so that Exchange sends only what calproxy uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from exchangelib import Account, CalendarItem, Contact
from exchangelib.errors import ErrorInvalidSyncStateData, ErrorItemNotFound
from exchangelib.folders import Calendar, Contacts
from exchangelib.items import ID_ONLY, SHALLOW
from exchangelib.properties import CalendarView, FieldPath

from proxy.errors import CursorExpired, UpstreamError, UpstreamNotFound
from proxy.providers import ews_parse as parse
from proxy.providers.ews_parse import Hit
from proxy.providers.ews_services import RawFindItem, RawGetItem, RawSyncFolderItems

EVENT_FIELDS = (
    "subject", "body", "sensitivity", "categories", "datetime_created", "last_modified_time",
    "uid", "recurrence_id", "start", "end", "original_start", "is_all_day",
    "legacy_free_busy_status", "location", "is_cancelled", "type", "organizer",
    "required_attendees", "optional_attendees", "resources", "_start_timezone",
    "_end_timezone", "appointment_sequence_number",
)
CONTACT_FIELDS = ("display_name", "given_name", "surname", "email_addresses", "phone_numbers",
                  "company_name", "job_title")
MAX_SYNC_CHANGES = 512
GET_ITEM_BATCH = 100
#: Exchange caps FindItem results (EWSFindCountLimit, 1000 by default): a fuller calendar
#: view is asked again from the last start it reached.
VIEW_CAP = 1000
#: Exchange refuses a CalendarView longer than two years (ErrorCalendarViewRangeTooBig):
#: longer windows are asked for in pieces of 730 days (never more than two years).
VIEW_SPAN = timedelta(days=730)
PARALLEL_BATCHES = 4

Paths = frozenset[FieldPath]


def _paths(model: Any, names: Sequence[str]) -> Paths:
    return frozenset(FieldPath(field=model.get_field_by_fieldname(n)) for n in names)


EVENT_PATHS = _paths(CalendarItem, EVENT_FIELDS)
CONTACT_PATHS = _paths(Contact, CONTACT_FIELDS)
MASTER_PATHS = _paths(CalendarItem, ("uid", "modified_occurrences", "deleted_occurrences"))
#: occurrences, exceptions and their RecurringMasters in one GetItem
SERIES_PATHS = EVENT_PATHS | MASTER_PATHS | _paths(CalendarItem, ("recurrence",))
ALL_DAY_PATHS = _paths(CalendarItem, ("is_all_day",))
ID_PATHS: Paths = frozenset()
_VIEW_FIELDS = _paths(CalendarItem, ("uid", "start", "type"))
_SYNC_FIELDS = _paths(CalendarItem, ("uid", "type"))

Change = tuple[str, str, str | None, str | None, str | None]  # kind, id, changekey, uid, type


def calendar_folder(account: Account) -> Calendar:
    return account.calendar


def contacts_folder(account: Account) -> Contacts:
    return account.contacts


def sync_changes(account: Account, folder: Calendar, state: str | None) -> tuple[
        list[Change], str]:
    """All changes since ``state`` (``None``: every item), 512 per SyncFolderItems call.

    Raises :class:`CursorExpired` when Exchange calls the state invalid.
    """
    changes: list[Change] = []
    service = RawSyncFolderItems(account=account)
    try:
        while True:
            for entry in service.call(folder=folder, shape=ID_ONLY,
                                      additional_fields=_SYNC_FIELDS, sync_state=state,
                                      ignore=None, max_changes_returned=MAX_SYNC_CHANGES,
                                      sync_scope=None):
                if isinstance(entry, ErrorInvalidSyncStateData):
                    raise entry
                if isinstance(entry, tuple):
                    changes.extend(_change(*entry))
            if service.sync_state is None:
                raise ValueError("SyncFolderItems ended without a sync state")
            if service.sync_state == state or service.includes_last_item_in_range:
                return changes, str(service.sync_state)
            state = service.sync_state
    except ErrorInvalidSyncStateData:
        raise CursorExpired("EWS sync state invalid (ErrorInvalidSyncStateData)") from None


def _change(kind: str, elem: Any) -> list[Change]:
    if kind == "delete":
        ident, changekey = parse.item_id(elem)
        return [(kind, ident, changekey, None, None)]
    if kind in ("create", "update") and len(elem):
        ident, changekey = parse.item_id(elem[0])
        return [(kind, ident, changekey, *parse.series_key(elem[0]))]
    return []


def _find_view(account: Account, folder: Calendar, start: datetime,
               end: datetime) -> tuple[list[Hit], bool]:
    """One CalendarView request: at most :data:`VIEW_CAP` hits (the first by start) and
    whether they include the last one of the range."""
    service = RawFindItem(account=account, page_size=VIEW_CAP)
    found = list(service.call(
        folders=[folder], additional_fields=_VIEW_FIELDS, restriction=None, order_fields=None,
        shape=ID_ONLY, query_string=None, depth=SHALLOW,
        calendar_view=CalendarView(start=start, end=end, max_items=VIEW_CAP),
        max_items=VIEW_CAP, offset=0))
    for elem in found:
        if isinstance(elem, Exception):
            raise elem
    return [parse.hit(elem) for elem in found], service.complete


def _view_piece(account: Account, folder: Calendar, start: datetime, end: datetime,
                seen: dict[str, Hit]) -> None:
    """Every hit of [start, end) into ``seen``: while a page falls short of the range's end,
    ask again from the last start it reached (items starting there come again; ids
    dedupe them)."""
    cursor = start
    while True:
        hits, complete = _find_view(account, folder, cursor, end)
        for found in hits:
            seen.setdefault(found.id, found)
        if complete:
            return
        reached = max((h.start for h in hits if h.start is not None), default=cursor)
        if reached <= cursor:
            raise UpstreamError(f"Exchange holds more than {VIEW_CAP} calendar items "
                                "beginning at one instant")
        cursor = reached


def calendar_view(account: Account, folder: Calendar, start: datetime, end: datetime,
                  uids: set[str] | None = None) -> list[Hit]:
    """Occurrences, exceptions and single items overlapping [start, end), ids only (plus
    uid, start, type), optionally only those of the series named by ``uids``. The window
    is asked for in pieces of at most :data:`VIEW_SPAN` (Exchange refuses a view longer
    than two years), each paged within the view's item cap."""
    seen: dict[str, Hit] = {}
    piece = start
    while piece < end:
        stop = min(end, piece + VIEW_SPAN)
        _view_piece(account, folder, piece, stop, seen)
        piece = stop
    found = list(seen.values())
    if uids is not None:
        found = [item for item in found if item.uid in uids]
    return found


def fetch(account: Account, folder: Any, ids: Sequence[tuple[str, str | None]],
          fields: Paths = EVENT_PATHS) -> list[Any]:
    """GetItem in batches of 100, up to four batches in flight, as item elements; missing
    items are dropped."""
    batches = [ids[i:i + GET_ITEM_BATCH] for i in range(0, len(ids), GET_ITEM_BATCH)]

    def one(batch: Sequence[tuple[str, str | None]]) -> list[Any]:
        service = RawGetItem(account=account, chunk_size=GET_ITEM_BATCH)
        return list(service.call(items=batch, additional_fields=fields, shape=ID_ONLY))

    if len(batches) <= 1:
        results = [one(b) for b in batches]
    else:
        with ThreadPoolExecutor(PARALLEL_BATCHES) as pool:
            results = list(pool.map(one, batches))
    items: list[Any] = []
    for batch_items in results:
        for item in batch_items:
            if isinstance(item, ErrorItemNotFound):
                continue
            if isinstance(item, Exception):
                raise item
            if not isinstance(item, bool):
                items.append(item)
    return items


def fetch_one(account: Account, folder: Any, item_id: str,
              fields: Paths = EVENT_PATHS) -> Any:
    items = fetch(account, folder, [(item_id, None)], fields)
    if not items:
        raise UpstreamNotFound("the item does not exist in Exchange")
    return items[0]


def save_new(account: Account, folder: Any, item: Any) -> str:
    """CreateItem without sending invitations; returns the new item id."""
    item.account, item.folder = account, folder
    item.save(send_meeting_invitations="SendToNone")
    return str(item.id)


def update(account: Account, folder: Any, item_id: str, values: dict[str, Any]) -> str:
    """UpdateItem of just the named fields (SetItemField/DeleteItemField)."""
    current = fetch_one(account, folder, item_id, ALL_DAY_PATHS)
    item = CalendarItem(account=account, folder=folder, id=item_id,
                        changekey=parse.item_id(current)[1])
    item.is_all_day = parse.flag(current, "IsAllDayEvent")
    for name, value in values.items():
        setattr(item, name, value)
    item.save(update_fields=list(values), send_meeting_invitations="SendToNone")
    return str(item.id)


def delete(account: Account, folder: Any, item_id: str) -> None:
    fetch_one(account, folder, item_id, ID_PATHS)
    CalendarItem(account=account, folder=folder, id=item_id).delete(
        send_meeting_cancellations="SendToNone", affected_task_occurrences="AllOccurrences")


def contacts_page(account: Account, folder: Contacts, offset: int, size: int) -> tuple[
        list[Any], bool]:
    """One page of contact elements (FindItem, IndexedPageItemView at ``offset``) and
    whether it held the last contact (``IncludesLastItemInRange``); bodies come with
    GetItem."""
    service = RawFindItem(account=account, page_size=size)
    found = list(service.call(
        folders=[folder], additional_fields=None, restriction=None, order_fields=None,
        shape=ID_ONLY, query_string=None, depth=SHALLOW, calendar_view=None,
        max_items=size, offset=offset))
    for elem in found:
        if isinstance(elem, Exception):
            raise elem
    ids = [parse.item_id(e) for e in found if not isinstance(e, bool)]
    items = fetch(account, folder, ids, CONTACT_PATHS) if ids else []
    return [i for i in items if i.tag == f"{parse.T}Contact"], service.complete


def resolve_occurrence(account: Account, folder: Calendar, master_id: str,
                       original: datetime) -> str:
    """The EWS item id of the occurrence of ``master_id`` that originally began at
    ``original``: a modified occurrence's own id, else the CalendarView hit at that time.
    Raises :class:`UpstreamNotFound` for a deleted or non-existent occurrence."""
    master = fetch_one(account, folder, master_id, MASTER_PATHS)
    for occurrence, slot in parse.modified_occurrences(master):
        if slot == original:
            return occurrence
    if original in parse.deleted_occurrences(master):
        raise UpstreamNotFound("the occurrence was deleted in Exchange")
    uid = parse.series_key(master)[0]
    hits = calendar_view(account, folder, original, original + timedelta(minutes=1),
                         {uid} if uid else set())
    for hit in hits:
        if hit.type == "Occurrence" and hit.start == original:
            return hit.id
    raise UpstreamNotFound("the occurrence does not exist in Exchange")
