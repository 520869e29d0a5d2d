"""The demo end to end: real Graph and Google providers behind calproxy, over HTTP.

This is also the OAuth dance through calproxy's own API for both services (POST
integration -> authorize URL -> 302 -> callback -> connected -> events).
"""

from __future__ import annotations

from pathlib import Path

import aiohttp

from proxy.demo import _free_port, _side_by_side, _window, start_demo


async def test_demo_connects_both_services_and_redacts(tmp_path: Path) -> None:
    world = await start_demo(_free_port(), tmp_path)
    try:
        async with aiohttp.ClientSession() as http:
            views = {}
            for who in ("exec", "assistant", "chief"):
                async with http.get(
                        f"{world.url}/v1/users/exec@acme.example/events?{_window()}",
                        headers={"Authorization": f"Bearer {world.tokens[who]}"}) as resp:
                    assert resp.status == 200
                    views[who] = [e["title"] for e in (await resp.json())["events"]]
            async with http.get(
                    f"{world.url}/v1/users/me/events?{_window()}",
                    headers={"Authorization": f"Bearer {world.tokens['colleague']}"}) as resp:
                google = await resp.json()
        assert views["exec"] == views["chief"]
        assert "Merger talks with Initech" in views["exec"]
        assert "Merger talks with Initech" not in views["assistant"]
        assert views["assistant"].count("Private event") == 2
        assert views["exec"].count("Leadership sync") >= 1
        assert {e["service"] for e in google["events"]} == {"google"}
        assert "Design review" in [e["title"] for e in google["events"]]
        text = await _side_by_side(world)
        assert "Offer: $40M" not in text.split("assistant's JSON")[1]
    finally:
        for runner in reversed(world.runners):
            await runner.cleanup()
