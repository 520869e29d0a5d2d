"""Nothing secret or private reaches the logs: access log, errors, provider libraries, in
text and in JSON; request ids carried by a request's lines."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from typing import Any

import pytest

from proxy.core.model import Attendee, Sensitivity
from proxy.logs import configure_logging
from proxy.store.records import Role
from tests.api.conftest import Live
from tests.api.helpers import WINDOW, seed


async def test_access_log_writes_route_templates_only(
        live: Live, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, "calproxy.access"):
        for path in ("/feeds/s3cr3t.ics", "/oauth/callback?code=c0de&state=st4te", "/nope"):
            await live.call(None, "GET", path)
    assert "GET /feeds/{secret}.ics 404" in caplog.text
    assert "GET /oauth/callback 400" in caplog.text
    assert "GET (unmatched) 404" in caplog.text
    for secret in ("s3cr3t", "c0de", "st4te"):
        assert secret not in caplog.text


async def test_no_private_content_or_secret_in_logs(world: Live,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    root_level = logging.getLogger().level
    handler = configure_logging(logging.DEBUG)  # `calproxy serve`'s set-up, most verbose
    caplog.set_level(logging.DEBUG)
    try:
        needles = await _exercise(world)
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(root_level)
    for needle in needles:
        assert needle not in caplog.text


async def test_json_lines_parse_carry_request_ids_and_hold_nothing_private(
        world: Live) -> None:
    root_level = logging.getLogger().level
    stream = io.StringIO()
    handler = configure_logging(logging.DEBUG, "json", stream=stream)
    try:
        needles = await _exercise(world)
        _, _, sent = await world.call("exec", "GET", "/v1/me",
                                      headers={"X-Request-Id": "trace-42.a:b"})
        world.backend.expire_cursors(world.mailbox("exec"))  # the read logs a full resync
        await world.call("exec", "GET", f"/v1/users/me/events?{WINDOW}",
                         headers={"X-Request-Id": "trace-43"})
        _, _, forged = await world.call("exec", "GET", "/v1/me",
                                        headers={"X-Request-Id": "bad id; forged=" + "x" * 80})
        logging.getLogger("proxy.test").error("boom", exc_info=ValueError("kaput"))
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(root_level)
    assert sent.headers["X-Request-Id"] == "trace-42.a:b"
    made = forged.headers["X-Request-Id"]
    assert made and "forged" not in made and " " not in made
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]  # every line parses
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    access = [line for line in lines if line["logger"] == "calproxy.access"]
    assert {"request_id", "method", "route", "status", "duration_ms"} <= set(access[0])
    assert {line["route"] for line in access} >= {"/v1/users/{user}/events",
                                                  "/feeds/{secret}.ics", "/oauth/callback"}
    mine = [line for line in access if line["request_id"] == "trace-42.a:b"]
    assert [(m["method"], m["route"], m["status"]) for m in mine] == [("GET", "/v1/me", 200)]
    assert any(line["request_id"] == made for line in access)
    resync = [line for line in lines if "full resync" in line["message"]]
    assert resync and all(line["request_id"] == "trace-43" for line in resync)
    assert "ValueError: kaput" in next(line["exception"] for line in lines
                                       if line["message"] == "boom")
    for needle in needles:
        assert needle not in text


async def _exercise(world: Live) -> list[str]:
    """Traffic touching every secret and private field; returns what must not be logged."""
    seed(world, title="Secret merger", description="the offer", location="vault",
         sensitivity=Sensitivity.PRIVATE,
         attendees=(Attendee("Pat Hidden", "pat.hidden@rival.example"),))
    _, feed, _ = await world.call("exec", "POST", "/v1/me/feeds", json={"detail": "full"})
    async with world.http.get(feed["url"]) as response:
        assert response.status == 200
    for who in ("assistant", "chief", "colleague"):
        await world.call(who, "GET", f"/v1/users/exec@acme.example/events?{WINDOW}")
    await world.call("assistant", "PATCH", "/v1/users/exec@acme.example/events/nope",
                     json={"title": "x"})
    code = await _connect(world)
    secret = feed["url"].rsplit("/", 1)[1].removesuffix(".ics")
    return ["Secret merger", "the offer", "vault", "pat.hidden@rival.example", "Pat Hidden",
            secret, code, world.tokens["exec"], world.tokens["chief"],
            world.settings.secret_key or "?"]


async def _connect(world: Live) -> str:
    """The OAuth dance for a new user; returns the code the callback received."""
    user = await world.store.create_user(world.ids["account"], "newcomer@acme.example",
                                         Role.MEMBER)
    world.tokens["newcomer"] = await world.store.create_token(user.id)
    world.identity.add_user("newcomer@acme.example")
    _, body, _ = await world.call("newcomer", "POST", "/v1/me/integrations",
                                  json={"service": "graph"})
    async with world.http.get(body["authorize_url"]) as response:
        answer: Any = await response.json(content_type=None)
        assert answer["status"] == "connected", answer
        location = response.history[0].headers["Location"]
    return location.split("code=", 1)[1].split("&", 1)[0]


def test_an_uncaught_exception_is_one_json_line() -> None:
    program = ("import logging; from proxy.logs import configure_logging\n"
               "configure_logging(logging.INFO, 'json')\n"
               "logging.getLogger('calproxy').info('starting')\n"
               "raise RuntimeError('start-up failed')\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 1
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [line["message"] for line in lines] == ["starting", "uncaught RuntimeError"]
    assert "RuntimeError: start-up failed" in lines[1]["exception"]
    assert lines[1]["level"] == "CRITICAL"
