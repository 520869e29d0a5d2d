"""Integrations and encrypted credentials, on both backends."""

from __future__ import annotations

import pytest

from proxy.core.model import Access, Calendar, Contact, Permissions, Service
from proxy.errors import NotFound
from proxy.store.crypto import SecretKeyError
from proxy.store.records import IntegrationStatus
from proxy.store.sql import SqlStore
from tests.store.conftest import Backend
from tests.store.helpers import (
    T0,
    calendar_of,
    event,
    mirrored,
    raw,
    raw_text,
    user_with_integration,
)

SECRETS = {"refresh_token": "1//0refresh-TOKEN-s3cr3t", "password": "Hunter2-p4ssw0rd!"}


async def test_credentials_are_ciphertext_at_rest(store: SqlStore) -> None:
    _, integration = await user_with_integration(
        store, credentials=SECRETS, details={"username": "exec@example.com"})
    assert await store.get_credentials(integration.id) == SECRETS
    dump = "".join([await raw_text(store, t) for t in ("credentials", "integrations")])
    for secret in SECRETS.values():
        assert secret not in dump
        assert secret.encode().hex() not in dump
    ((blob,),) = await raw(store, "SELECT blob FROM credentials")
    assert blob.startswith("gAAAA")  # a Fernet token
    await store.set_credentials(integration.id, {"access_token": "at-new-123456"})
    assert await store.get_credentials(integration.id) == {"access_token": "at-new-123456"}
    assert "at-new-123456" not in await raw_text(store, "credentials")
    assert len(await raw(store, "SELECT * FROM credentials")) == 1


async def test_wrong_key_names_the_variable(store: SqlStore, backend: Backend) -> None:
    _, integration = await user_with_integration(store, credentials=SECRETS)
    other = backend.store(secret_key="a different passphrase, long enough")
    try:
        with pytest.raises(SecretKeyError, match="CALPROXY_SECRET_KEY") as caught:
            await other.get_credentials(integration.id)
        assert SECRETS["password"] not in str(caught.value)
    finally:
        await other.close()
    keyless = backend.store(secret_key=None)
    try:
        with pytest.raises(SecretKeyError, match="CALPROXY_SECRET_KEY"):
            await keyless.get_credentials(integration.id)
    finally:
        await keyless.close()


async def test_create_get_update(store: SqlStore) -> None:
    user, pending = await user_with_integration(store, oauth_state="state-123", scopes="a b")
    assert pending.oauth_state == "state-123" and pending.scopes == "a b"
    assert await store.integration_for_state("state-123") == pending
    assert await store.get_credentials(pending.id) == {}
    read_only = Permissions(Access.READ, Access.NONE)
    updated = await store.update_integration(
        pending.id, status=IntegrationStatus.SUSPENDED, reason="policy_changed",
        granted=read_only, oauth_state=None, details={"ews_url": "https://x/EWS"})
    assert updated.status is IntegrationStatus.SUSPENDED and updated.reason == "policy_changed"
    assert updated.granted == read_only and updated.requested == Permissions()
    assert updated.oauth_state is None and updated.details == {"ews_url": "https://x/EWS"}
    assert updated.updated >= pending.updated and updated.created == pending.created
    kept = await store.update_integration(pending.id, scopes="c")
    assert (kept.reason, kept.status, kept.scopes) == ("policy_changed", updated.status, "c")
    cleared = await store.update_integration(pending.id, reason=None, requested=read_only)
    assert cleared.reason is None and cleared.granted == read_only
    assert cleared.requested == read_only
    assert await store.get_integration(pending.id) == cleared
    assert await store.integration_for_state("state-123") is None
    assert await store.list_integrations(user.id) == [cleared]
    assert await store.list_account_integrations(user.account_id) == [cleared]
    with pytest.raises(NotFound):
        await store.update_integration("nope", status=IntegrationStatus.ERROR)
    with pytest.raises(NotFound):
        await store.set_credentials("nope", {})
    with pytest.raises(NotFound):
        await store.create_integration("ghost", Service.GOOGLE, IntegrationStatus.PENDING,
                                       Permissions(), Permissions())


async def test_delete_integration_forgets_everything(store: SqlStore) -> None:
    user, integration = await user_with_integration(store, credentials=SECRETS)
    _, other = await user_with_integration(store, email="other@example.com",
                                           credentials=SECRETS)
    for target in (integration, other):
        cal = await calendar_of(store, target)
        ev = mirrored(cal, event("e1", T0, T0))
        await store.apply_event_sync(cal.id, [ev], [], "c1", T0, full=True)
        await store.apply_contact_sync(target.id, [Contact("p1", Service.GRAPH, "Ann")], [],
                                       "cc", T0, full=True)
    await store.delete_integration(integration.id)
    for table in ("integrations", "credentials", "calendars", "events", "contacts"):
        rows = await raw(store, f"SELECT * FROM {table}")
        assert len(rows) == 1, table  # only the other user's
        assert integration.id not in repr(rows)
    assert await store.get_integration(integration.id) is None
    assert await store.list_integrations(user.id) == []
    await store.delete_integration(integration.id)  # idempotent


async def test_unknown_ids(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        await store.get_credentials("nope")
    with pytest.raises(NotFound):
        await store.upsert_calendars("nope", [Calendar("c", "C")], True)
    with pytest.raises(NotFound):
        await store.apply_event_sync("nope", [], [], None, T0, full=True)
    with pytest.raises(NotFound):
        await store.apply_contact_sync("nope", [], [], None, T0, full=True)
    with pytest.raises(NotFound):
        await store.set_calendar_synced("nope", True)
    assert await store.get_event("nope") is None
    assert await store.get_contact("nope") is None
    assert await store.get_calendar("nope") is None
    assert await store.list_calendars([]) == [] and await store.list_contacts([]) == []
    assert await store.events_in_range([], T0, T0) == []
