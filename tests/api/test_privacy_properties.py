"""No marker of a private event reaches a caller who may not see it, by any path.

Generated calendars (any sensitivity, show-as, recurrence; every text field of private
events carrying a marker) are served by the live API; the assistant (delegate without
private access), a colleague and an outsider then read every output: ``/events``,
``/events/{id}``, ``/freebusy``, the error answers of refused writes, and the owner's
feeds at ``busy`` and ``limited`` detail. The cached read path is held to the same:
callers interleaved over one mirror each get their own answer, and a change to a hidden
field moves the owner's ETag but not the assistant's or a colleague's.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from proxy.core.model import (
    Attendee,
    Conference,
    ConferenceProvider,
    Event,
    Person,
    Sensitivity,
    Service,
    ShowAs,
)
from proxy.providers.memory import Mailbox
from tests.api.conftest import Live
from tests.api.helpers import WINDOW

MARK = "QZXMARK"
BASE = datetime(2026, 12, 1, 8, tzinfo=UTC)


@st.composite
def events(draw: st.DrawFn, index: int) -> Event:
    sensitivity = draw(st.sampled_from(list(Sensitivity)))
    private = sensitivity.is_private
    tag = f"{MARK}{index}" if private else f"open{index}"
    text = draw(st.text(alphabet="abc ,;\\\n\u00e9\U0001f600", max_size=8))
    start = BASE + timedelta(hours=draw(st.integers(0, 24 * 20)))
    rrule = draw(st.sampled_from([(), ("FREQ=DAILY;COUNT=3",), ("FREQ=WEEKLY;BYDAY=MO,WE",)]))
    return Event(
        provider_id=f"id-{tag}", calendar_id="primary", service=Service.GRAPH,
        start=start, end=start + timedelta(minutes=draw(st.sampled_from([0, 30, 90]))),
        time_zone=draw(st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"])),
        ical_uid=f"uid-{tag}@host.example", title=f"{text}{tag}", description=f"d {tag}",
        location=f"https://zoom.us/j/{tag} room {tag}", sensitivity=sensitivity,
        show_as=draw(st.sampled_from(list(ShowAs))),
        organizer=Person(f"org {tag}", f"{tag}@example.com"),
        attendees=(Attendee(f"att {tag}", f"a{tag}@example.com"),),
        join_url=f"https://teams.microsoft.com/l/{tag}",
        conference=Conference(ConferenceProvider.TEAMS, f"https://teams.microsoft.com/{tag}"),
        categories=(f"cat{tag}",), rrule=rrule,
    )


calendars = st.integers(1, 6).flatmap(
    lambda n: st.tuples(*(events(i) for i in range(n))))


def reset(live: Live, items: tuple[Event, ...]) -> None:
    key = live.mailbox("exec")
    old = live.backend.mailbox(key)
    fresh = Mailbox(epoch=old.epoch + 1)
    live.backend.mailboxes[key] = fresh
    for event in items:
        live.backend.put_event(key, event)


async def outputs(live: Live, who: str, feeds: list[str]) -> list[bytes]:
    owner = "/v1/users/exec@acme.example"
    seen: list[bytes] = []
    status, body, response = await live.call(who, "GET", f"{owner}/events?{WINDOW}")
    seen.append(repr(body).encode() + repr(dict(response.headers)).encode())
    for event in (body or {}).get("events", []) if status == 200 else []:
        for method, payload in (("GET", None), ("PATCH", {"title": "x"}), ("DELETE", None)):
            if method != "GET" and not event["redacted"]:
                continue
            _, one, resp = await live.call(who, method, f"{owner}/events/{event['id']}",
                                           json=payload)
            seen.append(repr(one).encode() + repr(dict(resp.headers)).encode())
    _, fb, _ = await live.call(who, "GET", f"{owner}/freebusy?{WINDOW}")
    seen.append(repr(fb).encode())
    for url in feeds:
        async with live.http.get(url) as response:
            seen.append(await response.read())
    return seen


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(items=calendars)
async def test_no_private_marker_leaks(world: Live, items: tuple[Event, ...]) -> None:
    reset(world, items)
    feeds = []
    for detail in ("busy", "limited"):
        _, feed, _ = await world.call("exec", "POST", "/v1/me/feeds", json={"detail": detail})
        feeds.append(feed["url"])
    _, feed, _ = await world.call("exec", "POST", "/v1/me/feeds", json={"detail": "full"})
    feeds.append(feed["url"])
    for who in ("assistant", "colleague", "outsider"):
        for blob in await outputs(world, who, feeds):
            assert MARK.encode() not in blob, who
    # the chief may see private events: the marker must be there when any is busy time
    if any(e.is_private and e.show_as is not ShowAs.FREE for e in items):
        status, body, _ = await world.call("chief", "GET",
                                           f"/v1/users/exec@acme.example/events?{WINDOW}")
        assert status == 200 and MARK in repr(body)


OWNER_EVENTS = f"/v1/users/exec@acme.example/events?{WINDOW}"
OWNER_FREEBUSY = f"/v1/users/exec@acme.example/freebusy?{WINDOW}"
readers = st.lists(st.sampled_from(["exec", "assistant", "chief", "colleague"]),
                   min_size=4, max_size=10)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(items=calendars, order=readers)
async def test_cached_answers_follow_the_caller(world: Live, items: tuple[Event, ...],
                                                order: list[str]) -> None:
    """Interleaved callers over one mirror: each always gets its own answer (the owner's
    cached answer, or its ETag, never serves the assistant or a colleague)."""
    reset(world, items)
    first: dict[str, tuple[int, Any, str | None]] = {}
    for who in order:
        for path in (OWNER_EVENTS, OWNER_FREEBUSY):
            status, body, response = await world.call(who, "GET", path)
            if who in ("assistant", "colleague"):
                assert MARK not in repr(body), who
            seen = first.setdefault(f"{who} {path}", (status, body, response.headers.get(
                "ETag")))
            assert (status, body) == seen[:2], who
    owners = (await world.call("exec", "GET", OWNER_EVENTS))[2].headers["ETag"]
    for who in ("assistant", "chief"):
        mine = (await world.call(who, "GET", OWNER_EVENTS))[2].headers["ETag"]
        if mine == owners:
            continue  # the very same bytes (nothing private in the window)
        status, body, _ = await world.call(who, "GET", OWNER_EVENTS,
                                           headers={"If-None-Match": owners})
        assert status == 200 and (who == "chief" or MARK not in repr(body)), who


def hide_differently(event: Event) -> Event:
    return replace(event, title=f"{event.title} changed {MARK}",
                   description=f"{event.description} {MARK}more", location=f"elsewhere {MARK}",
                   attendees=(*event.attendees, Attendee("new", f"new{MARK}@example.com")))


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(items=calendars)
async def test_a_hidden_change_moves_the_owners_etag_only(world: Live,
                                                          items: tuple[Event, ...]) -> None:
    """A private event's hidden fields change upstream: after the sync the owner's
    ``/events`` ETag moves, the assistant's and the colleague's free/busy ETag do not (and
    their conditional requests answer 304)."""
    hidden = [e for e in items if e.is_private and e.show_as is not ShowAs.FREE]
    assume(hidden)
    reset(world, items)
    before = {who: (await world.call(who, "GET", path))[2].headers["ETag"]
              for who, path in (("exec", OWNER_EVENTS), ("assistant", OWNER_EVENTS),
                                ("colleague", OWNER_FREEBUSY))}
    for event in hidden:
        world.backend.put_event(world.mailbox("exec"), hide_differently(event))
    status, _, response = await world.call("exec", "GET", OWNER_EVENTS)
    assert status == 200 and response.headers["ETag"] != before["exec"]
    for who, path in (("assistant", OWNER_EVENTS), ("colleague", OWNER_FREEBUSY)):
        status, _, response = await world.call(who, "GET", path,
                                               headers={"If-None-Match": before[who]})
        assert status == 304 and response.headers["ETag"] == before[who], who
