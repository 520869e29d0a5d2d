"""Bad input gets a 4xx in the contract's shape naming the field; never a 500."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import Live

EVENTS = "/v1/users/me/events"


def assert_error(status: int, body: object, expected: int, field: str | None = None) -> None:
    assert status == expected, body
    assert isinstance(body, dict) and set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    if field is not None:
        assert field in body["error"]["message"]


async def test_malformed_json(world: Live) -> None:
    status, body, _ = await world.call("exec", "POST", EVENTS, data=b"{not json",
                                       headers={"Content-Type": "application/json"})
    assert_error(status, body, 400, "body")
    status, body, _ = await world.call("exec", "POST", EVENTS, json=[1, 2])
    assert_error(status, body, 400, "body")


async def test_wrong_types_and_unknown_fields(world: Live) -> None:
    cases = [
        ({"title": 5, "start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:00:00Z"}, "title"),
        ({"title": "x", "start": "tomorrow", "end": "2026-12-01T10:00:00Z"}, "start"),
        ({"title": "x", "start": "2026-12-01T09:00:00", "end": "2026-12-01T10:00:00Z"}, "start"),
        ({"title": "x", "start": "2026-12-01T11:00:00Z", "end": "2026-12-01T10:00:00Z"}, "end"),
        ({"title": "x", "start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:00:00Z",
          "show_as": "asleep"}, "show_as"),
        ({"title": "x", "start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:00:00Z",
          "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"title": "x", "start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:00:00Z",
          "colour": "red"}, "colour"),
        ({"title": "x", "start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:00:00Z",
          "attendees": [{"name": "no email"}]}, "attendees[0].email"),
    ]
    for payload, field in cases:
        status, body, _ = await world.call("exec", "POST", EVENTS, json=payload)
        assert_error(status, body, 400, field)


async def test_query_windows(world: Live) -> None:
    for query, field in [
        ("", "start"), ("start=2026-12-01T00:00:00Z", "end"),
        ("start=yesterday&end=2026-12-01T00:00:00Z", "start"),
        ("start=2026-01-01T00:00:00Z&end=2027-01-03T00:00:00Z", "366"),
        ("start=2026-12-02T00:00:00Z&end=2026-12-01T00:00:00Z", "end"),
    ]:
        status, body, _ = await world.call("exec", "GET", f"{EVENTS}?{query}")
        assert_error(status, body, 400, field)


async def test_unknown_user_auth_and_routes(world: Live) -> None:
    status, body, _ = await world.call(
        "exec", "GET", "/v1/users/ghost@acme.example/events?start=2026-12-01T00:00:00Z"
        "&end=2026-12-02T00:00:00Z")
    assert_error(status, body, 404, "user")
    status, body, _ = await world.call(None, "GET", "/v1/me")
    assert_error(status, body, 401, "Authorization")
    status, body, _ = await world.call(None, "GET", "/v1/me",
                                       headers={"Authorization": "Bearer nope"})
    assert_error(status, body, 401)
    status, body, _ = await world.call("exec", "GET", "/v1/nowhere")
    assert_error(status, body, 404)
    status, body, _ = await world.call("exec", "PUT", "/v1/me")
    assert_error(status, body, 405)


async def test_bad_writes_change_nothing(world: Live) -> None:
    before = dict(world.backend.mailbox(world.mailbox("exec")).events["primary"])
    await world.call("exec", "POST", EVENTS, json={"title": "x", "start": "bad"})
    assert world.backend.mailbox(world.mailbox("exec")).events["primary"] == before


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["title", "start", "end", "all_day", "attendees", "value", "locked",
                         "service", "permissions", "detail", "synced", "enabled", "x"]),
        inner, max_size=4),
    max_leaves=10)

TARGETS = [("POST", EVENTS), ("PATCH", "/v1/account/settings"), ("POST", "/v1/me/feeds"),
           ("POST", "/v1/me/integrations"), ("PUT", "/v1/me/delegates/chief@acme.example"),
           ("POST", "/v1/me/sign-in"), ("POST", "/v1/users/me/contacts")]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(TARGETS), payload=json_values)
async def test_no_body_produces_a_server_error(world: Live, target: tuple[str, str],
                                               payload: object) -> None:
    method, path = target
    who = "admin" if "account" in path else "exec"
    status, body, _ = await world.call(who, method, path, data=json.dumps(payload).encode(),
                                       headers={"Content-Type": "application/json"})
    assert status < 500, body
    if status >= 400:
        assert set(body["error"]) == {"code", "message"}


FIELDS = {
    ("POST", EVENTS): ["title", "start", "end", "time_zone", "all_day", "show_as",
                       "sensitivity", "attendees", "categories", "calendar_id", "location"],
    ("PATCH", "/v1/account/settings"): ["enabled", "services", "permissions",
                                        "prompt_o365_on_sign_in", "allowed_domains",
                                        "ews_hosts"],
    ("POST", "/v1/me/feeds"): ["detail", "include_private", "past_days", "future_days"],
    ("POST", "/v1/me/integrations"): ["service", "permissions", "ews_url", "username",
                                      "password"],
    ("PUT", "/v1/me/delegates/chief@acme.example"): ["can_schedule", "can_view_private"],
    ("POST", "/v1/me/sign-in"): ["client_version"],
    ("POST", "/v1/users/me/contacts"): ["display_name", "given_name", "emails", "phones"],
}
ODD_VALUES = [{}, [], [{}], 1.5, -1, None, True, "", "x" * 5000, {"value": {}}]


async def test_every_field_survives_every_odd_type(world: Live) -> None:
    """Type confusion on every writable field: a 4xx naming the problem, never a 500."""
    for (method, path), fields in FIELDS.items():
        who = "admin" if "account" in path else "exec"
        for field in fields:
            for value in ODD_VALUES:
                status, body, _ = await world.call(who, method, path, json={field: value})
                assert status < 500, (method, path, field, value, body)
