"""Exchange Web Services: on-premises Exchange (``exchange_ews``) and Office 365 via EWS
(``ews_o365``), on exchangelib.

One provider class serves both: ``exchange_ews`` signs in with the stored username and
password (Basic or NTLM, whichever the server offers, detected once and pinned), and
``ews_o365`` with the integration's OAuth access token (scope
``https://outlook.office365.com/EWS.AccessAsUser.All``). The blocking library runs in
worker threads (:mod:`ews_session`), the sync algorithm lives in :mod:`ews_sync`, the
mapping in :mod:`ews_normalize`, and the URL guard in :mod:`ews_guard`.

Only the mailbox's primary calendar is offered (its folder id is the calendar id, and
the alias ``"calendar"`` is accepted). Occurrences of series carry ids derived from their
master's id and original start; writes to them are resolved back to the EWS occurrence.
"""

from __future__ import annotations

from typing import Any

from exchangelib import CalendarItem

from proxy.core.model import (
    Calendar,
    Contact,
    ContactDraft,
    Event,
    EventDraft,
    Service,
)
from proxy.errors import (
    BadRequest,
    Unprocessable,
    UpstreamAuthError,
    UpstreamNotFound,
)
from proxy.providers import ews_ops as ops
from proxy.providers.base import (
    Capabilities,
    Connection,
    ContactPage,
    DeliversOccurrences,
    SyncPage,
    Window,
)
from proxy.providers.ews_normalize import contact_item, draft_values, split_occurrence_id
from proxy.providers.ews_parse import to_contact, to_event
from proxy.providers.ews_session import EwsSession, quiet_library_logs
from proxy.providers.ews_sync import EventSync

CONTACT_PAGE = 100
PRIMARY_ALIAS = "calendar"


class EwsProvider(DeliversOccurrences):
    capabilities = Capabilities(write_events=True, read_contacts=True, write_contacts=True)

    def __init__(self, connection: Connection) -> None:
        self.service = Service.EWS_O365 if connection.tokens is not None \
            else Service.EXCHANGE_EWS
        quiet_library_logs()
        self.session = EwsSession(connection, self.service)
        self._calendar: Any = None

    async def check(self) -> None:
        """Sign in and open the calendar; wrong credentials → 422 ``ews_auth_failed``."""
        try:
            await self._primary()
        except UpstreamAuthError:
            raise Unprocessable("Exchange refused the username or password",
                                code="ews_auth_failed") from None
        self.session.pin_detected()

    async def _primary(self) -> Any:
        if self._calendar is None:
            self._calendar = await self.session.call(ops.calendar_folder)
        return self._calendar

    async def _folder(self, calendar_id: str) -> Any:
        folder = await self._primary()
        if calendar_id not in (folder.id, PRIMARY_ALIAS):
            raise UpstreamNotFound("the calendar does not exist in Exchange")
        return folder

    async def list_calendars(self) -> list[Calendar]:
        folder = await self._primary()
        return [Calendar(str(folder.id), folder.name or "Calendar", is_primary=True)]

    def _sync(self, folder: Any, calendar_id: str) -> EventSync:
        return EventSync(self.session, folder, calendar_id, self.service)

    async def sync_events(self, calendar_id: str, cursor: str | None,
                          window: Window) -> SyncPage:
        folder = await self._folder(calendar_id)
        sync = self._sync(folder, calendar_id)
        return await (sync.full(window) if cursor is None else sync.increment(cursor, window))

    async def _ews_id(self, folder: Any, event_id: str) -> tuple[str, str | None]:
        """The EWS item id behind a provider id, and the master id for occurrences."""
        parts = split_occurrence_id(event_id)
        if parts is None:
            return event_id, None
        master_id, original = parts
        return await self.session.call(ops.resolve_occurrence, folder, master_id,
                                       original), master_id

    async def _read(self, folder: Any, calendar_id: str, ews_id: str,
                    master_id: str | None) -> Event:
        item = await self.session.call(ops.fetch_one, folder, ews_id)
        return to_event(item, calendar_id, self.service, master_id)

    async def get_event(self, calendar_id: str, event_id: str) -> Event:
        folder = await self._folder(calendar_id)
        ews_id, master_id = await self._ews_id(folder, event_id)
        return await self._read(folder, calendar_id, ews_id, master_id)

    async def create_event(self, calendar_id: str, draft: EventDraft) -> Event:
        if draft.start is None or draft.end is None:
            raise BadRequest("start and end are required to create an event")
        folder = await self._folder(calendar_id)
        item = CalendarItem(**draft_values(draft))
        new_id = await self.session.call(ops.save_new, folder, item)
        return await self._read(folder, calendar_id, new_id, None)

    async def update_event(self, calendar_id: str, event_id: str, draft: EventDraft) -> Event:
        folder = await self._folder(calendar_id)
        ews_id, master_id = await self._ews_id(folder, event_id)
        current = await self._read(folder, calendar_id, ews_id, master_id)
        values = draft_values(_with_zone(draft, current), current.all_day)
        if values:
            ews_id = await self.session.call(ops.update, folder, ews_id, values)
        return await self._read(folder, calendar_id, ews_id, master_id)

    async def delete_event(self, calendar_id: str, event_id: str) -> None:
        folder = await self._folder(calendar_id)
        ews_id, _ = await self._ews_id(folder, event_id)
        await self.session.call(ops.delete, folder, ews_id)

    async def sync_contacts(self, cursor: str | None) -> ContactPage:
        """Full listing, 100 per FindItem page; the cursor is the next offset, and ``None``
        once done: every round is a full one, which the driver reconciles (removals)."""
        try:
            offset = int(cursor or 0)
        except ValueError:
            offset = 0
        folder = await self.session.call(ops.contacts_folder)
        items, last = await self.session.call(ops.contacts_page, folder, offset, CONTACT_PAGE)
        contacts = tuple(to_contact(i, self.service) for i in items)
        return ContactPage(contacts, (), None if last else str(offset + CONTACT_PAGE), last)

    async def create_contact(self, draft: ContactDraft) -> Contact:
        folder = await self.session.call(ops.contacts_folder)
        new_id = await self.session.call(ops.save_new, folder, contact_item(draft))
        item = await self.session.call(ops.fetch_one, folder, new_id, ops.CONTACT_PATHS)
        return to_contact(item, self.service)

    async def close(self) -> None:
        await self.session.close()


def _with_zone(draft: EventDraft, current: Event) -> EventDraft:
    """New times without a zone are meant in the event's own zone."""
    if draft.time_zone is None and (draft.start is not None or draft.end is not None):
        from dataclasses import replace

        return replace(draft, time_zone=current.time_zone)
    return draft
