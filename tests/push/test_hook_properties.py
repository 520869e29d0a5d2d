"""The public hooks under generated input, over real HTTP against a live calproxy with push
on, connected to both the Graph emulator (the executive) and the Google emulator (the
assistant), each holding a real channel calproxy opened.

Whatever arrives at ``/hooks/graph``, ``/hooks/graph/lifecycle`` or ``/hooks/google`` (any
body, content type and query string, validation tokens with odd characters, Google headers
with odd, huge, non-ASCII or NUL values, Graph items naming real or invented subscriptions
with forged secrets, the other service's ids and secrets), the answer is a quick 2xx, or a
4xx in the contract's error shape, never a 5xx; nothing forged reaches a provider (the
emulators count every request calproxy makes) or starts a nudged round or lifecycle work.
A notice carrying a channel's real secret, mixed in among forgeries, does start a round.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from proxy.config import Settings
from proxy.http.app import create_app
from proxy.notifications.push.hooks import HOOKS, Hooks
from proxy.providers import default_registry
from proxy.providers.memory import MemoryBackend
from proxy.store.records import Role
from proxy.store.sql import open_store
from tests.api.conftest import CLIENT_ID, CLIENT_SECRET, METRICS_TOKEN, QUIET, Live, free_port
from tests.fixtures.google_emulator import GoogleEmulator
from tests.fixtures.graph_emulator import MicrosoftCloud

EXEC, ASSISTANT = "exec@acme.example", "assistant@acme.example"
#: a hook answer slower than this is not "at once" (generous: a loaded 2-core machine)
QUICK = 3.0


@dataclass
class Channels:
    """The real channels calproxy opened, as the emulators hold them."""

    graph_id: str
    graph_secret: str
    google_id: str
    google_secret: str
    google_resource: str


@dataclass
class Both:
    live: Live
    cloud: MicrosoftCloud
    google: GoogleEmulator
    hooks: Hooks
    real: Channels
    #: the headers of the last answer :func:`send` received
    answered: dict[str, str] = field(default_factory=dict)

    def upstream(self) -> int:
        """Every request calproxy made to either provider (API and token endpoints)."""
        return (len(self.cloud.graph.requests) + self.google.api_requests
                + sum(self.google.token_requests.values()))

    def idle(self) -> bool:
        """No nudged round due or running and no lifecycle work under way."""
        return not self.hooks.nudger.busy() and not self.hooks._tasks

    async def quiet(self) -> int:
        """Wait until nothing is due and no provider request came for half a second."""
        seen = -1
        while seen != self.upstream() or not self.idle():
            seen = self.upstream()
            await asyncio.sleep(0.5)
        return seen


async def until(check: Any, seconds: float = 30.0) -> None:
    began = time.monotonic()
    while not await check():
        assert time.monotonic() - began < seconds, "not within the time allowed"
        await asyncio.sleep(0.1)


@asynccontextmanager
async def both_worlds(database_url: str) -> AsyncIterator[Both]:
    cloud, google = MicrosoftCloud(CLIENT_ID, CLIENT_SECRET), GoogleEmulator()
    cloud.graph.subscriptions.allow_http = google.push.allow_http = True
    graph_server = TestServer(cloud.app(), host="127.0.0.1")
    google_server = TestServer(google.app(), host="127.0.0.1")
    await graph_server.start_server()
    await google_server.start_server()
    port = free_port()
    settings = Settings(
        database_url=database_url, host="127.0.0.1", port=port,
        secret_key="test-secret-key-for-calproxy", metrics_token=METRICS_TOKEN, **QUIET,
        ms_client_id=CLIENT_ID, ms_client_secret=CLIENT_SECRET,
        **cloud.settings_for(f"http://127.0.0.1:{graph_server.port}"),
        **GoogleEmulator.settings_overrides(f"http://127.0.0.1:{google_server.port}"),
    ).with_overrides(public_url=f"http://127.0.0.1:{port}", push="on", push_allow_http=True,
                     freshness_seconds=3600, push_min_gap_seconds=0.0)
    store = await open_store(settings)
    app = create_app(settings, store, default_registry(), scheduler=True)
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    account = await store.create_account("Acme", {})
    cloud.graph.add_mailbox(EXEC, "Eve Exec")
    google.add_user(ASSISTANT)
    try:
        async with aiohttp.ClientSession() as http:
            live = Live(f"http://127.0.0.1:{port}", http, store, MemoryBackend(),
                        cloud.identity, settings)
            live.app = app
            for who, email in (("exec", EXEC), ("assistant", ASSISTANT)):
                user = await store.create_user(account.id, email, Role.MEMBER)
                live.ids[who], live.tokens[who] = user.id, await store.create_token(user.id)
            assert (await live.connect("exec", "graph"))["status"] == "connected"
            assert (await live.connect("assistant", "google"))["status"] == "connected"
            yield Both(live, cloud, google, app[HOOKS], await opened(live, cloud, google))
    finally:
        await server.close()
        await graph_server.close()
        await google_server.close()


async def opened(live: Live, cloud: MicrosoftCloud, google: GoogleEmulator) -> Channels:
    """Both channels, once made upstream and stored."""
    primary = cloud.graph.mailbox(EXEC).primary

    async def made() -> bool:
        stored = {c.upstream_id for c in await live.store.list_push_channels()}
        subs, watched = cloud.graph.subscriptions.for_calendar(EXEC, primary), google.push.active()
        return (bool(subs) and subs[0].id in stored and bool(watched)
                and all(c.id in stored for c in watched))

    await until(made)
    sub = cloud.graph.subscriptions.for_calendar(EXEC, primary)[0]
    (channel,) = google.push.active()
    assert sub.client_state and channel.token
    return Channels(sub.id, sub.client_state, channel.id, channel.token, channel.resource_id)


@pytest.fixture
async def both(tmp_path: Path) -> AsyncIterator[Both]:
    async with both_worlds(f"sqlite+aiosqlite:///{tmp_path / 'calproxy.sqlite3'}") as world:
        await world.quiet()  # the first rounds and channel work are over
        yield world


# --- what is generated -----------------------------------------------------------------

ODD_TEXT = st.text(max_size=40) | st.sampled_from(
    ["", " ", "\x00", "a\x00b", "é", "日本語", "🗓", "%", "%00", "%ZZ", "+", "a+b/c=",
     "<script>alert(1)</script>", "x" * 300, "'; DROP TABLE push_channels; --"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ODD_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ODD_TEXT, inner, max_size=3),
    max_leaves=8)
CONTENT_TYPES = st.sampled_from([
    None, "application/json", "text/plain", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "application/json; charset=latin-1", "*/*", "",
    "application/json; charset=\u00e9"])


def mutated(secret: str) -> str:
    """The real secret with its last character changed: right length, wrong value."""
    return secret[:-1] + ("A" if secret[-1] != "A" else "B")


@st.composite
def subscription_ids(draw: st.DrawFn, real: Channels) -> Any:
    return draw(st.sampled_from([real.graph_id, real.google_id, real.graph_id.upper(),
                                 "00000000-0000-0000-0000-000000000000"])
                | ODD_TEXT | st.integers() | st.none())


@st.composite
def forged_secrets(draw: st.DrawFn, real: Channels) -> Any:
    return draw(st.sampled_from([mutated(real.graph_secret), real.google_secret,
                                 real.graph_secret + "x", real.graph_secret[:-1],
                                 real.graph_secret.upper(), real.graph_secret + "\x00",
                                 real.graph_secret[:-1] + "\ud800", "\udcff"])
                | ODD_TEXT | st.integers() | st.none())


@st.composite
def graph_items(draw: st.DrawFn, real: Channels, secret: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"subscriptionId": draw(subscription_ids(real))}
    if secret is not ...:
        item["clientState"] = secret
    kind = draw(st.sampled_from(["changeType", "lifecycleEvent", "both", "neither"]))
    changes = st.sampled_from(["created", "updated", "deleted", "created,updated,deleted",
                               "moved", ""]) | ODD_TEXT
    events = st.sampled_from(["reauthorizationRequired", "subscriptionRemoved", "missed",
                              "unheard"]) | ODD_TEXT
    if kind in ("changeType", "both"):
        item["changeType"] = draw(changes)
    if kind in ("lifecycleEvent", "both"):
        item["lifecycleEvent"] = draw(events)
    item.update(draw(st.dictionaries(st.sampled_from(["resource", "tenantId", "x"]), JSON,
                                     max_size=2)))
    return item


@st.composite
def graph_requests(draw: st.DrawFn, real: Channels) -> tuple[str, str, bytes, Any]:
    """(path, raw query, body, content type) of one forged Graph hook request. The query
    is valid in a request line (control characters and raw non-ASCII are refused by
    aiohttp's HTTP parser before any handler runs) but may hold ``+``, ``/``, ``&`` and
    stray ``%`` escapes unencoded."""
    path = draw(st.sampled_from(["/hooks/graph", "/hooks/graph/lifecycle"]))
    token = draw(ODD_TEXT | st.sampled_from(["x" * 1025, "a b+c/d%e", "Validation: ok"]))
    query = draw(st.sampled_from([
        "", f"validationToken={quote(token, safe='')}", "validationToken=",
        "validationToken", f"validationToken={quote(token, safe='+/=%&')}",
        "validationtoken=abc",
        f"validationToken=a&validationToken={quote(token, safe='')}", "x=1&y",
        "%ZZ=%00"]))
    shape = draw(st.sampled_from(["envelope", "json", "bytes"]))
    if shape == "envelope":
        items = draw(st.lists(graph_items(real, draw(forged_secrets(real) | st.just(...))),
                              min_size=0, max_size=4))
        body = json.dumps({"value": items}).encode()
    elif shape == "json":
        body = json.dumps(draw(JSON)).encode()
    else:
        body = draw(st.binary(max_size=200))
    return path, query, body, draw(CONTENT_TYPES)


#: header values as bytes on the wire: text (sent as UTF-8), and bytes no Google message
#: holds (invalid UTF-8, NUL and other control characters, huge values)
HEADER_BYTES = st.text(st.characters(blacklist_characters="\r\n",
                                     blacklist_categories=("Cs",)),
                       max_size=40).map(str.encode) | st.sampled_from(
    [b"", b"\x00", b"a\x00b", b"\x1f", b"\x7f", b"\xff", b"\xc3\x28", b"\x80abc",
     "\u00e9".encode(), "\u65e5\u672c\u8a9e".encode(), b"x" * 4000, b"1" * 30, b"-1",
     b"0", b"1", b"2", "\u0661\u0662".encode(), b" exists ", b"\texists"])
#: bytes HTTP forbids in a field value (RFC 9110 5.5): aiohttp's parser refuses them
#: with its own 400 before any handler runs
FORBIDDEN = frozenset(range(0x00, 0x09)) | frozenset(range(0x0a, 0x20)) | {0x7f}


@st.composite
def google_headers(draw: st.DrawFn, real: Channels) -> dict[str, bytes]:
    """The headers of one forged Google push message, as bytes."""
    def known(*values: str) -> st.SearchStrategy[bytes]:
        return st.sampled_from([v.encode() for v in values])

    values = {
        "X-Goog-Channel-ID": known(real.google_id, real.graph_id) | HEADER_BYTES,
        "X-Goog-Channel-Token": known(mutated(real.google_secret), real.graph_secret,
                                      real.google_secret + "x", real.google_secret[:-1])
        | HEADER_BYTES.map(lambda b: real.google_secret.encode() + b if b else b"\xff"),
        "X-Goog-Resource-State": known("sync", "exists", "not_exists", "EXISTS")
        | HEADER_BYTES,
        "X-Goog-Resource-ID": known(real.google_resource) | HEADER_BYTES,
        "X-Goog-Message-Number": known("1", "2", "99999999999") | HEADER_BYTES,
        "X-Goog-Resource-URI": HEADER_BYTES,
    }
    wanted = ("X-Goog-Channel-ID", "X-Goog-Resource-State", "X-Goog-Message-Number")
    return {name: draw(value) for name, value in values.items()  # mostly well-formed
            if draw(st.integers(0, 9)) < (8 if name in wanted else 5)}


async def send_raw(both: Both, path: str, headers: dict[str, bytes],
                   body: bytes = b"") -> tuple[int, str, bytes, float]:
    """POST with header bytes exactly as given (an HTTP client library would refuse some):
    (status, content type, body, seconds taken)."""
    port = URL(both.live.url).port
    began = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [f"POST {path} HTTP/1.1".encode(), b"Host: 127.0.0.1",
                 b"Connection: close", b"Content-Length: %d" % len(body)]
        lines += [name.encode() + b": " + value for name, value in headers.items()]
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        answer = await asyncio.wait_for(reader.read(), QUICK * 2)
    finally:
        writer.close()
    head, _, content = answer.partition(b"\r\n\r\n")
    status_line, *fields = head.decode("latin-1").split("\r\n")
    named = {k.strip().lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)}
    content_type = named.get("content-type", "").split(";")[0]
    return int(status_line.split()[1]), content_type, content, time.monotonic() - began


# --- what must hold --------------------------------------------------------------------

async def send(both: Both, path: str, query: str = "", body: bytes = b"",
               content_type: str | None = None,
               headers: dict[str, str] | None = None) -> tuple[int, str, bytes, float]:
    """POST as a provider would (status, content type, body, seconds taken); the query is
    sent exactly as given."""
    sent = dict(headers or {})
    if content_type is not None:
        sent["Content-Type"] = content_type
    url = URL(f"{both.live.url}{path}" + (f"?{query}" if query else ""), encoded=True)
    began = time.monotonic()
    async with both.live.http.post(url, data=body, headers=sent) as answer:
        raw = await answer.read()
        both.answered = dict(answer.headers)
        return answer.status, answer.content_type, raw, time.monotonic() - began


def assert_answered_well(status: int, content_type: str, raw: bytes, took: float) -> None:
    assert status < 500, (status, raw[:300])
    assert 200 <= status < 300 or 400 <= status < 500, status
    assert took < QUICK, took
    if status >= 400:
        assert content_type == "application/json", (status, raw[:300])
        document = json.loads(raw)
        assert set(document) == {"error"} and set(document["error"]) == {"code", "message"}


HOOK_SETTINGS = settings(max_examples=60, deadline=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture])


@HOOK_SETTINGS
@given(data=st.data())
async def test_forged_graph_requests_never_fail_and_reach_no_provider(
        both: Both, data: st.DataObject) -> None:
    path, query, body, content_type = data.draw(graph_requests(both.real))
    before, rounds = both.upstream(), both.hooks.nudger.rounds
    status, answered_type, raw, took = await send(both, path, query, body, content_type)
    assert_answered_well(status, answered_type, raw, took)
    if status == 200:  # the handshake: the token echoed as plain text, never sniffed
        assert answered_type == "text/plain" and "validationToken" in query
        assert both.answered["X-Content-Type-Options"] == "nosniff"
    assert both.idle() and both.hooks.nudger.rounds == rounds
    assert both.upstream() == before


@HOOK_SETTINGS
@given(data=st.data())
async def test_forged_google_messages_never_fail_and_reach_no_provider(
        both: Both, data: st.DataObject) -> None:
    headers = data.draw(google_headers(both.real))
    body = data.draw(st.sampled_from([b"", b"{}", b"\x00\xff"]))
    before, rounds = both.upstream(), both.hooks.nudger.rounds
    status, answered_type, raw, took = await send_raw(both, "/hooks/google", headers, body)
    if any(FORBIDDEN & set(value) for value in headers.values()):
        assert status == 400 and took < QUICK  # refused by the HTTP parser, unread
    else:
        assert_answered_well(status, answered_type, raw, took)
    assert both.idle() and both.hooks.nudger.rounds == rounds
    assert both.upstream() == before


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_the_real_secret_among_forgeries_leads_to_a_round(
        both: Both, data: st.DataObject) -> None:
    real = both.real
    service = data.draw(st.sampled_from(["graph", "google"]))
    await both.quiet()
    before, rounds = both.upstream(), both.hooks.nudger.rounds
    if service == "graph":
        forged = data.draw(st.lists(graph_items(real, data.draw(forged_secrets(real))),
                                    max_size=3))
        genuine = {"subscriptionId": real.graph_id, "clientState": real.graph_secret,
                   "changeType": data.draw(st.sampled_from(["created", "updated"])),
                   "resource": "Users/x/Events/y", "tenantId": "t"}
        items = data.draw(st.permutations([*forged, genuine]))
        status, _, raw, took = await send(both, "/hooks/graph",
                                          body=json.dumps({"value": items}).encode(),
                                          content_type="application/json")
        assert status == 202, raw
    else:
        headers = {"X-Goog-Channel-ID": real.google_id, "X-Goog-Channel-Token":
                   real.google_secret, "X-Goog-Resource-ID": real.google_resource,
                   "X-Goog-Resource-State": data.draw(st.sampled_from(["exists",
                                                                       "not_exists"])),
                   "X-Goog-Message-Number": str(data.draw(st.integers(2, 10**9)))}
        status, _, raw, took = await send(both, "/hooks/google", headers=headers)
        assert status == 200, raw
    assert took < QUICK
    assert both.hooks.nudger.rounds > rounds or both.hooks.nudger.busy()
    await both.quiet()
    assert both.hooks.nudger.rounds == rounds + 1  # one round, however the items mixed
    assert both.upstream() > before  # that round asked the provider


async def test_an_undecodable_token_on_a_real_channel_is_ignored(both: Both) -> None:
    """Header bytes that are not UTF-8 reach the handler as surrogate escapes; hashing
    them must not fail (a 500 would make Google retry)."""
    for token in (b"\xff", b"\xc3\x28", "\u00e9".encode(), b"a\x80"):
        await undecodable_token(both, token)


async def undecodable_token(both: Both, token: bytes) -> None:
    real = both.real
    before, rounds = both.upstream(), both.hooks.nudger.rounds
    headers = {"X-Goog-Channel-ID": real.google_id.encode(),
               "X-Goog-Channel-Token": real.google_secret.encode() + token,
               "X-Goog-Resource-ID": real.google_resource.encode(),
               "X-Goog-Resource-State": b"exists", "X-Goog-Message-Number": b"2"}
    status, answered_type, raw, took = await send_raw(both, "/hooks/google", headers)
    assert_answered_well(status, answered_type, raw, took)
    assert status == 200
    assert both.idle() and both.hooks.nudger.rounds == rounds
    assert both.upstream() == before


async def test_a_clientstate_that_cannot_be_encoded_is_ignored(both: Both) -> None:
    """JSON may spell a lone surrogate (``\\ud800``), which Python cannot encode as UTF-8:
    on a real subscription it is a forgery like any other, not a 500."""
    for state in ('"\\ud800"', '"\\udcff"', '"\\u00e9"'):
        await unencodable_state(both, state)


async def unencodable_state(both: Both, state: str) -> None:
    real = both.real
    before, rounds = both.upstream(), both.hooks.nudger.rounds
    body = (f'{{"value": [{{"subscriptionId": "{real.graph_id}", "clientState": '
            f'"{real.graph_secret[:-1]}" , "changeType": "updated"}}, {{"subscriptionId": '
            f'"{real.graph_id}", "clientState": {state}, "changeType": "created"}}]}}')
    status, answered_type, raw, took = await send(both, "/hooks/graph", body=body.encode(),
                                                  content_type="application/json")
    assert_answered_well(status, answered_type, raw, took)
    assert status == 202
    assert both.idle() and both.hooks.nudger.rounds == rounds
    assert both.upstream() == before
