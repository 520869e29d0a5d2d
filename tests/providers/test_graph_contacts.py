"""Graph contacts by delta, per contact folder (issue 9 item 10), against the emulator."""

from __future__ import annotations

import json

import pytest

from proxy.core.model import Contact
from proxy.errors import CursorExpired

from . import test_graph
from .test_graph import EMAIL, GraphHarness

harness = test_graph.harness


async def _round(h: GraphHarness, cursor: str | None) -> tuple[dict[str, Contact], set[str],
                                                               str]:
    changed: dict[str, Contact] = {}
    removed: set[str] = set()
    while True:
        page = await h.provider.sync_contacts(cursor)
        for gone in page.removed:
            changed.pop(gone, None)
        removed |= set(page.removed)
        changed.update({c.provider_id: c for c in page.changed})
        cursor = page.next_cursor
        if page.done:
            assert cursor is not None
            return changed, removed, cursor


def _requests(h: GraphHarness) -> list[str]:
    return [p for _, p in h.cloud.graph.requests]


async def test_a_round_without_change_costs_one_request_per_folder(
        harness: GraphHarness) -> None:
    g = harness.cloud.graph
    family = g.add_contact_folder(EMAIL, "Family")
    board = g.add_contact_folder(EMAIL, "Board")
    ids = [g.add_contact(EMAIL, givenName=f"Ada{n}", surname="Lovelace") for n in range(5)]
    ids += [g.add_contact(EMAIL, family, displayName="Grace Hopper"),
            g.add_contact(EMAIL, board, displayName="Alan Turing")]
    harness.provider.contacts.page_size = 2  # the default folder pages three times
    seen, removed, cursor = await _round(harness, None)
    assert set(seen) == set(ids) and not removed
    assert seen[ids[5]].display_name == "Grace Hopper"
    assert any("$skiptoken" in p for p in _requests(harness))
    assert len(json.loads(cursor)["links"]) == 3  # one delta link per folder

    before = len(g.requests)
    seen, removed, cursor = await _round(harness, cursor)
    assert (seen, removed) == ({}, set())
    delta = _requests(harness)[before:]
    assert len(delta) == 3 and all("contacts/delta" in p and "$deltatoken" in p for p in delta)

    g.update_contact(EMAIL, ids[6], displayName="Alan M. Turing")
    g.delete_contact(EMAIL, ids[1])
    before = len(g.requests)
    seen, removed, cursor = await _round(harness, cursor)
    assert {i: c.display_name for i, c in seen.items()} == {ids[6]: "Alan M. Turing"}
    assert removed == {ids[1]} and len(g.requests) - before == 3


async def test_expired_tokens_and_new_folders_ask_for_a_full_round(
        harness: GraphHarness) -> None:
    g = harness.cloud.graph
    g.add_contact(EMAIL, displayName="Ada Lovelace")
    _, _, cursor = await _round(harness, None)
    g.expire_delta_tokens()
    with pytest.raises(CursorExpired):
        await _round(harness, cursor)
    seen, _, cursor = await _round(harness, None)
    assert [c.display_name for c in seen.values()] == ["Ada Lovelace"]

    g.add_contact(EMAIL, g.add_contact_folder(EMAIL, "New"), displayName="In a new folder")
    state = json.loads(cursor)
    stale = json.dumps({**state, "t": "2020-01-01T00:00:00+00:00"})  # the daily re-listing
    with pytest.raises(CursorExpired):
        await _round(harness, stale)
    assert (await _round(harness, cursor))[0] == {}  # within the day: no folder listing
    seen, _, _ = await _round(harness, None)
    assert {c.display_name for c in seen.values()} == {"Ada Lovelace", "In a new folder"}


async def test_an_empty_mailbox_and_a_foreign_cursor(harness: GraphHarness) -> None:
    seen, removed, cursor = await _round(harness, None)
    assert (seen, removed) == ({}, set())
    g = harness.cloud.graph
    first = g.add_contact(EMAIL, displayName="First")
    with pytest.raises(CursorExpired):  # looked again (no folder was known): one found
        await _round(harness, cursor)
    assert set((await _round(harness, None))[0]) == {first}
    with pytest.raises(CursorExpired):  # a cursor of the former full listing (a nextLink)
        await harness.provider.sync_contacts("https://graph.example/v1.0/me/contacts?$skip=1")
