"""The week view refreshes itself from the change stream (DESIGN §11): the page names its
stream (the portal session is its authentication, as for the page), resumed after the
newest change the page shows, so a change made while the page loads is not lost; each
viewer's stream is that viewer's view; an outsider gets the same 404 as for the page."""

from __future__ import annotations

import asyncio
import html
import json
import re
from datetime import timedelta

from proxy.core.model import Sensitivity
from tests.api.conftest import Live
from tests.api.helpers import at, events_of, seed
from tests.notifications.conftest import read_events
from tests.portal.conftest import Browser

EXEC = "exec@acme.example"
WEEK = f"/portal/calendar/{EXEC}?start=2026-11-30"


async def stream_url(browser: Browser) -> str:
    status, page, _ = await browser.get(WEEK)
    assert status == 200
    found = re.search(r'data-changes="([^"]+)"', page)
    assert found and '<script src="/portal/static/week.js" defer>' in page
    return html.unescape(found.group(1))


async def test_a_change_while_the_page_loads_reaches_its_stream(browser: Browser,
                                                               portal: Live) -> None:
    await events_of(portal, "exec")  # the first sync: nothing to tell
    await browser.sign_in("assistant")
    url = await stream_url(browser)
    seed(portal, title="Board dinner", sensitivity=Sensitivity.PRIVATE, start=at(2))
    await events_of(portal, "exec")  # the change reaches the mirror before the stream opens
    await asyncio.sleep(1)  # and is logged
    async with browser.http.get(portal.url + url) as stream:
        assert stream.status == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        [(_, data)] = await read_events(stream, 1)
    body = json.loads(data)
    assert body["type"] == "events.changed" and len(body["changed"]) == 1
    assert "Board dinner" not in data


async def test_a_colleague_hears_of_busy_times_and_an_outsider_of_nothing(
        browser: Browser, portal: Live) -> None:
    await events_of(portal, "exec")
    await browser.sign_in("colleague")
    url = await stream_url(browser)
    async with browser.http.get(portal.url + url) as stream:
        seed(portal, title="Offsite", start=at(3))
        await events_of(portal, "exec")
        [(_, data)] = await read_events(stream, 1)
    assert json.loads(data) == {"type": "freebusy.changed", "user": EXEC}
    user = await portal.store.get_user_by_email("outsider@other.example")
    assert user is not None
    secret = await portal.store.create_login_link(user.id, timedelta(minutes=10))
    path = f"/portal/login/{secret}"
    await browser.post(path, {"csrf_token": await browser.token_of(path)})
    status, page, _ = await browser.get(url)
    assert status == 404 and "Offsite" not in page
    status, _, _ = await browser.get(f"/portal/calendar/{EXEC}/changes?after=x")
    assert status in (400, 404)


async def test_without_a_session_the_stream_sends_to_sign_in(browser: Browser) -> None:
    status, _, response = await browser.get(f"/portal/calendar/{EXEC}/changes")
    assert status == 303 and response.headers["Location"] == "/portal/sign-in"
