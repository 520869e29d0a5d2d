"""Who is told what: a viewer's snapshot moves only when what it reads moves."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.access import Grant, Relation
from proxy.core.mirror import MirroredEvent
from proxy.core.model import Attendee, Person, Sensitivity, ShowAs
from proxy.notifications.views import (
    FREEBUSY_KEY,
    Diff,
    Viewer,
    diff,
    notification,
    snapshot,
    viewer_for,
)
from tests.ics.strategies import calendars

MARKER = "SECRET-MARKER"


def _hide_more(item: MirroredEvent) -> MirroredEvent:
    """Change every field a busy block hides."""
    ev = item.event
    return replace(item, event=replace(
        ev, title=ev.title + MARKER, description=MARKER, location=MARKER,
        organizer=Person(MARKER, f"{MARKER}@x.example"),
        attendees=(*ev.attendees, Attendee(MARKER, f"{MARKER}@x.example")),
        join_url=f"https://{MARKER}.example/j", categories=(MARKER,)))


def test_viewers_follow_the_access_rules() -> None:
    assert viewer_for(Relation.SELF, None) is Viewer.FULL
    assert viewer_for(Relation.DELEGATE, Grant(False, True)) is Viewer.FULL
    assert viewer_for(Relation.DELEGATE, Grant(True, False)) is Viewer.PRIVATE_HIDDEN
    assert viewer_for(Relation.COLLEAGUE, None) is Viewer.FREEBUSY


@settings(max_examples=30, deadline=None)
@given(calendars())
def test_hidden_fields_of_private_events_move_only_the_full_view(
        items: list[MirroredEvent]) -> None:
    private = {i.id for i in items if i.event.is_private}
    after = [_hide_more(i) if i.id in private else i for i in items]
    assert not diff(snapshot(Viewer.PRIVATE_HIDDEN, items),
                    snapshot(Viewer.PRIVATE_HIDDEN, after))
    assert not diff(snapshot(Viewer.FREEBUSY, items), snapshot(Viewer.FREEBUSY, after))
    full = diff(snapshot(Viewer.FULL, items), snapshot(Viewer.FULL, after))
    assert set(full.changed) <= private and not full.removed


@settings(max_examples=30, deadline=None)
@given(calendars(), st.data())
def test_a_private_event_turning_public_is_news_to_the_hidden_view(
        items: list[MirroredEvent], data: st.DataObject) -> None:
    busy_private = [i for i in items if i.event.is_private and i.event.show_as is ShowAs.BUSY
                    and not i.event.rrule and i.event.status.value != "cancelled"]
    if not busy_private:
        return
    chosen = data.draw(st.sampled_from(busy_private))
    public = replace(chosen, event=replace(chosen.event, sensitivity=Sensitivity.NORMAL,
                                           title=chosen.event.title + "x"))
    after = [public if i.id == chosen.id else i for i in items]
    change = diff(snapshot(Viewer.PRIVATE_HIDDEN, items), snapshot(Viewer.PRIVATE_HIDDEN, after))
    assert chosen.id in change.changed


@settings(max_examples=20, deadline=None)
@given(calendars())
def test_free_busy_viewers_get_no_ids(items: list[MirroredEvent]) -> None:
    shot = snapshot(Viewer.FREEBUSY, items)
    assert set(shot) == {FREEBUSY_KEY}
    body = notification(Viewer.FREEBUSY, "exec@acme.example", "cal", Diff(("a",), ("b",)))
    assert body == {"type": "freebusy.changed", "user": "exec@acme.example"}


def test_diff_names_changed_and_removed_ids() -> None:
    assert diff({"a": "1", "b": "2"}, {"a": "1", "b": "3", "c": "4"}) == Diff(("b", "c"), ())
    assert diff({"a": "1"}, {}) == Diff((), ("a",))
    assert notification(Viewer.FULL, "u", "cal", Diff(("b",), ("a",))) == {
        "type": "events.changed", "user": "u", "calendar_id": "cal",
        "changed": ["b"], "removed": ["a"]}
