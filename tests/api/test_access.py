"""Every cell of DESIGN §3, driven through the HTTP API."""

from __future__ import annotations

import pytest

from proxy.core.model import Attendee, Person, Sensitivity, ShowAs
from tests.api.conftest import Live
from tests.api.helpers import WINDOW, at, events_of, seed

SECRET = dict(title="Merger talks", description="Acquire Initech", location="Room 7",
              organizer=Person("Bill", "bill@initech.example"),
              attendees=(Attendee("Peter", "peter@initech.example"),),
              join_url="https://zoom.us/j/123", categories=("M&A",),
              sensitivity=Sensitivity.PRIVATE)


async def test_owner_sees_private_event_in_full(world: Live) -> None:
    seed(world, **SECRET)
    status, body = await events_of(world, "exec")
    assert status == 200
    [event] = body["events"]
    assert event["title"] == "Merger talks" and event["redacted"] is False
    assert event["attendees"][0]["email"] == "peter@initech.example"
    assert event["can_edit"] is True


async def test_delegate_with_private_access_sees_it_in_full(world: Live) -> None:
    seed(world, **SECRET)
    status, body = await events_of(world, "chief")
    assert status == 200
    assert body["events"][0]["description"] == "Acquire Initech"


async def test_delegate_without_private_access_sees_a_busy_block(world: Live) -> None:
    seed(world, **SECRET)
    status, body = await events_of(world, "assistant")
    assert status == 200
    [event] = body["events"]
    assert event["title"] == "Private event" and event["redacted"] is True
    for hidden in ("description", "location", "organizer", "join_url", "conference",
                   "ical_uid"):
        assert not event[hidden], hidden
    assert event["attendees"] == [] and event["categories"] == []
    assert event["start"] == "2026-12-01T09:00:00+00:00"
    assert event["sensitivity"] == "private" and event["can_edit"] is False


async def test_private_free_event_is_left_out_for_the_assistant(world: Live) -> None:
    seed(world, title="Gym", sensitivity=Sensitivity.PERSONAL, show_as=ShowAs.FREE)
    assert (await events_of(world, "assistant"))[1]["events"] == []
    assert len((await events_of(world, "chief"))[1]["events"]) == 1


async def test_colleague_gets_freebusy_only(world: Live) -> None:
    seed(world, **SECRET)
    seed(world, title="Standup", start=at(1, 10))
    status, body = await events_of(world, "colleague")
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body, _ = await world.call("colleague", "GET",
                                       f"/v1/users/exec@acme.example/freebusy?{WINDOW}")
    assert status == 200
    assert body == {"intervals": [
        {"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T11:00:00Z", "show_as": "busy"}]}


async def test_outsider_is_told_the_user_does_not_exist(world: Live) -> None:
    seed(world, **SECRET)
    unknown = await world.call("outsider", "GET",
                               f"/v1/users/nobody@acme.example/events?{WINDOW}")
    for path in (f"/v1/users/exec@acme.example/events?{WINDOW}",
                 f"/v1/users/exec@acme.example/freebusy?{WINDOW}",
                 f"/v1/users/{world.ids['exec']}/calendars"):
        status, body, _ = await world.call("outsider", "GET", path)
        assert (status, body) == (unknown[0], unknown[1]) == (404, unknown[1])
    status, body, _ = await world.call("outsider", "POST", "/v1/users/exec@acme.example/events",
                                       json={"title": "x", "start": "2026-12-01T09:00:00Z",
                                             "end": "2026-12-01T10:00:00Z"})
    assert status == 404


NEW = {"title": "Lunch", "start": "2026-12-02T12:00:00Z", "end": "2026-12-02T13:00:00Z"}


async def test_owner_and_scheduling_delegates_write(world: Live) -> None:
    for who in ("exec", "chief", "assistant"):
        status, body, _ = await world.call(who, "POST", "/v1/users/exec@acme.example/events",
                                           json={**NEW, "title": f"Lunch by {who}"})
        assert status == 201, body
    _, body = await events_of(world, "exec")
    assert sorted(e["title"] for e in body["events"]) == [
        "Lunch by assistant", "Lunch by chief", "Lunch by exec"]


async def test_colleague_may_not_write(world: Live) -> None:
    status, body, _ = await world.call("colleague", "POST",
                                       "/v1/users/exec@acme.example/events", json=NEW)
    assert status == 403 and body["error"]["code"] == "forbidden"


async def test_delegate_without_schedule_may_not_write(world: Live) -> None:
    await world.call("exec", "PUT", "/v1/me/delegates/assistant@acme.example",
                     json={"can_schedule": False, "can_view_private": False})
    status, _body, _ = await world.call("assistant", "POST",
                                       "/v1/users/exec@acme.example/events", json=NEW)
    assert status == 403
    assert (await events_of(world, "assistant"))[0] == 200


