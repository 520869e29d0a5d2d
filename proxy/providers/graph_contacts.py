"""Graph contacts by delta: one ``contacts/delta`` per contact folder, one cursor for all.

Graph tracks contact changes per folder (``GET /me/contactFolders/{id}/contacts/delta``).
A full round finds the folders first: ``/me/contactFolders`` lists the folders under the
default Contacts folder, whose own id is their ``parentFolderId`` (or, without any
subfolder, the ``parentFolderId`` of a contact in ``/me/contacts``; a mailbox with
neither has nothing to sync and looks again next round). Then each folder's delta is
paged through ``@odata.nextLink`` to its ``@odata.deltaLink``.

The cursor is one JSON value holding every folder's delta link (``links``), the folder
list and when it was made (``t``); between the pages of a round it also holds the
folder in progress (``i``) and its next link (``u``). A later round follows each link
once: with no change that is one request per folder. Once a day a round lists the
folders again; a folder added or removed raises :class:`CursorExpired`, and so does an
expired token (410 ``SyncStateNotFound``): the driver then runs a full round, which
reconciles the contacts nobody reported removed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from kiota_abstractions.base_request_configuration import RequestConfiguration

from proxy.errors import CursorExpired, UpstreamError
from proxy.providers.base import ContactPage
from proxy.providers.graph_http import GraphSession
from proxy.providers.graph_normalize import contact_delta_page

#: how old the folder list may get before a round lists the folders again
FOLDER_REFRESH = timedelta(days=1)


class GraphContacts:
    """The contacts half of :class:`proxy.providers.graph.GraphProvider`."""

    def __init__(self, session: GraphSession, me: Any, page_size: int) -> None:
        self.session, self.me, self.page_size = session, me, page_size

    async def page(self, cursor: str | None) -> ContactPage:
        """One delta page of the folder in progress (one request, plus the folder
        listing at the start of a full round or of a round after a day)."""
        state = await self._round_state(cursor)
        folders: list[str] = state["fs"]
        if not folders:
            return ContactPage((), (), _dump(state), True)
        index = state.get("i", 0)
        folder = folders[index]
        link = state.get("u") or state["links"].get(folder)
        body = await self.session.call(self._delta(folder, link), page_size=self.page_size)
        changed, removed = contact_delta_page(body)
        next_link, delta_link = body.get("@odata.nextLink"), body.get("@odata.deltaLink")
        if isinstance(next_link, str):
            return ContactPage(changed, removed, _dump({**state, "i": index, "u": next_link}),
                               False)
        if not isinstance(delta_link, str):
            raise UpstreamError("Graph answered a malformed contacts delta page "
                                "(no nextLink or deltaLink)")
        state["links"][folder] = delta_link
        state.pop("u", None)
        if index + 1 < len(folders):
            return ContactPage(changed, removed, _dump({**state, "i": index + 1}), False)
        state.pop("i", None)
        return ContactPage(changed, removed, _dump(state), True)

    async def _round_state(self, cursor: str | None) -> dict[str, Any]:
        if cursor is None:
            return {"fs": await self._folders(), "t": _now(), "links": {}}
        state = _read(cursor)
        starting = "i" not in state
        stale = datetime.fromisoformat(state["t"]) + FOLDER_REFRESH < datetime.now(UTC)
        if starting and (stale or not state["fs"]):
            if set(await self._folders()) != set(state["fs"]):
                raise CursorExpired("the contact folders changed: a full round follows")
            state["t"] = _now()
        return state

    async def _folders(self) -> list[str]:
        """The default Contacts folder's id first, then its subfolders' ids."""
        found: list[dict[str, Any]] = []
        info = self.me.contact_folders.to_get_request_information()
        while True:
            body = await self.session.call(info)
            values, link = _values(body), body.get("@odata.nextLink")
            found += values
            if not isinstance(link, str):
                break
            info = self.me.contact_folders.with_url(link).to_get_request_information()
        default = next((str(f["parentFolderId"]) for f in found if f.get("parentFolderId")),
                       None) or await self._default_from_a_contact()
        children = [str(f["id"]) for f in found if str(f["id"]) != default]
        return ([default] if default else []) + children

    async def _default_from_a_contact(self) -> str | None:
        builder = self.me.contacts
        params = builder.ContactsRequestBuilderGetQueryParameters(
            top=1, select=["parentFolderId"])
        body = await self.session.call(builder.to_get_request_information(
            RequestConfiguration(query_parameters=params)))
        values = _values(body)
        return str(values[0]["parentFolderId"]) if values and values[0].get(
            "parentFolderId") else None

    def _delta(self, folder: str, link: str | None) -> Any:
        builder = self.me.contact_folders.by_contact_folder_id(folder).contacts.delta
        if link:
            return builder.with_url(link).to_get_request_information()
        return builder.to_get_request_information()


def _values(body: Any) -> list[dict[str, Any]]:
    values = body.get("value") if isinstance(body, dict) else None
    if not isinstance(values, list) or not all(
            isinstance(v, dict) and v.get("id") for v in values):
        raise UpstreamError("Graph answered a malformed contact folder list")
    return values


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _dump(state: dict[str, Any]) -> str:
    return json.dumps(state, separators=(",", ":"))


def _read(cursor: str) -> dict[str, Any]:
    """The stored state; CursorExpired when it is not one this module wrote (a cursor
    from before contacts delta was a plain nextLink)."""
    try:
        state = json.loads(cursor)
        folders, links = state["fs"], state["links"]
        datetime.fromisoformat(state["t"])
    except (ValueError, KeyError, TypeError):
        raise CursorExpired("unreadable Graph contacts cursor") from None
    if not (isinstance(folders, list) and all(isinstance(f, str) for f in folders)
            and isinstance(links, dict) and all(isinstance(v, str) for v in links.values())
            and isinstance(state.get("i", 0), int) and 0 <= state.get("i", 0) < max(
                1, len(folders))):
        raise CursorExpired("unreadable Graph contacts cursor")
    return dict(state)
