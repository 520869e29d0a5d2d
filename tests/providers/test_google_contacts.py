"""Google contacts through the People API: paging, sync tokens, deletions, 7-day expiry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from proxy.core.model import Contact, ContactDraft, EmailAddress, PhoneNumber
from proxy.errors import CursorExpired, Forbidden
from tests.fixtures.google_harness import GoogleEnv, start_google, stop_google
from tests.fixtures.google_state import CAL_READ, CONTACTS, CONTACTS_READ


@pytest.fixture
async def env() -> AsyncIterator[GoogleEnv]:
    env = await start_google()
    env.emulator.max_people_page_size = 4  # force paging on a few people
    for i in range(10):
        env.emulator.add_contact(env.email, f"Given{i}", f"Family{i}",
                                 emails=((f"p{i}@example.com", "work"),),
                                 phones=(("+1 555 0100", "mobile"),), company="Acme",
                                 title="Engineer")
    try:
        yield env
    finally:
        await stop_google(env)


async def contact_round(env: GoogleEnv, cursor: str | None) -> tuple[
        dict[str, Contact], set[str], str, int]:
    before = env.emulator.api_requests
    seen: dict[str, Contact] = {}
    removed: set[str] = set()
    while True:
        page = await env.provider.sync_contacts(cursor)
        seen.update({c.provider_id: c for c in page.changed})
        removed.update(page.removed)
        cursor = page.next_cursor
        if page.done:
            assert cursor is not None
            return seen, removed, cursor, env.emulator.api_requests - before


async def test_paging_then_incremental_changes_and_deletions(env: GoogleEnv) -> None:
    seen, _, cursor, requests = await contact_round(env, None)
    assert len(seen) == 10 and requests == 3
    ada = next(c for c in seen.values() if c.given_name == "Given3")
    assert ada.display_name == "Given3 Family3" and ada.surname == "Family3"
    assert ada.emails == (EmailAddress("p3@example.com", "work"),)
    assert ada.phones == (PhoneNumber("+1 555 0100", "mobile"),)
    assert ada.company == "Acme" and ada.job_title == "Engineer"

    new = env.emulator.add_contact(env.email, "Grace", "Hopper")
    env.emulator.delete_contact(env.email, ada.provider_id)
    seen, removed, _, requests = await contact_round(env, cursor)
    assert set(seen) == {new} and removed == {ada.provider_id} and requests == 1


async def test_sync_token_expires_after_seven_days(env: GoogleEnv) -> None:
    _, _, cursor, _ = await contact_round(env, None)
    env.emulator.advance_clock(timedelta(days=6))
    _, _, cursor, _ = await contact_round(env, cursor)  # still valid, and keeps its age
    env.emulator.advance_clock(timedelta(days=1, minutes=1))
    with pytest.raises(CursorExpired):
        await env.provider.sync_contacts(cursor)
    seen, _, _, _ = await contact_round(env, None)
    assert len(seen) == 10


async def test_created_contact_is_read_back(env: GoogleEnv) -> None:
    created = await env.provider.create_contact(ContactDraft(
        given_name="Ada", surname="Lovelace", emails=(EmailAddress("ada@example.com", "home"),),
        phones=(PhoneNumber("+44 20 7946 0000", "work"),), company="Engines",
        job_title="Analyst"))
    assert created.display_name == "Ada Lovelace" and created.provider_id.startswith("people/")
    seen, _, _, _ = await contact_round(env, None)
    assert seen[created.provider_id] == created


async def test_read_only_contacts_grant_refuses_create(env: GoogleEnv) -> None:
    env.emulator.add_user("colleague@example.com")  # no earlier grant to include
    provider, tokens = await env.provider_for("colleague@example.com",
                                              scopes=("openid", CAL_READ, CONTACTS_READ))
    assert CONTACTS not in tokens.granted
    with pytest.raises(Forbidden) as caught:
        await provider.create_contact(ContactDraft(given_name="X"))
    assert caught.value.code == "integration_read_only"
