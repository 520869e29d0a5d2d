"""``calproxy demo``: everything embedded, no accounts or internet needed.

Starts the built-in Microsoft (identity + Graph), Google and Exchange (EWS) emulators from
the repository's ``tests/fixtures`` on loopback, a fresh SQLite store, and calproxy
itself; seeds an executive (Graph), an assistant (delegate without private access), a
chief of staff (delegate with it, on on-premises Exchange) and a colleague (Google);
connects the executive and the colleague through the real OAuth dance and the chief with
an EWS password; then prints tokens and ready-to-paste commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import socket
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from proxy.config import Settings
from proxy.store.records import Role

ZONE = "America/New_York"
MS_CLIENT = ("calproxy-demo", "demo-secret")
GOOGLE_CLIENT = ("calproxy-test", "calproxy-secret")
EWS_PASSWORD = "demo-exchange-password"
CAST = [
    ("exec", "exec@acme.example", "executive", True),
    ("assistant", "assistant@acme.example", "assistant (no private access)", False),
    ("chief", "chief@acme.example", "chief of staff (Exchange, private access)", False),
    ("colleague", "colleague@acme.example", "colleague (Google)", False),
]


@dataclass
class DemoWorld:
    url: str
    tokens: dict[str, str] = field(default_factory=dict)
    runners: list[web.AppRunner] = field(default_factory=list)


def _fixtures() -> Any:
    """The emulators live with the tests; the demo runs from a checkout of the repo."""
    root = Path(__file__).resolve().parent.parent
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    # imported by name: they are test code, outside the typed package
    return tuple(importlib.import_module(f"tests.fixtures.{name}")
                 for name in ("graph_emulator", "google_emulator", "ews_emulator"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _serve(app: web.Application, port: int, world: DemoWorld) -> str:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    world.runners.append(runner)
    return f"http://127.0.0.1:{port}"


def _next_monday(now: datetime) -> datetime:
    local = now.astimezone(ZoneInfo(ZONE)).replace(hour=9, minute=0, second=0, microsecond=0)
    return local + timedelta(days=(7 - local.weekday()) % 7 or 7)


def _seed_graph(graph: Any, email: str, monday: datetime) -> None:
    tz = "Eastern Standard Time"
    graph.add_series(email, "Leadership sync", monday, monday + timedelta(minutes=45), tz,
                     {"type": "weekly", "daysOfWeek": ["monday"]}, occurrences=8,
                     onlineMeeting={"joinUrl": "https://teams.microsoft.com/l/meetup-join/19%3ademo"},
                     isOnlineMeeting=True)
    graph.add_event(email, "Merger talks with Initech", monday + timedelta(days=1, hours=2),
                    monday + timedelta(days=1, hours=3), tz, sensitivity="private",
                    location={"displayName": "https://zoom.us/j/5551234567 (Bill's room)"},
                    body={"contentType": "text", "content": "Offer: $40M. Do not forward."},
                    attendees=[{"type": "required", "status": {"response": "accepted",
                                                                "time": "2026-11-20T10:00:00Z"},
                                "emailAddress": {"name": "Bill Lumbergh",
                                                 "address": "bill@initech.example"}}])
    graph.add_event(email, "Dentist", monday + timedelta(days=2, hours=7),
                    monday + timedelta(days=2, hours=8), tz, sensitivity="personal",
                    showAs="oof")
    offsite = (monday + timedelta(days=3)).date()
    graph.add_event(email, "Strategy offsite", offsite, offsite + timedelta(days=1), tz,
                    showAs="workingElsewhere",
                    location={"displayName": "Lake house"})


def _seed_google(google: Any, email: str, monday: datetime) -> None:
    google.add_user(email, "Colleague", time_zone=ZONE)
    google.add_simple_event(email, "Design review", monday + timedelta(hours=5),
                            monday + timedelta(hours=6), time_zone=ZONE,
                            hangoutLink="https://meet.google.com/abc-defg-hij")
    google.add_series(email, "1:1 with manager", monday + timedelta(days=1, hours=1),
                      monday + timedelta(days=1, hours=1, minutes=30),
                      "FREQ=WEEKLY;COUNT=6", time_zone=ZONE, visibility="private")


def _seed_exchange(ews: Any, email: str, monday: datetime) -> None:
    ews.add_user(email, password=EWS_PASSWORD, name="Chief of Staff")
    ews.add_event(email, "Prep the board pack", monday + timedelta(hours=2),
                  monday + timedelta(hours=3), time_zone="Eastern Standard Time")
    ews.add_series(email, "Team standup", monday + timedelta(minutes=30),
                   monday + timedelta(minutes=45), days=("Monday", "Wednesday", "Friday"),
                   count=9, time_zone="Eastern Standard Time")


async def _people(store: Any, world: DemoWorld) -> dict[str, str]:
    account = await store.create_account(
        "Acme Corp", {"ews_hosts": {"value": ["127.0.0.1"], "locked": False}})
    ids = {}
    for key, email, _, admin in CAST:
        user = await store.create_user(account.id, email, Role.ADMIN if admin else Role.MEMBER)
        ids[key] = user.id
        world.tokens[key] = await store.create_token(user.id)
    return ids


async def _call(http: aiohttp.ClientSession, world: DemoWorld, who: str, method: str,
                path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {world.tokens[who]}"}
    async with http.request(method, world.url + path, json=body, headers=headers) as resp:
        return await resp.json(content_type=None)


async def _connect(http: aiohttp.ClientSession, world: DemoWorld, who: str,
                   service: str) -> None:
    pending = await _call(http, world, who, "POST", "/v1/me/integrations", {"service": service})
    async with http.get(pending["authorize_url"]) as resp:  # emulator 302s to our callback
        answer = await resp.json(content_type=None)
    if answer.get("status") != "connected":
        raise RuntimeError(f"demo: connecting {who} to {service} failed: {answer}")


async def start_demo(port: int, workdir: Path) -> DemoWorld:
    from proxy.http.app import create_app
    from proxy.store.sql import open_store

    graph_emulator, google_emulator, ews_emulator = _fixtures()
    world = DemoWorld(url=f"http://127.0.0.1:{port}")
    microsoft = graph_emulator.MicrosoftCloud(*MS_CLIENT)
    google = google_emulator.GoogleEmulator()
    exchange = ews_emulator.EwsEmulator()
    ms_url = await _serve(microsoft.app(), _free_port(), world)
    google_url = await _serve(google.app(), _free_port(), world)
    ews_url = await _serve(exchange.app(), _free_port(), world) + ews_emulator.PATH
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{workdir / 'demo.sqlite3'}", port=port,
        secret_key="calproxy-demo-only-secret", ms_client_id=MS_CLIENT[0],
        ms_client_secret=MS_CLIENT[1], google_client_id=GOOGLE_CLIENT[0],
        google_client_secret=GOOGLE_CLIENT[1], **microsoft.settings_for(ms_url),
        google_auth_url=f"{google_url}/o/oauth2/v2/auth", google_token_url=f"{google_url}/token",
        google_calendar_url=f"{google_url}/calendar/v3", google_people_url=google_url,
        ews_allow_http=True,  # the built-in Exchange emulator speaks plain http on loopback
    )
    monday = _next_monday(datetime.now(UTC))
    microsoft.identity.add_user("exec@acme.example", "Executive")
    microsoft.graph.add_mailbox("exec@acme.example", "Executive")
    _seed_graph(microsoft.graph, "exec@acme.example", monday)
    _seed_google(google, "colleague@acme.example", monday)
    _seed_exchange(exchange, "chief@acme.example", monday)
    store = await open_store(settings)
    await _people(store, world)
    await _serve(create_app(settings, store), port, world)
    async with aiohttp.ClientSession() as http:
        await _connect(http, world, "exec", "graph")
        await _connect(http, world, "colleague", "google")
        answer = await _call(http, world, "chief", "POST", "/v1/me/integrations", {
            "service": "exchange_ews", "ews_url": ews_url, "username": "chief@acme.example",
            "password": EWS_PASSWORD})
        if answer.get("status") != "connected":
            raise RuntimeError(f"demo: connecting chief to exchange_ews failed: {answer}")
        for delegate, private in (("assistant", False), ("chief", True)):
            await _call(http, world, "exec", "PUT", f"/v1/me/delegates/{delegate}@acme.example",
                        {"can_schedule": True, "can_view_private": private})
    return world


def _window() -> str:
    today = date.today()
    return f"start={today}T00:00:00Z&end={today + timedelta(days=14)}T00:00:00Z"


def _session_text(world: DemoWorld) -> str:
    lines = [f"calproxy demo running at {world.url}", "", "Tokens:"]
    for key, email, role, _ in CAST:
        lines.append(f"  {key.upper():<10} {email:<24} {role:<42} {world.tokens[key]}")
    events = f"'{world.url}/v1/users/exec@acme.example/events?{_window()}'"
    fb = f"'{world.url}/v1/users/exec@acme.example/freebusy?{_window()}'"
    exports = " ".join(f"{k.upper()}={world.tokens[k]}" for k, *_ in CAST)
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
        async with http.get(feed["url"]) as resp:
            ics = (await resp.text()).splitlines()
        summaries = sorted({line for line in ics if line.startswith("SUMMARY")})
        out += ["", f"The executive's busy feed ({resp.headers['Content-Type']}, ETag "
                f"{resp.headers['ETag']}): {len(ics)} lines, {summaries}"]
    return "\n".join(out)


async def _main(port: int, once: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="calproxy-demo-") as tmp:
        world = await start_demo(port, Path(tmp))
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


def run_demo(port: int = 8080, once: bool = False) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(port, once))
    return 0
