"""The contacts mirror, on both backends."""

from __future__ import annotations

import pytest

from proxy.core.mirror import opaque_id
from proxy.core.model import Contact, EmailAddress, PhoneNumber, Service
from proxy.store.sql import SqlStore
from tests.store.helpers import T0, user_with_integration


def contact(pid: str, name: str) -> Contact:
    return Contact(pid, Service.GOOGLE, name, given_name=name.split()[0],
                   emails=(EmailAddress(f"{pid}@example.com", "work"),),
                   phones=(PhoneNumber("+1 555 0100", "mobile"),), company="Acme")


async def test_contact_rounds(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    bob, ann, cy = contact("b", "Bob B"), contact("a", "ann A"), contact("c", "Cy C")
    await store.apply_contact_sync(integration.id, [bob, ann, cy], [], "sync-1", T0, full=True)
    listed = await store.list_contacts([integration.id])
    assert [c for _, _, c in listed] == [ann, bob, cy]
    assert listed[0][0] == opaque_id("contact", integration.id, "a")
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
