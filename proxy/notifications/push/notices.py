"""What a provider's hook request says, once parsed: the shared vocabulary of the
per-provider parsers (:mod:`.graph_hook`, :mod:`.google_hook`) and the dispatcher
(:mod:`.hooks`). Nothing here is trusted yet: the dispatcher checks each notice's channel
and secret against the store before acting on it."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from proxy.errors import BadRequest


class Kind(enum.StrEnum):
    #: something in the watched calendar changed: run an incremental round
    CHANGE = "change"
    #: Google's first message of a new channel: acknowledged only
    SYNC = "sync"
    #: Graph lifecycle ``reauthorizationRequired``: renew the subscription now
    REAUTHORIZE = "reauthorizationRequired"
    #: Graph lifecycle ``subscriptionRemoved``: subscribe again, then sync
    REMOVED = "subscriptionRemoved"
    #: Graph lifecycle ``missed``: notifications were lost, sync
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification about one channel."""

    #: the provider's id of the channel (Graph ``subscriptionId``, ``X-Goog-Channel-ID``)
    upstream_id: str
    #: what the notice carries as the channel's secret (Graph ``clientState``,
    #: ``X-Goog-Channel-Token``); ``None`` when it carries none (always ignored then)
    secret: str | None
    kind: Kind
    #: Google's ``X-Goog-Resource-ID`` (compared with the stored one when both exist)
    resource_id: str | None = None


@dataclass(frozen=True, slots=True)
class Handshake:
    """Graph's validation request: answered 200 ``text/plain`` with ``token``, decoded."""

    token: str


class MalformedNotice(BadRequest):
    """A hook request no provider would send: answered 400 in the error shape."""

    default_code = "invalid_notification"
