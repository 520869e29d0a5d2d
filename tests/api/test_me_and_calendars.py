"""The caller, delegations and calendar selection over HTTP."""

from __future__ import annotations

from proxy.core.model import Calendar
from tests.api.conftest import Live
from tests.api.helpers import events_of, seed
from tests.api.test_read_cache import queries


async def test_me_lists_account_and_integrations_without_secrets(world: Live) -> None:
    status, body, _ = await world.call("exec", "GET", "/v1/me")
    assert status == 200
    assert body["user"]["email"] == "exec@acme.example"
    assert body["account"]["name"] == "Acme"
    [integration] = body["integrations"]
    assert integration["status"] == "connected" and integration["service"] == "graph"
    text = repr(body)
    assert "token" not in text.lower() and "verifier" not in text


async def test_a_repeated_me_asks_the_store_nothing_and_changes_show_at_once(
        world: Live) -> None:
    """``/v1/me`` reads through the principal cache: nothing from the store when nothing
    changed, and a new or removed integration in the very next answer."""
    first = await world.call("exec", "GET", "/v1/me")
    with queries(world) as seen:
        again = await world.call("exec", "GET", "/v1/me")
    assert again[:2] == first[:2] and seen == [], seen
    connected = await world.connect("exec", "ews_o365")
    _, body, _ = await world.call("exec", "GET", "/v1/me")
    assert [i["service"] for i in body["integrations"]] == ["graph", "ews_o365"]
    assert (await world.call("exec", "DELETE", f"/v1/me/integrations/{world.mailbox('exec')}")
            )[0] == 204
    _, body, _ = await world.call("exec", "GET", "/v1/me")
    assert [i["id"] for i in body["integrations"]] == [connected["id"]]


async def test_delegates_and_delegators(world: Live) -> None:
    _, delegates, _ = await world.call("exec", "GET", "/v1/me/delegates")
    assert {(d["email"], d["can_view_private"]) for d in delegates["delegates"]} == {
        ("assistant@acme.example", False), ("chief@acme.example", True)}
    _, delegators, _ = await world.call("assistant", "GET", "/v1/me/delegators")
    assert [d["email"] for d in delegators["delegators"]] == ["exec@acme.example"]
    status, _, _ = await world.call("exec", "PUT", "/v1/me/delegates/outsider@other.example",
                                       json={"can_schedule": True})
    assert status == 404
    status, _body, _ = await world.call("exec", "PUT", "/v1/me/delegates/exec@acme.example",
                                       json={})
    assert status == 400
    status, _, _ = await world.call("exec", "DELETE", "/v1/me/delegates/assistant@acme.example")
    assert status == 204
    assert (await events_of(world, "assistant"))[0] == 403  # now only a colleague


async def test_calendar_selection(world: Live) -> None:
    world.backend.add_calendar(world.mailbox("exec"), Calendar("team", "Team"))
    seed(world, title="Primary meeting")
    status, body, _ = await world.call("exec", "GET", "/v1/users/me/calendars")
    assert status == 200
    primary = next(c for c in body["calendars"] if c["primary"])
    assert primary["synced"] is True
    assert [(c["name"], c["synced"]) for c in body["calendars"] if not c["primary"]] == [
        ("Team", False)]
    status, body, _ = await world.call("assistant", "GET",
                                       "/v1/users/exec@acme.example/calendars")
    assert status == 200
    status, _, _ = await world.call("assistant", "PATCH",
                                    f"/v1/users/exec@acme.example/calendars/{primary['id']}",
                                    json={"synced": False})
    assert status == 403
    status, body, _ = await world.call("exec", "PATCH",
                                       f"/v1/users/me/calendars/{primary['id']}",
                                       json={"synced": False})
    assert status == 200 and body["synced"] is False
    assert (await events_of(world, "exec"))[1]["events"] == []
    await world.call("exec", "PATCH", f"/v1/users/me/calendars/{primary['id']}",
                     json={"synced": True})
    assert [e["title"] for e in (await events_of(world, "exec"))[1]["events"]] == [
        "Primary meeting"]


async def test_disconnect_forgets_credentials_and_mirror(world: Live) -> None:
    from sqlalchemy import text

    seed(world, title="Board")
    assert (await events_of(world, "exec"))[1]["events"][0]["title"] == "Board"
    integration = world.mailbox("exec")
    status, _, _ = await world.call("exec", "DELETE", f"/v1/me/integrations/{integration}")
    assert status == 204
    async with world.store.engine.connect() as conn:
        for table in ("integrations", "calendars", "events"):
            column = "id" if table == "integrations" else "integration_id"
            rows = (await conn.execute(text(
                f"SELECT count(*) FROM {table} WHERE {column} = :id"), {"id": integration})
            ).scalar()
            assert rows == 0, table
    status, body = await events_of(world, "exec")
    assert status == 409 and body["error"]["code"] == "not_integrated"
    status, _, _ = await world.call("assistant", "DELETE", f"/v1/me/integrations/{integration}")
    assert status == 404


async def test_read_only_calendars_refuse_writes(world: Live) -> None:
    world.backend.add_calendar(world.mailbox("exec"),
                               Calendar("holidays", "Holidays", can_write=False))
    _, body, _ = await world.call("exec", "GET", "/v1/users/me/calendars")
    holidays = next(c for c in body["calendars"] if c["name"] == "Holidays")
    assert holidays["can_write"] is False
    status, body, _ = await world.call("exec", "POST", "/v1/users/me/events", json={
        "calendar_id": holidays["id"], "title": "x", "start": "2026-12-01T09:00:00Z",
        "end": "2026-12-01T10:00:00Z"})
    assert status == 403 and body["error"]["code"] == "calendar_read_only"
