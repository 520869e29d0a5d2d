"""The real Graph and Google providers behind calproxy's API, against their emulators."""

from __future__ import annotations

from datetime import timedelta

from tests.api.conftest import Cloud
from tests.api.helpers import NEAR as WINDOW
from tests.api.helpers import NOW

NEW = {"title": "Lunch", "start": (NOW + timedelta(days=2)).isoformat(),
       "end": (NOW + timedelta(days=2, hours=1)).isoformat()}
EXEC = "exec@acme.example"


async def titles(cloud: Cloud, who: str = "exec") -> list[str]:
    status, body, _ = await cloud.live.call(who, "GET", f"/v1/users/{EXEC}/events?{WINDOW}")
    assert status == 200, body
    return [e["title"] for e in body["events"]]


async def test_graph_oauth_dance_reads_and_writes(cloud: Cloud) -> None:
    cloud.microsoft.graph.add_event(EXEC, "Board", NOW + timedelta(days=1),
                                    NOW + timedelta(days=1, hours=1), "W. Europe Standard Time")
    answer = await cloud.live.connect("exec", "graph")
    assert answer["status"] == "connected"
    assert set(answer["scopes"]) >= {"Calendars.ReadWrite", "offline_access"}
    assert await titles(cloud) == ["Board"]
    status, created, _ = await cloud.live.call("exec", "POST", f"/v1/users/{EXEC}/events",
                                               json=NEW)
    assert status == 201, created
    assert sorted(await titles(cloud)) == ["Board", "Lunch"]
    upstream = cloud.microsoft.graph.mailbox(EXEC).events.values()
    assert "Lunch" in {e.fields["subject"] for e in upstream}
    status, one, _ = await cloud.live.call("exec", "GET",
                                           f"/v1/users/{EXEC}/events/{created['id']}")
    assert status == 200 and one["title"] == "Lunch"


async def test_graph_hybrid_mailbox_is_refused(cloud: Cloud) -> None:
    cloud.microsoft.graph.set_hybrid(EXEC)
    _status, body, _ = await cloud.live.call("exec", "POST", "/v1/me/integrations",
                                            json={"service": "graph"})
    async with cloud.live.http.get(body["authorize_url"]) as response:
        answer = await response.json()
    assert response.status == 422 and answer["error"]["code"] == "hybrid_not_supported"
    assert "exchange_ews" in answer["error"]["message"]
    _, listed, _ = await cloud.live.call("exec", "GET", "/v1/me/integrations")
    assert [(i["status"], i["reason"]) for i in listed["integrations"]] == [
        ("error", "hybrid_not_supported")]


async def test_graph_throttling_and_failures_map_to_gateway_errors(cloud: Cloud) -> None:
    await cloud.live.connect("exec", "graph")
    cloud.microsoft.graph.throttle(times=10, retry_after=3)  # too long to wait for in a read
    status, body, response = await cloud.live.call("exec", "GET",
                                                   f"/v1/users/{EXEC}/events?{WINDOW}")
    assert status == 503 and body["error"]["code"] == "upstream_throttled"
    assert int(response.headers["Retry-After"]) >= 1
    cloud.microsoft.graph.faults.clear()  # the next read waits out the mailbox's pause
    cloud.microsoft.graph.fail(500, times=10)
    status, body, _ = await cloud.live.call("exec", "GET", f"/v1/users/{EXEC}/events?{WINDOW}")
    assert status == 502
    cloud.microsoft.graph.faults.clear()
    assert await titles(cloud) == []


async def test_graph_token_refresh_and_reauth(cloud: Cloud) -> None:
    cloud.microsoft.graph.add_event(EXEC, "Board", NOW + timedelta(days=1),
                                    NOW + timedelta(days=1, hours=1), "UTC")
    await cloud.live.connect("exec", "graph")
    cloud.microsoft.identity.expire_access_tokens(EXEC)
    assert await titles(cloud) == ["Board"]  # refreshed and retried once
    cloud.microsoft.identity.expire_access_tokens(EXEC)
    cloud.microsoft.identity.revoke_refresh_tokens(EXEC)
    status, body, _ = await cloud.live.call("exec", "GET", f"/v1/users/{EXEC}/events?{WINDOW}")
    assert status == 502 and body["error"]["code"] == "needs_reauth"
    status, body, _ = await cloud.live.call("exec", "GET", f"/v1/users/{EXEC}/events?{WINDOW}")
    assert status == 409 and body["error"]["code"] == "reintegration_required"


async def test_google_partial_consent_gives_a_read_only_integration(cloud: Cloud) -> None:
    google, email = cloud.google, "colleague@acme.example"
    google.add_simple_event(email, "Design review", NOW + timedelta(days=1),
                            NOW + timedelta(days=1, hours=1))
    google.deny_scopes(email, "https://www.googleapis.com/auth/calendar.events")
    answer = await cloud.live.connect("colleague", "google")
    assert answer["status"] == "connected"
    assert answer["permissions"]["calendar"] == "read"
    status, body, _ = await cloud.live.call("colleague", "GET",
                                            f"/v1/users/me/events?{WINDOW}")
    assert [e["title"] for e in body["events"]] == ["Design review"]
    status, body, _ = await cloud.live.call("colleague", "POST", "/v1/users/me/events",
                                            json=NEW)
    assert status == 403 and body["error"]["code"] == "integration_read_only"


async def test_google_and_graph_merge_for_one_user(cloud: Cloud) -> None:
    cloud.google.add_simple_event(EXEC, "From Google", NOW + timedelta(days=3),
                                  NOW + timedelta(days=3, hours=1))
    cloud.microsoft.graph.add_event(EXEC, "From Graph", NOW + timedelta(days=1),
                                    NOW + timedelta(days=1, hours=1), "UTC")
    await cloud.live.connect("exec", "graph")
    await cloud.live.connect("exec", "google")
    assert await titles(cloud) == ["From Graph", "From Google"]
    status, _body, _ = await cloud.live.call("exec", "POST", f"/v1/users/{EXEC}/events",
                                            json=NEW)
    assert status == 201
