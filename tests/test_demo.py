"""The demo end to end: real Graph, Google and EWS providers behind calproxy, over HTTP.

This is also the OAuth dance through calproxy's own API for Graph and Google (POST
integration -> authorize URL -> 302 -> callback -> connected -> events) and the EWS
password connect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from proxy.demo import DemoWorld, _free_port, _side_by_side, _window, start_demo


async def get(http: aiohttp.ClientSession, world: DemoWorld, who: str, path: str) -> Any:
    headers = {"Authorization": f"Bearer {world.tokens[who]}"}
    async with http.get(f"{world.url}{path}?{_window()}", headers=headers) as resp:
        assert resp.status == 200
        return await resp.json()


async def test_demo_connects_every_service_and_redacts(tmp_path: Path) -> None:
    world = await start_demo(_free_port(), tmp_path)
    try:
        async with aiohttp.ClientSession() as http:
            views = {who: [e["title"] for e in (await get(
                http, world, who, "/v1/users/exec@acme.example/events"))["events"]]
                for who in ("exec", "assistant", "chief")}
            google = await get(http, world, "colleague", "/v1/users/me/events")
            exchange = await get(http, world, "chief", "/v1/users/me/events")
            assert set(world.links) == {"admin", "exec", "assistant", "chief", "colleague",
                                        "outsider"}
            async with http.get(world.links["assistant"]) as link:  # the GET spends nothing
                assert link.status == 200 and "assistant@acme.example" in await link.text()
        assert views["exec"] == views["chief"]
        assert "Merger talks with Initech" in views["exec"]
        assert "Merger talks with Initech" not in views["assistant"]
        assert views["assistant"].count("Private event") == 2
        assert views["exec"].count("Leadership sync") >= 1
        assert {e["service"] for e in google["events"]} == {"google"}
        assert "Design review" in [e["title"] for e in google["events"]]
        assert {e["service"] for e in exchange["events"]} == {"exchange_ews"}
        assert "Team standup" in [e["title"] for e in exchange["events"]]
        text = await _side_by_side(world)
        assert "Offer: $40M" not in text.split("assistant's JSON")[1]
        assert "SUMMARY:Busy" in text and "Merger" not in text.split("busy feed")[1]
    finally:
        for runner in reversed(world.runners):
            await runner.cleanup()
