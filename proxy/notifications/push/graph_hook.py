"""Parsing Microsoft Graph's hook requests: the handshake, change and lifecycle items.

Graph POSTs three kinds of request to either hook URL (PUSH-NOTES §1):

* the validation handshake, ``?validationToken=…`` (URL-encoded; aiohttp's decoded query
  gives the token Graph wants echoed), answered 200 ``text/plain``;
* change notifications, ``{"value": [{subscriptionId, clientState, changeType,
  resource, resourceData, ...}]}``, and lifecycle notifications, the same envelope with
  ``lifecycleEvent`` instead of ``changeType``. One POST may batch items of several
  subscriptions and mix the two kinds; lifecycle items are accepted on the notification
  URL and change items on the lifecycle URL, each by its own shape.

Basic notifications carry no event data, so nothing is kept but the subscription id,
the secret and the kind; the receiver syncs by delta instead. Hardening:

* An envelope that is not ``{"value": [objects...]}`` (bad JSON, not UTF-8, no array, an
  empty or oversized array) is :class:`MalformedNotice` (400 in the error shape). Within a
  well-formed envelope, an item no provider would send is skipped and counted as
  ``malformed`` while the others are acted on, because a 400 would make Graph retry the
  whole batch, good items with it, for hours; only a batch of nothing but such items is
  refused.
* A ``clientState`` longer than Graph allows on a subscription (128) cannot be ours: the
  item keeps no secret and is ignored as forged, never hashed or compared.
* Subscription ids are printable ASCII of bounded length (Graph's are GUIDs), so no
  forged id reaches the store as a value it would choke on.
* Repeated items (Graph redelivers; a batch may hold the same change twice) become one
  notice each, so one request costs at most one store lookup per subscription and kind.
* A handshake with an empty or oversized token is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from proxy.notifications.push.notices import Handshake, Kind, MalformedNotice, Notice
from proxy.operations.metrics import count_push_notice

#: items one POST may carry at most (Graph batches; anything beyond is refused)
MAX_ITEMS = 1000
#: Graph's limit on a subscription's clientState: a longer one was never issued by us
MAX_CLIENT_STATE = 128
#: a validation token longer than this is no Graph token (theirs are about 100 chars)
MAX_TOKEN = 1024
_SUBSCRIPTION_ID = re.compile(r"[\x21-\x7e]{1,200}")
_LIFECYCLE = {"reauthorizationRequired": Kind.REAUTHORIZE,
              "subscriptionRemoved": Kind.REMOVED, "missed": Kind.MISSED}
_CHANGES = {"created", "updated", "deleted"}


class _Skipped(Exception):
    """One item of a well-formed batch that no provider would send."""


def parse_graph(query: Mapping[str, str], body: bytes,
                lifecycle: bool) -> Handshake | list[Notice]:
    """The handshake, or the distinct notices of ``body``; :class:`MalformedNotice` when
    the request is no Graph request.

    ``lifecycle`` says which URL was called; both accept both kinds of item.
    """
    if "validationToken" in query:
        return _handshake(query.get("validationToken", ""))
    notices: dict[Notice, None] = {}  # insertion-ordered set
    skipped = 0
    for item in _items(body):
        try:
            notices.setdefault(_notice(item))
        except _Skipped:
            skipped += 1
    if not notices:
        raise MalformedNotice("value: no notification Graph would send")
    for _ in range(skipped):
        count_push_notice("graph", "malformed")
    return list(notices)


def _handshake(token: str) -> Handshake:
    if not token or len(token) > MAX_TOKEN:
        raise MalformedNotice("validationToken: expected a token")
    return Handshake(token)


def _items(body: bytes) -> list[Any]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedNotice("body: expected a JSON object with a value array") from None
    items = document.get("value") if isinstance(document, dict) else None
    if not isinstance(items, list) or not items or len(items) > MAX_ITEMS:
        raise MalformedNotice("value: expected a non-empty array of notifications")
    return items


def _notice(item: Any) -> Notice:
    """One item as a notice; :class:`_Skipped` when it is not shaped as Graph's are."""
    if not isinstance(item, dict):
        raise _Skipped
    subscription = item.get("subscriptionId")
    if not isinstance(subscription, str) or not _SUBSCRIPTION_ID.fullmatch(subscription):
        raise _Skipped
    secret = item.get("clientState")
    if secret is not None and not isinstance(secret, str):
        raise _Skipped
    if secret is not None and len(secret) > MAX_CLIENT_STATE:
        secret = None  # not one we issued: ignored as forged, never compared
    event, change = item.get("lifecycleEvent"), item.get("changeType")
    if event is not None:
        kind = _LIFECYCLE.get(event) if isinstance(event, str) else None
        if kind is None or change is not None:  # the two are mutually exclusive
            raise _Skipped
        return Notice(subscription, secret, kind)
    if not isinstance(change, str) or not set(change.split(",")) <= _CHANGES:
        raise _Skipped
    return Notice(subscription, secret, Kind.CHANGE)
