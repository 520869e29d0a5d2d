"""exchangelib's SOAP services, answering the raw XML elements of the items.

exchangelib stays in charge of the session, authentication, the version header, the SOAP
envelope and Exchange's error protocol (faults and ResponseCodes become its exceptions,
which :func:`ews_session.map_errors` translates). Two of its costs are avoided here:
building its item objects (about 1.9 ms per calendar item) and reading the answer through
``iter_content()``, which hands lxml one byte at a time. The answer is parsed once, from
``response.content``, with a parser that resolves no entities and fetches nothing; the
item elements go to :mod:`ews_parse`.
"""

from __future__ import annotations

from typing import Any

from exchangelib.errors import MalformedResponseError, SOAPError
from exchangelib.services import FindItem, GetItem, SyncFolderItems
from exchangelib.util import SOAPNS
from lxml import etree

#: no entities, no DTD, no network: nothing in an answer can make the parser read or
#: expand anything. Large text nodes are allowed (as exchangelib allows them): an item
#: with a body over libxml2's 10 MB default must not fail a whole round.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=True)


class _RawAnswer:
    """Mixin: parse the SOAP answer once and yield item elements, not library objects."""

    @classmethod
    def _get_soap_parts(cls, response: Any) -> tuple[Any, Any]:
        try:
            root = etree.fromstring(response.content, parser=_PARSER)
        except (etree.XMLSyntaxError, ValueError):
            raise SOAPError("Bad SOAP response") from None
        body = root.find(f"{{{SOAPNS}}}Body")
        if body is None:
            raise MalformedResponseError("No Body element in SOAP response")
        return root.find(f"{{{SOAPNS}}}Header"), body

    def _elem_to_obj(self, elem: Any) -> Any:
        return elem


class RawGetItem(_RawAnswer, GetItem):  # type: ignore[misc]
    """GetItem answering ``t:CalendarItem`` / ``t:Contact`` elements."""


class RawFindItem(_RawAnswer, FindItem):  # type: ignore[misc]
    """FindItem answering one page of item elements; ``complete`` tells whether the page
    held the last item of the range (``IncludesLastItemInRange``). A CalendarView has no
    offset paging: the caller asks again from the last start it got."""

    complete = True

    def _get_page(self, message: Any) -> tuple[Any, None]:
        paging = self._get_element_container(message=message, name=self.paging_container_name)
        if isinstance(paging, Exception):
            return paging, None
        self.complete = (paging.get("IncludesLastItemInRange") or "true").lower() == "true"
        return paging, None


class RawSyncFolderItems(_RawAnswer, SyncFolderItems):  # type: ignore[misc]
    """SyncFolderItems answering ``(change type, change element)`` pairs."""

    def _elem_to_obj(self, elem: Any) -> Any:
        return self.change_types_map[elem.tag], elem
