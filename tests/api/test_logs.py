"""Nothing secret or private reaches the logs: access log, errors, provider libraries."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from proxy.http.access_log import RedactingAccessLogger
from proxy.logs import configure_logging
from tests.api.conftest import Live
from tests.api.helpers import seed


async def test_access_log_writes_route_templates_only(
        caplog: pytest.LogCaptureFixture) -> None:
    app = web.Application()
    app.router.add_get("/feeds/{secret}.ics", lambda request: web.Response())
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log_class=RedactingAccessLogger,
                              access_log=logging.getLogger("calproxy.access"))
    with caplog.at_level(logging.INFO, "calproxy.access"):
        async with aiohttp.ClientSession() as http:
            for path in ("/feeds/s3cr3t.ics", "/oauth/callback?code=c0de&state=st4te"):
                async with http.get(f"http://127.0.0.1:{server.port}{path}") as response:
                    await response.read()
    await server.close()
    assert "GET /feeds/{secret}.ics 200" in caplog.text
    assert "(unmatched) 404" in caplog.text
    for secret in ("s3cr3t", "c0de", "st4te"):
        assert secret not in caplog.text


async def test_no_private_content_or_secret_in_logs(world: Live,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    root_level = logging.getLogger().level
    configure_logging(logging.DEBUG)  # `calproxy serve`'s set-up, at its most verbose
    caplog.set_level(logging.DEBUG)
    try:
        await _exercise_and_check(world, caplog)
    finally:
        logging.getLogger().setLevel(root_level)


async def _exercise_and_check(world: Live, caplog: pytest.LogCaptureFixture) -> None:
    seed(world, title="Secret merger", description="the offer", location="vault")
    _, feed, _ = await world.call("exec", "POST", "/v1/me/feeds", json={"detail": "full"})
    async with world.http.get(feed["url"]) as response:
        assert response.status == 200
    await world.call("assistant", "GET", "/v1/users/exec@acme.example/events"
                     "?start=2026-11-01T00:00:00Z&end=2026-12-31T00:00:00Z")
    secret = feed["url"].rsplit("/", 1)[1].removesuffix(".ics")
    for needle in ("Secret merger", "the offer", "vault", secret, world.tokens["exec"]):
        assert needle not in caplog.text
