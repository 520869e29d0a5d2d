"""Parsing Google Calendar's push messages (first version; google-push hardens it).

A message is a POST with an empty body; everything is in headers (PUSH-NOTES §2):
``X-Goog-Channel-ID`` (our channel id), ``X-Goog-Channel-Token`` (the secret, present
because calproxy always sets one), ``X-Goog-Resource-State`` (``sync`` for the first
message of a channel, ``exists`` for any change, ``not_exists`` for a resource gone),
``X-Goog-Resource-ID`` and ``X-Goog-Message-Number``.
"""

from __future__ import annotations

from collections.abc import Mapping

from proxy.notifications.push.notices import Kind, MalformedNotice, Notice

_STATES = {"sync": Kind.SYNC, "exists": Kind.CHANGE, "not_exists": Kind.CHANGE}


def parse_google(headers: Mapping[str, str]) -> Notice:
    """The notice the headers describe; :class:`MalformedNotice` when one is missing or
    not what Google sends."""
    channel = headers.get("X-Goog-Channel-ID", "")
    if not channel or len(channel) > 300:
        raise MalformedNotice("X-Goog-Channel-ID: required")
    state = _STATES.get(headers.get("X-Goog-Resource-State", ""))
    if state is None:
        raise MalformedNotice("X-Goog-Resource-State: expected sync, exists or not_exists")
    number = headers.get("X-Goog-Message-Number", "")
    if not number.isascii() or not number.isdigit():
        raise MalformedNotice("X-Goog-Message-Number: expected a number")
    return Notice(channel, headers.get("X-Goog-Channel-Token"), state,
                  headers.get("X-Goog-Resource-ID") or None)
