"""Every JSON answer is written by one encoder (orjson, via ``proxy.http.replies``): the
writes, listings and errors as compact UTF-8 exactly as the cached reads are."""

from __future__ import annotations

from datetime import timedelta

from proxy.render.json import json_bytes
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
