"""The audit trail over real HTTP: an owner sees who read their private events and who
was refused, with no content; nobody else sees it; admins see the account's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from proxy.core.model import Attendee, Sensitivity
from proxy.operations.audit import AuditTrail
from proxy.store.records import AuditRecord
from tests.api.conftest import Live, running, seed_world
from tests.api.helpers import WINDOW, at, seed

EXEC = "exec@acme.example"
EVENTS = f"/v1/users/{EXEC}/events"


def actions(body: Any) -> list[tuple[str, str, str | None, str | None, str]]:
    return [(r["action"], r["actor"], r["owner"], r["target"], r["result"])
            for r in body["records"]]


async def _traffic(world: Live) -> tuple[str, str]:
    private = seed(world, title="Merger talks with Initech", description="the offer",
                   location="vault", sensitivity=Sensitivity.PRIVATE,
                   attendees=(Attendee("Pat", "pat@initech.example"),))
    seed(world, title="Team lunch", start=at(2))
    status, body, _ = await world.call("chief", "GET", f"{EVENTS}?{WINDOW}")
    assert status == 200
    event_id = next(e["id"] for e in body["events"] if e["sensitivity"] == "private")
    assert private.title in {e["title"] for e in body["events"]}
    status, _, _ = await world.call("assistant", "GET", f"{EVENTS}?{WINDOW}")  # busy block
    assert status == 200
    status, body, _ = await world.call("assistant", "PATCH", f"{EVENTS}/{event_id}",
                                       json={"title": "peek"})
    assert status == 403 and body["error"]["code"] == "private_event"
    status, _, _ = await world.call("colleague", "GET", f"{EVENTS}?{WINDOW}")
    assert status == 403
    status, created, _ = await world.call("assistant", "POST", EVENTS, json={
        "title": "Dentist moved", "start": "2026-12-03T10:00:00Z",
        "end": "2026-12-03T11:00:00Z"})
    assert status == 201
    status, _, _ = await world.call("exec", "GET", f"/v1/users/me/events?{WINDOW}")  # own
    return event_id, created["id"]


async def test_an_owner_sees_who_read_and_who_was_refused(world: Live) -> None:
    event_id, created_id = await _traffic(world)
    status, body, response = await world.call("exec", "GET", "/v1/me/audit")
    assert status == 200
    seen = actions(body)
    assert ("event.read_private", "chief@acme.example", EXEC, event_id, "allowed") in seen
    assert ("event.write_refused", "assistant@acme.example", EXEC, event_id,
            "refused") in seen
    assert ("event.read_refused", "colleague@acme.example", EXEC, None, "refused") in seen
    assert ("event.created", "assistant@acme.example", EXEC, created_id, "allowed") in seen
    assert ("integration.connected", EXEC, EXEC, world.mailbox("exec"), "allowed") in seen
    # the assistant saw a busy block only, the owner's own reads are not on the trail
    assert not any(a == "event.read_private" and actor != "chief@acme.example"
                   for a, actor, *_ in seen)
    raw = await response.text()
    for secret in ("Merger", "Initech", "the offer", "vault", "pat@", "Team lunch",
                   "Dentist", "peek"):
        assert secret not in raw
    for record in body["records"]:
        assert set(record) == {"id", "at", "actor", "action", "owner", "target", "result"}
        assert datetime.fromisoformat(record["at"].replace("Z", "+00:00")).tzinfo


async def test_nobody_else_reads_an_owners_trail(world: Live) -> None:
    await _traffic(world)
    for who in ("chief", "assistant", "colleague"):
        status, body, _ = await world.call(who, "GET", "/v1/me/audit")
        assert status == 200 and all(r["owner"] != EXEC for r in body["records"]), who
    status, body, _ = await world.call("outsider", "GET", "/v1/me/audit")
    assert status == 200 and body["records"] == []
    status, body, _ = await world.call("exec", "GET", "/v1/account/audit")
    assert status == 403 and body["error"]["code"] == "admin_only"
    status, _, _ = await world.call(None, "GET", "/v1/me/audit")
    assert status == 401


async def test_admins_see_the_accounts_records(world: Live) -> None:
    await _traffic(world)
    status, _, _ = await world.call("admin", "PATCH", "/v1/account/settings",
                                    json={"permissions": {"value": {"calendar": "read"}}})
    assert status == 200
    _, feed, _ = await world.call("exec", "POST", "/v1/me/feeds", json={"detail": "busy"})
    await world.call("exec", "DELETE", f"/v1/me/feeds/{feed['id']}")
    status, body, _ = await world.call("admin", "GET", "/v1/account/audit")
    assert status == 200
    seen = {(a, actor, target) for a, actor, _, target, _ in actions(body)}
    assert ("policy.updated", "admin@acme.example", "permissions") in seen
    assert ("feed.created", EXEC, feed["id"]) in seen
    assert ("feed.revoked", EXEC, feed["id"]) in seen
    assert {a for a, *_ in seen} >= {"event.read_private", "event.write_refused",
                                     "event.read_refused", "event.created"}
    status, _, _ = await world.call("outsider", "GET", "/v1/account/audit")
    assert status == 403


async def test_since_filters_and_bad_since_is_named(world: Live) -> None:
    await _traffic(world)
    later = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, body, _ = await world.call("exec", "GET", f"/v1/me/audit?since={later}")
    assert status == 200 and body["records"] == []
    for bad in ("yesterday", "2026-12-01T10:00:00"):
        status, body, _ = await world.call("exec", "GET", f"/v1/me/audit?since={bad}")
        assert status == 400 and "since" in body["error"]["message"]


async def test_retention_prunes_old_records(world: Live) -> None:
    old = datetime.now(UTC) - timedelta(days=91)
    await world.store.append_audit([AuditRecord(
        "old-record", old, world.ids["account"], world.ids["chief"], "chief@acme.example",
        "event.read_private", world.ids["exec"], EXEC, "e1", "allowed")])
    since = (old - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _, body, _ = await world.call("exec", "GET", f"/v1/me/audit?since={since}")
    assert [r["id"] for r in body["records"]][:1] == ["old-record"]
    await AuditTrail(world.store, retention_days=90)._prune()  # what the flusher runs hourly
    _, body, _ = await world.call("exec", "GET", f"/v1/me/audit?since={since}")
    assert "old-record" not in [r["id"] for r in body["records"]]


async def test_webhooks_created_and_removed_are_on_the_owners_trail(tmp_path: Path) -> None:
    async with running(f"sqlite+aiosqlite:///{tmp_path / 'w.sqlite3'}",
                       webhook_allow_http=True, webhook_allowed_hosts=("127.0.0.1",)) as live:
        await seed_world(live)
        status, hook, _ = await live.call("chief", "POST", "/v1/me/webhooks", json={
            "url": "http://127.0.0.1:9/hook", "user": EXEC})
        assert status == 201
        status, _, _ = await live.call("chief", "DELETE", f"/v1/me/webhooks/{hook['id']}")
        assert status == 204
        _, body, _ = await live.call("exec", "GET", "/v1/me/audit")
        seen = [(a, actor, owner, target) for a, actor, owner, target, _ in actions(body)]
        assert ("webhook.created", "chief@acme.example", EXEC, hook["id"]) in seen
        assert ("webhook.removed", "chief@acme.example", EXEC, hook["id"]) in seen
        assert hook["secret"] not in str(body)
