"""Ids survive disconnecting and reconnecting the same mailbox (DESIGN §5, issue 9 item 3).

Over real HTTP, with the real Graph, Google and EWS providers against their emulators:
connect, read the ids of calendars, events and contacts, disconnect (the integration row
and its mirror are deleted), connect the same mailbox again, read again.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from tests.api.conftest import Cloud, Live
from tests.api.helpers import NEAR as WINDOW
from tests.api.helpers import NOW

EXEC = "exec@acme.example"
START, END = NOW + timedelta(days=1), NOW + timedelta(days=1, hours=1)


async def ids(live: Live) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for kind, path in (("calendars", "/v1/users/me/calendars"),
                       ("events", f"/v1/users/me/events?{WINDOW}"),
                       ("contacts", "/v1/users/me/contacts")):
        status, body, _ = await live.call("exec", "GET", path)
        assert status == 200, body
        found[kind] = sorted(item["id"] for item in body[kind])
    return found


async def reconnected(live: Live, connect: Callable[[], Awaitable[dict[str, Any]]],
                      mailbox: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """``mailbox`` is what the integration must have recorded as the mailbox it reached."""
    first = await connect()
    integration = await live.store.get_integration(first["id"])
    assert integration is not None and integration.details["mailbox"] == mailbox
    before = await ids(live)
    status, _, _ = await live.call("exec", "DELETE", f"/v1/me/integrations/{first['id']}")
    assert status == 204
    second = await connect()
    assert second["id"] != first["id"] and second["status"] == "connected"
    return before, await ids(live)


def assert_same(before: dict[str, list[str]], after: dict[str, list[str]]) -> None:
    assert all(before.values()), before  # a calendar, an event and a contact were read
    assert before == after
    assert not any(i.startswith("-") for kind in after.values() for i in kind)


async def test_graph_ids_survive_a_reconnect(cloud: Cloud) -> None:
    cloud.microsoft.graph.add_event(EXEC, "Board", START, END, "W. Europe Standard Time")
    cloud.microsoft.graph.add_contact(EXEC, givenName="Ada", displayName="Ada Lovelace")
    me_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, EXEC))  # the emulator's /me id
    assert_same(*await reconnected(cloud.live, lambda: cloud.live.connect("exec", "graph"),
                                   me_id))


async def test_google_ids_survive_a_reconnect(cloud: Cloud) -> None:
    cloud.google.add_simple_event(EXEC, "Design review", START, END)
    cloud.google.add_contact(EXEC, "Grace", "Hopper")
    assert_same(*await reconnected(cloud.live, lambda: cloud.live.connect("exec", "google"),
                                   EXEC))  # from the ID token


async def test_exchange_ids_survive_a_reconnect(exchange: Cloud) -> None:
    ews = exchange.google  # the EWS emulator rides in the second slot
    ews.add_event(EXEC, "Budget review", START, END)
    ews.add_contact(EXEC, "Ada", "Lovelace")

    async def connect() -> dict[str, Any]:
        status, body, _ = await exchange.live.call("exec", "POST", "/v1/me/integrations", json={
            "service": "exchange_ews", "ews_url": exchange.live.ids["ews_url"],
            "username": EXEC, "password": "pw-exec"})
        assert status == 201, body
        return dict(body)

    assert_same(*await reconnected(exchange.live, connect, f"127.0.0.1/{EXEC}"))

