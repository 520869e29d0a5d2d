"""Writes on one occurrence of a series change that occurrence only."""

from __future__ import annotations

from datetime import timedelta

from tests.api.conftest import Cloud, Live
from tests.api.helpers import NEAR as WINDOW
from tests.api.helpers import NOW, at, events_of, seed


async def test_patch_and_delete_one_occurrence(world: Live) -> None:
    seed(world, title="Daily", start=at(1), rrule=("FREQ=DAILY;COUNT=3",))
    _, body = await events_of(world, "exec")
    _, second, third = body["events"]
    path = "/v1/users/me/events/"
    status, moved, _ = await world.call("exec", "PATCH", path + second["id"],
                                        json={"title": "Daily (moved)"})
    assert status == 200, moved
    assert moved["recurrence"]["is_exception"] is True
    status, _, _ = await world.call("exec", "DELETE", path + third["id"])
    assert status == 204
    _, body = await events_of(world, "exec")
    assert [(e["title"], e["start"][:10]) for e in body["events"]] == [
        ("Daily", "2026-12-01"), ("Daily (moved)", "2026-12-02")]


async def test_google_occurrence_write_through(cloud: Cloud) -> None:
    email = "exec@acme.example"
    start = NOW + timedelta(days=1)
    cloud.google.add_series(email, "Review", start, start + timedelta(hours=1),
                            "FREQ=DAILY;COUNT=3")
    await cloud.live.connect("exec", "google")
    _, body, _ = await cloud.live.call("exec", "GET", f"/v1/users/me/events?{WINDOW}")
    first, second, third = body["events"]
    status, moved, _ = await cloud.live.call("exec", "PATCH",
                                             f"/v1/users/me/events/{second['id']}",
                                             json={"title": "Review (special)"})
    assert status == 200, moved
    status, _, _ = await cloud.live.call("exec", "DELETE", f"/v1/users/me/events/{third['id']}")
    assert status == 204
    _, body, _ = await cloud.live.call("exec", "GET", f"/v1/users/me/events?{WINDOW}")
    assert [e["title"] for e in body["events"]] == ["Review", "Review (special)"]
    assert body["events"][0]["start"] == first["start"]
