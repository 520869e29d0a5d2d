"""``calproxy demo``: everything embedded, no accounts or internet needed.

Starts the built-in Microsoft (identity + Graph), Google and Exchange (EWS) emulators from
the repository's ``tests/fixtures`` on loopback, a fresh SQLite store, and calproxy
itself; seeds the cast of :mod:`proxy.demo_seed` (an administrator, an executive on Graph,
an assistant, a chief of staff on Exchange, a colleague on Google, an outsider of another
account); connects the executive and the colleague through the real OAuth dance and the
chief with an EWS password; then prints tokens, a portal sign-in link for each person and
ready-to-paste commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from proxy.config import Settings
from proxy.demo_seed import (
    CAST,
    MS_CLIENT,
    call,
    connect_people,
    emulator_settings,
    fixtures,
    free_port,
    next_monday,
    portal_links,
    seed_emulators,
    seed_people,
)


@dataclass
class DemoWorld:
    """``url`` is calproxy's public base (printed); ``local`` is where the demo itself
    reaches it (the same unless ``CALPROXY_PUBLIC_URL`` or a wildcard host is set)."""

    url: str
    local: str
    tokens: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    runners: list[web.AppRunner] = field(default_factory=list)


_free_port = free_port


async def _serve(app: web.Application, port: int, world: DemoWorld,
                 host: str = "127.0.0.1") -> str:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    world.runners.append(runner)
    return f"http://127.0.0.1:{port}"


async def _call(http: aiohttp.ClientSession, world: DemoWorld, who: str, method: str,
                path: str, body: Any = None) -> Any:
    return await call(http, world.local, world.tokens[who], method, path, body)


def local_url(host: str, port: int) -> str:
    """Where this process reaches a server listening on ``host``: a wildcard address
    (all interfaces) is reached on loopback."""
    if host in {"", "0.0.0.0", "::"}:
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def demo_settings(base: Settings, workdir: Path, **emulators: Any) -> Settings:
    """The demo's settings: the address and public URL of ``base`` (the environment and
    flags, as ``serve`` reads them), everything else embedded."""
    return Settings(
        database_url=f"sqlite+aiosqlite:///{workdir / 'demo.sqlite3'}", host=base.host,
        port=base.port, public_url=base.public_url, secret_key="calproxy-demo-only-secret",
        **emulators)


async def start_demo(port: int, workdir: Path, base: Settings | None = None) -> DemoWorld:
    """Run the demo; ``base`` gives host and public URL (default loopback), ``port`` wins
    over its port."""
    from proxy.http.app import create_app
    from proxy.store.sql import open_store

    port = port or free_port()  # 0: any free port, as `serve` takes it
    base = (base or Settings()).with_overrides(port=port)
    graph_emulator, google_emulator, ews_emulator = fixtures()
    world = DemoWorld(url=base.base_url, local=local_url(base.host, port))
    microsoft = graph_emulator.MicrosoftCloud(*MS_CLIENT)
    google = google_emulator.GoogleEmulator()
    exchange = ews_emulator.EwsEmulator()
    ms_url = await _serve(microsoft.app(), _free_port(), world)
    google_url = await _serve(google.app(), _free_port(), world)
    ews_url = await _serve(exchange.app(), _free_port(), world) + ews_emulator.PATH
    settings = demo_settings(base, workdir, **emulator_settings(ms_url, google_url, microsoft))
    seed_emulators(microsoft, google, exchange, next_monday(datetime.now(UTC)))
    store = await open_store(settings)
    world.tokens = await seed_people(store)
    await _serve(create_app(settings, store), port, world, settings.host)
    await connect_people(world.local, world.tokens, ews_url, settings.base_url)
    world.links = await portal_links(store, settings)
    return world


def _window() -> str:
    today = date.today()
    return f"start={today}T00:00:00Z&end={today + timedelta(days=14)}T00:00:00Z"


def _session_text(world: DemoWorld) -> str:
    lines = [f"calproxy demo running at {world.url}", "", "Tokens:"]
    for person in CAST:
        lines.append(f"  {person.key.upper():<10} {person.email:<24} {person.role:<42} "
                     f"{world.tokens[person.key]}")
    lines += ["", "Portal sign-in links (open one in a browser; each works once, within 10 "
              "minutes):"]
    for person in CAST:
        lines.append(f"  {person.key.upper():<10} {world.links.get(person.key, '')}")
    events = f"'{world.url}/v1/users/exec@acme.example/events?{_window()}'"
    fb = f"'{world.url}/v1/users/exec@acme.example/freebusy?{_window()}'"
    exports = " ".join(f"{p.key.upper()}={world.tokens[p.key]}" for p in CAST)
    lines += ["", "Paste into a shell:", f"  export {exports}", "",
              "The executive's own view (full detail):",
              f"  curl -s -H \"Authorization: Bearer $EXEC\" {events}", "",
              "The assistant's view of the same calendar (private events as busy blocks):",
              f"  curl -s -H \"Authorization: Bearer $ASSISTANT\" {events}", "",
              "The chief of staff (allowed to see private events):",
              f"  curl -s -H \"Authorization: Bearer $CHIEF\" {events}", "",
              "A colleague sees free/busy only (403 on /events):",
              f"  curl -s -H \"Authorization: Bearer $COLLEAGUE\" {fb}", "",
              "The chief of staff's own calendar, served from Exchange (EWS):",
              f"  curl -s -H \"Authorization: Bearer $CHIEF\" "
              f"'{world.url}/v1/users/me/events?{_window()}'", "",
              "A secret ICS feed of the executive's calendar at busy detail:",
              f"  curl -s -H \"Authorization: Bearer $EXEC\" -d '{{\"detail\": \"busy\"}}' "
              f"{world.url}/v1/me/feeds"]
    return "\n".join(lines)


async def _side_by_side(world: DemoWorld) -> str:
    path = f"/v1/users/exec@acme.example/events?{_window()}"
    out = ["", "What each caller sees of the executive's next two weeks:"]
    async with aiohttp.ClientSession() as http:
        views = {who: await _call(http, world, who, "GET", path)
                 for who in ("exec", "chief", "assistant")}
        for index, event in enumerate(views["exec"]["events"]):
            start = event["start"][:16].replace("T", " ")
            cells = []
            for who in ("exec", "chief", "assistant"):
                seen = views[who]["events"][index] if index < len(views[who]["events"]) else {}
                cells.append(f"{who}: {seen.get('title', '-')!r}")
            out.append(f"  {start}  " + "  |  ".join(cells))
        busy = await _call(http, world, "assistant", "GET", path)
        private = next(e for e in busy["events"] if e["redacted"])
        out += ["", "The assistant's JSON for the private event:",
                json.dumps(private, indent=2)]
        fb = await _call(http, world, "colleague", "GET",
                         f"/v1/users/exec@acme.example/freebusy?{_window()}")
        out += ["", f"The colleague's free/busy: {len(fb['intervals'])} intervals, e.g. "
                f"{json.dumps(fb['intervals'][0])}"]
        own = await _call(http, world, "chief", "GET", f"/v1/users/me/events?{_window()}")
        titles = sorted({e["title"] for e in own["events"]})
        out += ["", f"The chief of staff's Exchange calendar: {len(own['events'])} occurrences "
                f"of {titles}"]
        feed = await _call(http, world, "exec", "POST", "/v1/me/feeds", {"detail": "busy"})
        async with http.get(world.local + feed["url"][len(world.url):]) as resp:
            ics = (await resp.text()).splitlines()
        summaries = sorted({line for line in ics if line.startswith("SUMMARY")})
        out += ["", f"The executive's busy feed ({resp.headers['Content-Type']}, ETag "
                f"{resp.headers['ETag']}): {len(ics)} lines, {summaries}"]
    return "\n".join(out)


async def _main(base: Settings, once: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="calproxy-demo-") as tmp:
        world = await start_demo(base.port, Path(tmp), base)
        try:
            print(_session_text(world), flush=True)
            if once:
                print(await _side_by_side(world), flush=True)
                return
            print("\nPress Ctrl-C to stop.", flush=True)
            await asyncio.Event().wait()
        finally:
            for runner in reversed(world.runners):
                await runner.cleanup()


def run_demo(base: Settings, once: bool = False) -> int:
    """Run the demo at ``base``'s host, port and public URL (``CALPROXY_HOST``,
    ``CALPROXY_PORT``, ``CALPROXY_PUBLIC_URL``, with ``--port`` applied by the caller)."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(base, once))
    return 0
