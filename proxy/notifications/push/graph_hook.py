"""Parsing Microsoft Graph's hook requests (first version; graph-push hardens it).

Graph POSTs three kinds of request: the validation handshake (``?validationToken=…``,
answered with the decoded token), change notifications (``{"value": [{subscriptionId,
clientState, changeType, resource, ...}]}``) and lifecycle notifications (the same
envelope with ``lifecycleEvent`` instead of ``changeType``). One POST may batch items of
several subscriptions. Basic notifications carry no event data, so nothing here but the
subscription id, the secret and the kind is kept (PUSH-NOTES §1).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from proxy.notifications.push.notices import Handshake, Kind, MalformedNotice, Notice

#: items one POST may carry at most (Graph batches; anything beyond is refused)
MAX_ITEMS = 1000
_LIFECYCLE = {"reauthorizationRequired": Kind.REAUTHORIZE,
              "subscriptionRemoved": Kind.REMOVED, "missed": Kind.MISSED}
_CHANGES = {"created", "updated", "deleted"}


def parse_graph(query: Mapping[str, str], body: bytes,
                lifecycle: bool) -> Handshake | list[Notice]:
    """The handshake, or the notices of ``body``; :class:`MalformedNotice` otherwise.

    ``query`` is the URL's decoded query (aiohttp decodes it, so the token is answered as
    Graph wants it: decoded). ``lifecycle`` says which URL was called: lifecycle items on
    the notification URL (and the reverse) are accepted too, by their own shape.
    """
    token = query.get("validationToken")
    if token is not None:
        return Handshake(token)
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedNotice("body: expected a JSON object with a value array") from None
    items = document.get("value") if isinstance(document, dict) else None
    if not isinstance(items, list) or not items or len(items) > MAX_ITEMS:
        raise MalformedNotice("value: expected a non-empty array of notifications")
    return [_item(item) for item in items]


def _item(item: Any) -> Notice:
    if not isinstance(item, dict):
        raise MalformedNotice("value: every notification is an object")
    subscription = item.get("subscriptionId")
    if not isinstance(subscription, str) or not subscription or len(subscription) > 300:
        raise MalformedNotice("value[].subscriptionId: expected a string")
    secret = item.get("clientState")
    if secret is not None and not isinstance(secret, str):
        raise MalformedNotice("value[].clientState: expected a string")
    event = item.get("lifecycleEvent")
    if event is not None:
        kind = _LIFECYCLE.get(event) if isinstance(event, str) else None
        if kind is None:
            raise MalformedNotice("value[].lifecycleEvent: not a known lifecycle event")
        return Notice(subscription, secret, kind)
    change = item.get("changeType")
    if not isinstance(change, str) or not set(change.split(",")) <= _CHANGES:
        raise MalformedNotice("value[].changeType: expected created, updated or deleted")
    return Notice(subscription, secret, Kind.CHANGE)
