"""Parsing Google Calendar's push messages (``POST /hooks/google``).

A message is a POST with an empty body; everything is in headers (PUSH-NOTES §2):
``X-Goog-Channel-ID`` (our channel id, at most 64 characters), ``X-Goog-Channel-Token``
(the channel's secret; calproxy always sets one, at most 256 characters),
``X-Goog-Resource-State`` (``sync`` for a new channel's first message, ``exists`` for any
change, deletions included, ``not_exists`` for a resource gone), ``X-Goog-Resource-ID``
and ``X-Goog-Message-Number`` (increasing, with gaps: no use for spotting lost messages).

What each answer means to Google, which retries 500, 502, 503 and 504 with backoff and
treats every other status as final:

* ``sync`` is acknowledged (200) and nothing else: it announces the channel, not a
  change, and it may arrive before ``events.watch`` has returned, so before the keeper
  stored the channel. It is therefore not looked up at all.
* A change whose channel the store does not hold, or whose token (or resource id) does
  not match, is answered 200 too and dropped: a 4xx would tell a forger what calproxy
  knows, and a retry could not make it true. No provider request follows.
* A request without the headers calproxy needs (channel id, state, message number), or
  with values Google never sends, is 400 in the error shape. Google sends them on every
  message, so only another sender sees it; and being a 4xx, Google would not retry it.
  The resource id and URI are not required: the token is what proves a message.
* A store that cannot be read answers 503: Google retries later, when it may be back.
"""

from __future__ import annotations

from collections.abc import Mapping

from proxy.notifications.push.notices import Kind, MalformedNotice, Notice

_STATES = {"sync": Kind.SYNC, "exists": Kind.CHANGE, "not_exists": Kind.CHANGE}
#: Google's limits on a channel's id and token (events.watch refuses longer ones)
MAX_CHANNEL_ID = 64
MAX_TOKEN = 256
MAX_RESOURCE_ID = 256


def parse_google(headers: Mapping[str, str]) -> Notice:
    """The notice the headers describe; :class:`MalformedNotice` (400) when one calproxy
    needs is missing or holds what Google never sends."""
    channel = headers.get("X-Goog-Channel-ID", "")
    if not channel or len(channel) > MAX_CHANNEL_ID or not _printable(channel):
        raise MalformedNotice("X-Goog-Channel-ID: required, at most 64 characters")
    state = _STATES.get(headers.get("X-Goog-Resource-State", ""))
    if state is None:
        raise MalformedNotice("X-Goog-Resource-State: expected sync, exists or not_exists")
    number = headers.get("X-Goog-Message-Number", "")
    if not number.isascii() or not number.isdigit() or len(number) > 20:
        raise MalformedNotice("X-Goog-Message-Number: expected a number")
    if state is Kind.SYNC and int(number) != 1:
        raise MalformedNotice("X-Goog-Message-Number: a sync message is number 1")
    return Notice(channel, _token(headers.get("X-Goog-Channel-Token")), state,
                  _resource(headers.get("X-Goog-Resource-ID")))


def _token(value: str | None) -> str | None:
    """The token as sent; one Google could not have sent is no secret at all (ignored)."""
    if value is None or not value or len(value) > MAX_TOKEN:
        return None
    return value


def _resource(value: str | None) -> str | None:
    if not value or len(value) > MAX_RESOURCE_ID:
        return None
    return value


def _printable(value: str) -> bool:
    return value.isascii() and value.isprintable()
