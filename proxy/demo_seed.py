"""The demo's world, seeded the same way for ``calproxy demo`` and the browser tests.

The cast: an administrator, an executive (Graph), an assistant (delegate without private
access), a chief of staff (delegate with it, on on-premises Exchange), a colleague
(Google), all of Acme Corp, and an outsider of another account (Globex). The emulators get
their mailboxes and events (:func:`seed_emulators`); the store gets the people and their
API tokens (:func:`seed_people`); the running calproxy then connects them through its own
API, the real OAuth dance included, and the executive assigns the delegates
(:func:`connect_people`). :func:`portal_links` gives each person a one-time portal
sign-in link.
"""

from __future__ import annotations

import importlib
import socket
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from proxy.config import Settings
from proxy.store.records import Role

ZONE = "America/New_York"
MS_CLIENT = ("calproxy-demo", "demo-secret")
GOOGLE_CLIENT = ("calproxy-test", "calproxy-secret")
EWS_PASSWORD = "demo-exchange-password"


@dataclass(frozen=True, slots=True)
class Person:
    key: str
    email: str
    role: str
    admin: bool = False
    account: str = "Acme Corp"


CAST = [
    Person("admin", "admin@acme.example", "administrator", admin=True),
    Person("exec", "exec@acme.example", "executive"),
    Person("assistant", "assistant@acme.example", "assistant (no private access)"),
    Person("chief", "chief@acme.example", "chief of staff (Exchange, private access)"),
    Person("colleague", "colleague@acme.example", "colleague (Google)"),
    Person("outsider", "outsider@globex.example", "outsider (another account)",
           account="Globex"),
]


