"""The demo end to end: real Graph, Google and EWS providers behind calproxy, over HTTP.

This is also the OAuth dance through calproxy's own API for Graph and Google (POST
integration -> authorize URL -> 302 -> callback -> connected -> events) and the EWS
password connect.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from proxy.cli import _parser, demo_base
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


def test_demo_honours_host_port_and_public_url(tmp_path: Path) -> None:
    """``calproxy demo --once`` under CALPROXY_HOST, CALPROXY_PORT and CALPROXY_PUBLIC_URL:
    it listens there (its own requests go to 127.0.0.2:PORT, where only it can answer;
    ``localhost`` is 127.0.0.1) and every URL it prints is under the public URL."""
    port = _free_port()
    public = f"http://localhost:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALPROXY_")}
    env.update({"CALPROXY_HOST": "127.0.0.2", "CALPROXY_PORT": str(port),
                "CALPROXY_PUBLIC_URL": public})
    result = subprocess.run([sys.executable, "-m", "proxy", "demo", "--once"], cwd=tmp_path,
                            capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"calproxy demo running at {public}\n")
    urls = re.findall(r"https?://[^\s'\"]+", out)
    assert len(urls) >= 10 and all(u == public or u.startswith(public + "/") for u in urls), urls
    assert "What each caller sees" in out and "SUMMARY:Busy" in out  # it served the demo


def test_the_port_flag_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALPROXY_PORT", "9123")
    monkeypatch.setenv("CALPROXY_HOST", "127.0.0.3")
    assert demo_base(_parser().parse_args(["demo"])).port == 9123
    flagged = demo_base(_parser().parse_args(["demo", "--port", "9200"]))
    assert (flagged.host, flagged.port, flagged.base_url) == (
        "127.0.0.3", 9200, "http://127.0.0.3:9200")
