"""Key rotation on both backends: raw rows re-encrypted under the first key, old key
removable afterwards, nothing lost to a key that fits no row or to concurrent writers."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.fernet import Fernet, InvalidToken

from proxy.core.model import Permissions, Service
from proxy.store.crypto import CredentialCipher, SecretKeyError, fernet_key
from proxy.store.records import IntegrationStatus, Role
from proxy.store.sql import SqlStore
from tests.store.conftest import Backend
from tests.store.helpers import raw

OLD, NEW = "old passphrase", Fernet.generate_key().decode()


async def _seed(store: SqlStore, count: int) -> dict[str, dict[str, str]]:
    account = await store.create_account("Acme", {})
    user = await store.create_user(account.id, "exec@example.com", Role.MEMBER)
    seeded = {}
    for n in range(count):
        creds = {"refresh_token": f"rt-{n}-s3cr3t"}
        integration = await store.create_integration(
            user.id, list(Service)[n % 5], IntegrationStatus.CONNECTED, Permissions(),
            Permissions(), credentials=creds)
        seeded[integration.id] = creds
    return seeded


async def _blobs(store: SqlStore) -> dict[str, str]:
    return dict(await raw(store, "SELECT integration_id, blob FROM credentials"))


def _opens(key: str, blob: str) -> bool:
    try:
        Fernet(fernet_key(key)).decrypt(blob.encode())
    except InvalidToken:
        return False
    return True


async def test_rotate_then_drop_the_old_key(backend: Backend, store: SqlStore) -> None:
    """(``store`` empties the tables first; the test opens stores of its own keys.)"""
    old_store = backend.store(OLD)
    await old_store.migrate()
    try:
        seeded = await _seed(old_store, 5)
    finally:
        await old_store.close()
    both = backend.store(f"{NEW},{OLD}")
    try:
        assert [await both.get_credentials(i) for i in seeded] == list(seeded.values())
        rotation = await both.rotate_secrets(batch_size=2)  # three batches
        assert (rotation.rewritten, rotation.current, rotation.unreadable) == (5, 0, 0)
        blobs = await _blobs(both)
        assert set(blobs) == set(seeded)
        assert all(_opens(NEW, b) and not _opens(OLD, b) for b in blobs.values())
        assert (await both.rotate_secrets()).rewritten == 0  # nothing left to rewrite
    finally:
        await both.close()
    new_only = backend.store(NEW)
    try:
        for integration_id, creds in seeded.items():
            assert await new_only.get_credentials(integration_id) == creds
    finally:
        await new_only.close()


async def test_rows_no_key_opens_are_left_untouched(backend: Backend, store: SqlStore) -> None:
    stray_store = backend.store("a key nobody kept")
    await stray_store.migrate()
    try:
        stray = await _seed(stray_store, 1)
        before = await _blobs(stray_store)
    finally:
        await stray_store.close()
    wrong = backend.store(f"{NEW},{OLD}")
    try:
        rotation = await wrong.rotate_secrets()
        assert (rotation.rewritten, rotation.unreadable) == (0, 1)
        assert await _blobs(wrong) == before
        with pytest.raises(SecretKeyError, match="CALPROXY_SECRET_KEY"):
            await wrong.get_credentials(next(iter(stray)))
    finally:
        await wrong.close()


async def test_rotation_while_a_server_writes_loses_nothing(backend: Backend,
                                                            store: SqlStore) -> None:
    old = backend.store(OLD)
    try:
        seeded = await _seed(old, 20)
    finally:
        await old.close()
    server, rotator = backend.store(f"{NEW},{OLD}"), backend.store(f"{NEW},{OLD}")
    latest = dict(seeded)

    async def refresh_tokens() -> None:
        for n, integration_id in enumerate(seeded):
            latest[integration_id] = {"refresh_token": f"refreshed-{n}"}
            await server.set_credentials(integration_id, latest[integration_id])
            await asyncio.sleep(0)

    try:
        await asyncio.gather(refresh_tokens(), rotator.rotate_secrets(batch_size=3))
        for integration_id, creds in latest.items():
            assert await _read_with(backend, NEW, integration_id) == creds
    finally:
        await server.close()
        await rotator.close()


async def _read_with(backend: Backend, key: str, integration_id: str) -> dict[
        str, str]:
    """The credentials as a server holding only ``key`` reads them."""
    store = backend.store(key)
    try:
        return await store.get_credentials(integration_id)
    finally:
        await store.close()


def test_the_first_key_encrypts_and_every_key_decrypts() -> None:
    old_blob = CredentialCipher(OLD).encrypt({"a": "1"})
    cipher = CredentialCipher(f" {NEW} , {OLD} ,")
    assert cipher.decrypt(old_blob) == {"a": "1"}
    assert _opens(NEW, cipher.encrypt({"a": "2"}))
    rotated = cipher.rotate(old_blob)
    assert rotated is not None and _opens(NEW, rotated)
    assert cipher.rotate(rotated) is None
    with pytest.raises(SecretKeyError, match="CALPROXY_SECRET_KEY"):
        CredentialCipher("other").rotate(old_blob)


async def test_webhook_signing_secrets_are_rotated_too(backend: Backend, store: SqlStore) -> None:
    old_store = backend.store(OLD)
    await old_store.migrate()
    try:
        account = await old_store.create_account("Acme", {})
        user = await old_store.create_user(account.id, "exec@example.com", Role.MEMBER)
        hook = await old_store.create_webhook(user.id, user.id, "https://h.example/x",
                                              "whsec_c2VjcmV0")
    finally:
        await old_store.close()
    both = backend.store(f"{NEW},{OLD}")
    try:
        assert (await both.rotate_secrets()).rewritten == 1
        [(blob,)] = await raw(both, "SELECT secret FROM webhooks")
        assert _opens(NEW, blob) and not _opens(OLD, blob)
    finally:
        await both.close()
    new_only = backend.store(NEW)
    try:
        assert await new_only.webhook_secret(hook.id) == "whsec_c2VjcmV0"
    finally:
        await new_only.close()