def fixtures() -> Any:
    """The emulators live with the tests; the demo runs from a checkout of the repo."""
    root = Path(__file__).resolve().parent.parent
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    # imported by name: they are test code, outside the typed package
    return tuple(importlib.import_module(f"tests.fixtures.{name}")
                 for name in ("graph_emulator", "google_emulator", "ews_emulator"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def next_monday(now: datetime) -> datetime:
    local = now.astimezone(ZoneInfo(ZONE)).replace(hour=9, minute=0, second=0, microsecond=0)
    return local + timedelta(days=(7 - local.weekday()) % 7 or 7)


def seed_graph(graph: Any, email: str, monday: datetime) -> None:
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


def seed_google(google: Any, email: str, monday: datetime) -> None:
    google.add_user(email, "Colleague", time_zone=ZONE)
    google.add_simple_event(email, "Design review", monday + timedelta(hours=5),
                            monday + timedelta(hours=6), time_zone=ZONE,
                            hangoutLink="https://meet.google.com/abc-defg-hij")
    google.add_series(email, "1:1 with manager", monday + timedelta(days=1, hours=1),
                      monday + timedelta(days=1, hours=1, minutes=30),
                      "FREQ=WEEKLY;COUNT=6", time_zone=ZONE, visibility="private")


def seed_exchange(ews: Any, email: str, monday: datetime) -> None:
    ews.add_user(email, password=EWS_PASSWORD, name="Chief of Staff")
    ews.add_event(email, "Prep the board pack", monday + timedelta(hours=2),
                  monday + timedelta(hours=3), time_zone="Eastern Standard Time")
    ews.add_series(email, "Team standup", monday + timedelta(minutes=30),
                   monday + timedelta(minutes=45), days=("Monday", "Wednesday", "Friday"),
                   count=9, time_zone="Eastern Standard Time")


def seed_emulators(microsoft: Any, google: Any, exchange: Any, monday: datetime) -> None:
    """Mailboxes and events: the executive on Graph, the colleague on Google, the chief
    of staff on Exchange."""
    microsoft.identity.add_user("exec@acme.example", "Executive")
    microsoft.graph.add_mailbox("exec@acme.example", "Executive")
    seed_graph(microsoft.graph, "exec@acme.example", monday)
    seed_google(google, "colleague@acme.example", monday)
    google.default_user = "colleague@acme.example"  # who "signs in with Google"
    seed_exchange(exchange, "chief@acme.example", monday)


def emulator_settings(ms_url: str, google_url: str, microsoft: Any) -> dict[str, Any]:
    """Settings that point calproxy at the emulators (Microsoft's and Google's apps)."""
    return {
        "ms_client_id": MS_CLIENT[0], "ms_client_secret": MS_CLIENT[1],
        "google_client_id": GOOGLE_CLIENT[0], "google_client_secret": GOOGLE_CLIENT[1],
        **microsoft.settings_for(ms_url),
        "google_auth_url": f"{google_url}/o/oauth2/v2/auth",
        "google_token_url": f"{google_url}/token",
        "google_calendar_url": f"{google_url}/calendar/v3", "google_people_url": google_url,
        "google_issuer": google_url,
        "ews_allow_http": True,  # the built-in Exchange emulator speaks plain http
    }


async def seed_people(store: Any) -> dict[str, str]:
    """The accounts and the cast; returns each person's API token by key."""
    accounts: dict[str, Any] = {}
    tokens = {}
    for person in CAST:
        if person.account not in accounts:
            accounts[person.account] = await store.create_account(
                person.account, {"ews_hosts": {"value": ["127.0.0.1"], "locked": False}})
        user = await store.create_user(accounts[person.account].id, person.email,
                                       Role.ADMIN if person.admin else Role.MEMBER)
        tokens[person.key] = await store.create_token(user.id)
    return tokens


async def call(http: aiohttp.ClientSession, url: str, token: str, method: str, path: str,
               body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.request(method, url + path, json=body, headers=headers) as resp:
        return await resp.json(content_type=None)


async def _connect(http: aiohttp.ClientSession, url: str, token: str, who: str,
                   service: str, public_url: str) -> None:
    pending = await call(http, url, token, "POST", "/v1/me/integrations", {"service": service})
    async with http.get(pending["authorize_url"], allow_redirects=False) as resp:
        callback = resp.headers.get("Location", "")  # the emulator 302s to our callback
    if callback.startswith(public_url):  # reach it on loopback, whatever the public URL
        callback = url + callback[len(public_url):]
    async with http.get(callback) as resp:
        answer = await resp.json(content_type=None)
    if answer.get("status") != "connected":
        raise RuntimeError(f"demo: connecting {who} to {service} failed: {answer}")


async def connect_people(url: str, tokens: dict[str, str], ews_url: str,
                         public_url: str | None = None) -> None:
    """Through calproxy's API at ``url``: the executive (Graph) and the colleague (Google)
    by the OAuth dance, the chief of staff by EWS password; the delegates assigned.

    ``public_url`` is calproxy's public base (``CALPROXY_PUBLIC_URL``), where the OAuth
    redirects point; the demo follows them to ``url`` instead, so a public URL that only
    a reverse proxy in front of the demo answers does not stop it seeding.
    """
    async with aiohttp.ClientSession() as http:
        await _connect(http, url, tokens["exec"], "exec", "graph", public_url or url)
        await _connect(http, url, tokens["colleague"], "colleague", "google",
                       public_url or url)
        answer = await call(http, url, tokens["chief"], "POST", "/v1/me/integrations", {
            "service": "exchange_ews", "ews_url": ews_url, "username": "chief@acme.example",
            "password": EWS_PASSWORD})
        if answer.get("status") != "connected":
            raise RuntimeError(f"demo: connecting chief to exchange_ews failed: {answer}")
        for delegate, private in (("assistant", False), ("chief", True)):
            await call(http, url, tokens["exec"], "PUT",
                       f"/v1/me/delegates/{delegate}@acme.example",
                       {"can_schedule": True, "can_view_private": private})


async def portal_links(store: Any, settings: Settings) -> dict[str, str]:
    """A one-time portal sign-in link for each person, by key."""
    from proxy.portal.signin import LINK_LIFETIME, login_link_url

    links = {}
    for person in CAST:
        user = await store.get_user_by_email(person.email)
        links[person.key] = login_link_url(settings, await store.create_login_link(
            user.id, LINK_LIFETIME))
    return links
