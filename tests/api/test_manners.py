"""Provider manners over the real Graph provider: never more than Graph's 4 concurrent
requests per mailbox, however many reads arrive, and a Retry-After pauses that mailbox
only (the emulator answers 429 above the limit, as Graph does)."""

from __future__ import annotations

import asyncio

from tests.api.conftest import Cloud
from tests.api.helpers import NEAR as WINDOW

EXEC, COLLEAGUE = "exec@acme.example", "colleague@acme.example"


async def sync_every_calendar(cloud: Cloud, count: int) -> None:
    for n in range(count):
        cloud.microsoft.graph.add_calendar(EXEC, f"Project {n}")
    await cloud.live.connect("exec", "graph")
    status, body, _ = await cloud.live.call("exec", "GET", f"/v1/users/{EXEC}/calendars")
    assert status == 200, body
    for calendar in body["calendars"]:
        status, _, _ = await cloud.live.call(
            "exec", "PATCH", f"/v1/users/{EXEC}/calendars/{calendar['id']}",
            json={"synced": True})
        assert status == 200


async def test_many_reads_of_many_calendars_stay_within_four_requests(cloud: Cloud) -> None:
    graph = cloud.microsoft.graph
    await sync_every_calendar(cloud, 11)
    graph.latency = 0.3  # each request takes a while, so that rounds pile up
    graph.max_mailbox_in_flight.clear()
    answers = await asyncio.gather(*(cloud.live.call("exec", "GET",
                                                     f"/v1/users/{EXEC}/events?{WINDOW}")
                                     for _ in range(15)))
    assert [a[0] for a in answers] == [200] * 15
    assert 2 <= graph.max_mailbox_in_flight[EXEC] <= 4, graph.max_mailbox_in_flight
    assert graph.concurrency_refusals == 0  # never above the cap


async def test_retry_after_pauses_that_mailbox_only(cloud: Cloud) -> None:
    graph = cloud.microsoft.graph
    await cloud.live.connect("exec", "graph")
    await cloud.live.connect("colleague", "graph")
    graph.throttle(times=1, retry_after=40, match="/users/" + EXEC)
    graph.throttle(times=1, retry_after=40, match="/me/")
    status, _, response = await cloud.live.call("exec", "GET",
                                                f"/v1/users/{EXEC}/events?{WINDOW}")
    assert status == 503 and int(response.headers["Retry-After"]) >= 30
    graph.faults.clear()
    sent = len(graph.requests)
    status, body, response = await cloud.live.call("exec", "GET",
                                                   f"/v1/users/{EXEC}/events?{WINDOW}")
    assert status == 503 and body["error"]["code"] == "upstream_throttled"
    assert int(response.headers["Retry-After"]) >= 30
    assert len(graph.requests) == sent  # paused: not a single request was sent
    status, _, _ = await cloud.live.call("colleague", "GET",
                                         f"/v1/users/{COLLEAGUE}/events?{WINDOW}")
    assert status == 200  # another mailbox carries on
