"""Every JSON answer is written by one encoder (orjson, via ``proxy.http.replies``): the
writes, listings and errors as compact UTF-8 exactly as the cached reads are."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from proxy.core.mirror import MirroredEvent
from proxy.core.model import (
    Attendee,
    AttendeeKind,
    Conference,
    ConferenceProvider,
    Event,
    Person,
    Recurrence,
    Response,
    Service,
)
from proxy.redaction import Audience, Detail, redact
from proxy.render.json import event_json, json_bytes
from tests.api.conftest import Live
from tests.api.helpers import NOW


async def test_write_answers_are_the_reads_encoding(world: Live) -> None:
    start = NOW + timedelta(days=1)
    status, body, response = await world.call("exec", "POST", "/v1/users/me/events", json={
        "title": "Café – Zürich", "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat()})
    assert status == 201 and body["title"] == "Café – Zürich"
    assert response.content_type == "application/json"
    status, raw, response = await world.call("exec", "GET", f"/v1/users/me/events/{body['id']}")
    assert status == 200 and raw == body  # the read renders the same JSON model
    async with world.http.patch(f"{world.url}/v1/users/me/events/{body['id']}",
                                headers={"Authorization": f"Bearer {world.tokens['exec']}"},
                                json={"title": "Tee – Köln"}) as patched:
        sent = await patched.read()
    assert patched.status == 200
    assert sent == json_bytes(await patched.json())  # compact, and UTF-8 (not \\u escapes)
    assert "Köln".encode() in sent


async def test_error_answers_use_the_same_encoder(world: Live) -> None:
    async with world.http.get(f"{world.url}/v1/users/nobody@nowhere.example/events",
                              headers={"Authorization": f"Bearer {world.tokens['exec']}"}) as r:
        sent = await r.read()
    assert r.status == 404 and r.content_type == "application/json"
    assert sent == json_bytes(await r.json())


def test_the_event_model_is_plain_json_whichever_encoder_writes_it() -> None:
    """Enum members and moments in the rendered model come out as the contract's strings
    from orjson and from the standard library (the fallback) alike."""
    berlin = ZoneInfo("Europe/Berlin")
    event = Event("p1", "primary", Service.GOOGLE, datetime(2026, 12, 7, 9, tzinfo=berlin),
                  datetime(2026, 12, 7, 10, tzinfo=berlin), time_zone="Europe/Berlin",
                  title="Review", organizer=Person("Ann", "ann@acme.example"),
                  attendees=(Attendee("Bo", "bo@acme.example", AttendeeKind.OPTIONAL,
                                      Response.ACCEPTED),),
                  conference=Conference(ConferenceProvider.MEET, "https://meet.example/x"),
                  recurrence=Recurrence("s1", date(2026, 12, 7), is_exception=True),
                  updated=datetime(2026, 12, 1, 8, 30, 15, 250, tzinfo=UTC))
    visible = redact(MirroredEvent("e1", "c1", "i1", event, "s1"),
                     Audience(Detail.FULL, sees_private=True))
    assert visible is not None
    body = event_json(visible)
    fast, plain = json_bytes(body), json.dumps(body, separators=(",", ":")).encode()
    assert fast == plain
    parsed = json.loads(fast)
    assert (parsed["service"], parsed["status"], parsed["show_as"], parsed["sensitivity"]) == (
        "google", "confirmed", "busy", "normal")
    assert parsed["attendees"] == [{"name": "Bo", "email": "bo@acme.example",
                                    "kind": "optional", "response": "accepted"}]
    assert parsed["conference"] == {"provider": "meet", "join_url": "https://meet.example/x"}
    assert parsed["start"] == "2026-12-07T09:00:00+01:00"
    assert parsed["recurrence"]["original_start"] == "2026-12-07"
    assert parsed["updated"] == "2026-12-01T08:30:15.000250+00:00"
