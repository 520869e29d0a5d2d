"""The contacts mirror, on both backends."""

from __future__ import annotations

import pytest

from proxy.core.mirror import contact_public_id, mailbox_scope
from proxy.core.model import Calendar, Contact, EmailAddress, Permissions, PhoneNumber, Service
from proxy.store.records import IntegrationStatus
from proxy.store.sql import SqlStore
from tests.store.helpers import T0, user_with_integration

CALENDAR = Calendar(provider_id="cal-1", name="Calendar", is_primary=True)


def contact(pid: str, name: str) -> Contact:
    return Contact(pid, Service.GOOGLE, name, given_name=name.split()[0],
                   emails=(EmailAddress(f"{pid}@example.com", "work"),),
                   phones=(PhoneNumber("+1 555 0100", "mobile"),), company="Acme")


async def test_contact_rounds(store: SqlStore) -> None:
    user, integration = await user_with_integration(store)
    bob, ann, cy = contact("b", "Bob B"), contact("a", "ann A"), contact("c", "Cy C")
    await store.apply_contact_sync(integration.id, [bob, ann, cy], [], "sync-1", T0, full=True)
    listed = await store.list_contacts([integration.id])
    assert [c for _, _, c in listed] == [ann, bob, cy]
    # no mailbox recorded: the owner's email stands in for it
    assert listed[0][0] == contact_public_id(mailbox_scope(user.id, "graph", user.email), "a")
    assert {i for _, i, _ in listed} == {integration.id}
    got = await store.get_integration(integration.id)
    assert got is not None and (got.contacts_cursor, got.contacts_synced_at) == ("sync-1", T0)
    bob2 = contact("b", "Bobby B")
    await store.apply_contact_sync(integration.id, [bob2], ["c"], "sync-2", T0, full=False)
    assert [c for _, _, c in await store.list_contacts([integration.id])] == [ann, bob2]
    await store.apply_contact_sync(integration.id, [cy], [], "sync-3", T0, full=True)
    assert [c for _, _, c in await store.list_contacts([integration.id])] == [cy]


async def test_put_contact_and_rollback(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    public_id = await store.put_contact(integration.id, contact("n", "New Person"))
    assert await store.get_contact(public_id) == (
        public_id, integration.id, contact("n", "New Person"))
    bad = Contact("x", Service.GOOGLE, "Bad", emails=(object(),))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await store.apply_contact_sync(integration.id, [bad], [], "sync-9", T0, full=True)
    assert len(await store.list_contacts([integration.id])) == 1
    got = await store.get_integration(integration.id)
    assert got is not None and got.contacts_cursor is None


async def test_ids_follow_the_mailbox_not_the_integration_row(store: SqlStore) -> None:
    """Recreating an integration of the same mailbox gives its calendars and contacts the
    same ids; another mailbox of the same owner and service gets other ids."""
    user, first = await user_with_integration(store, details={"mailbox": "box-1"})

    async def ids_of(integration_id: str) -> tuple[str, str]:
        [cal] = await store.upsert_calendars(integration_id, [CALENDAR], True)
        await store.apply_contact_sync(integration_id, [contact("a", "Ann A")], [], None, T0,
                                       full=True)
        [(contact_id, _, _)] = await store.list_contacts([integration_id])
        return cal.id, contact_id

    before = await ids_of(first.id)
    await store.delete_integration(first.id)
    again = await store.create_integration(user.id, Service.GRAPH, IntegrationStatus.CONNECTED,
                                           Permissions(), Permissions(),
                                           details={"mailbox": "box-1"})
    assert await ids_of(again.id) == before
    await store.delete_integration(again.id)
    other = await store.create_integration(user.id, Service.GRAPH, IntegrationStatus.CONNECTED,
                                           Permissions(), Permissions(),
                                           details={"mailbox": "box-2"})
    assert set(await ids_of(other.id)).isdisjoint(before)