async def test_assistant_may_not_touch_private_events(world: Live) -> None:
    seed(world, **SECRET)
    _, body = await events_of(world, "assistant")
    event_id = body["events"][0]["id"]
    path = f"/v1/users/exec@acme.example/events/{event_id}"
    status, body, _ = await world.call("assistant", "PATCH", path, json={"title": "Mine"})
    assert status == 403 and body["error"]["code"] == "private_event"
    status, body, _ = await world.call("assistant", "DELETE", path)
    assert status == 403 and "Merger" not in str(body)
    status, _, _ = await world.call("chief", "PATCH", path, json={"title": "Renamed"})
    assert status == 200


async def test_policy_read_only_refuses_writes(world: Live) -> None:
    await world.call("admin", "PATCH", "/v1/account/settings",
                     json={"permissions": {"value": {"calendar": "read"}}})
    for who in ("exec", "chief"):
        status, body, _ = await world.call(who, "POST", "/v1/users/exec@acme.example/events",
                                           json=NEW)
        assert status == 403 and body["error"]["code"] == "policy_read_only"


async def test_integration_read_only_refuses_writes(world: Live) -> None:
    answer = await world.connect("colleague", permissions={"calendar": "read",
                                                           "contacts": "read"})
    assert answer["permissions"]["calendar"] == "read"
    status, body, _ = await world.call("colleague", "POST", "/v1/users/me/events", json=NEW)
    assert status == 403 and body["error"]["code"] == "integration_read_only"


async def test_granted_scopes_decide_not_requested_ones(world: Live) -> None:
    # the user unticked calendar access on the consent screen: asked write, granted none
    world.identity.limit_grant("colleague@acme.example",
                               {"Contacts.Read", "offline_access", "User.Read"})
    answer = await world.connect("colleague")
    assert answer["permissions"] == {"calendar": "none", "contacts": "read"}
    assert answer["requested"] == {"calendar": "write", "contacts": "read"}
    for method, path, payload in (("POST", "/v1/users/me/events", NEW),
                                  ("GET", f"/v1/users/me/events?{WINDOW}", None)):
        status, body, _ = await world.call("colleague", method, path, json=payload)
        assert status == 403 and body["error"]["code"] == "integration_no_access"


async def test_policy_without_calendar_access_serves_no_calendar_data(world: Live) -> None:
    seed(world, title="Board")
    await world.call("admin", "PATCH", "/v1/account/settings",
                     json={"permissions": {"value": {"calendar": "none"}}})
    for who, path in (("exec", f"/v1/users/me/events?{WINDOW}"),
                      ("assistant", f"/v1/users/exec@acme.example/events?{WINDOW}"),
                      ("colleague", f"/v1/users/exec@acme.example/freebusy?{WINDOW}")):
        status, body, _ = await world.call(who, "GET", path)
        assert status == 403 and body["error"]["code"] == "policy_no_access", who


async def test_contacts_are_the_owners_alone(world: Live) -> None:
    status, body, _ = await world.call("chief", "GET", "/v1/users/exec@acme.example/contacts")
    assert status == 403
    status, body, _ = await world.call("exec", "GET", "/v1/users/me/contacts")
    assert status == 200 and body == {"contacts": []}
    status, body, _ = await world.call("exec", "POST", "/v1/users/me/contacts",
                                       json={"given_name": "Ada"})
    assert status == 403 and body["error"]["code"] == "policy_read_only"
    await world.call("admin", "PATCH", "/v1/account/settings",
                     json={"permissions": {"value": {"contacts": "write"}}})
    await world.connect("exec", permissions={"calendar": "write", "contacts": "write"})
    status, body, _ = await world.call("exec", "POST", "/v1/users/me/contacts", json={
        "given_name": "Ada", "emails": [{"address": "ada@example.com", "type": "work"}]})
    assert status == 201, body
    status, listed, _ = await world.call("exec", "GET", "/v1/users/me/contacts")
    assert [c["given_name"] for c in listed["contacts"]] == ["Ada"]
    status, one, _ = await world.call("exec", "GET", f"/v1/users/me/contacts/{body['id']}")
    assert status == 200 and one["emails"][0]["address"] == "ada@example.com"


async def test_capabilities_a_provider_lacks_are_refused_uniformly(
        world: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    from proxy.providers.base import Capabilities
    from proxy.providers.memory import MemoryProvider

    monkeypatch.setattr(MemoryProvider, "capabilities", Capabilities(write_events=False))
    status, body, _ = await world.call("exec", "POST", "/v1/users/exec@acme.example/events",
                                       json=NEW)
    assert status == 422 and body["error"]["code"] == "not_supported_by_service"
    assert world.backend.mailbox(world.mailbox("exec")).events["primary"] == {}
