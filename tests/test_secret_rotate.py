"""`calproxy secret rotate` as an operator runs it: count on the last line, old key
removable afterwards (raw rows checked), clear errors for a wrong or missing key."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from proxy.config import Settings
from proxy.core.model import Permissions, Service
from proxy.store.crypto import fernet_key
from proxy.store.records import IntegrationStatus, Role
from proxy.store.sql import open_store
from tests.test_cli import run

OLD, NEW = "the old key", "the new key"


def _seed(tmp_path: Path, key: str, count: int) -> dict[str, dict[str, str]]:
    async def seed() -> dict[str, dict[str, str]]:
        url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
        store = await open_store(Settings(database_url=url, secret_key=key))
        try:
            account = await store.create_account("Acme", {})
            user = await store.create_user(account.id, f"u{count}@acme.example", Role.MEMBER)
            out = {}
            for n in range(count):
                creds = {"refresh_token": f"rt-{key}-{n}"}
                integration = await store.create_integration(
                    user.id, list(Service)[n], IntegrationStatus.CONNECTED, Permissions(),
                    Permissions(), credentials=creds)
                out[integration.id] = creds
            return out
        finally:
            await store.close()
    return asyncio.run(seed())


def _blobs(tmp_path: Path) -> dict[str, str]:
    with sqlite3.connect(tmp_path / "cli.sqlite3") as db:
        return dict(db.execute("SELECT integration_id, blob FROM credentials").fetchall())


def _opens(key: str, blob: str) -> dict[str, str] | None:
    try:
        return dict(json.loads(Fernet(fernet_key(key)).decrypt(blob.encode())))
    except InvalidToken:
        return None


def test_rotate_prints_the_count_and_the_old_key_can_go(tmp_path: Path) -> None:
    seeded = _seed(tmp_path, OLD, 3)
    done = run(tmp_path, "secret", "rotate", env={"CALPROXY_SECRET_KEY": f"{NEW},{OLD}"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "3"
    blobs = _blobs(tmp_path)
    assert {i: _opens(NEW, b) for i, b in blobs.items()} == seeded  # raw rows, new key only
    assert all(_opens(OLD, b) is None for b in blobs.values())
    again = run(tmp_path, "secret", "rotate", env={"CALPROXY_SECRET_KEY": NEW})
    assert again.returncode == 0 and again.stdout.strip().splitlines()[-1] == "0"


def test_a_wrong_key_is_reported_and_loses_nothing(tmp_path: Path) -> None:
    _seed(tmp_path, OLD, 2)
    before = _blobs(tmp_path)
    done = run(tmp_path, "secret", "rotate", env={"CALPROXY_SECRET_KEY": "wrong"})
    assert done.returncode == 1
    assert "CALPROXY_SECRET_KEY" in done.stderr and "2 stored secret" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stdout.strip().splitlines()[-1] == "0"
    assert _blobs(tmp_path) == before


def test_rows_of_a_lost_key_stay_while_the_rest_rotate(tmp_path: Path) -> None:
    seeded = _seed(tmp_path, OLD, 2)
    lost = _seed(tmp_path, "lost", 1)
    lost_blob = _blobs(tmp_path)[next(iter(lost))]
    done = run(tmp_path, "secret", "rotate", env={"CALPROXY_SECRET_KEY": f"{NEW},{OLD}"})
    assert done.returncode == 1 and "1 stored secret" in done.stderr
    assert done.stdout.strip().splitlines()[-1] == "2"
    blobs = _blobs(tmp_path)
    assert blobs[next(iter(lost))] == lost_blob
    assert {i: _opens(NEW, blobs[i]) for i in seeded} == seeded


def test_a_missing_key_names_the_variable(tmp_path: Path) -> None:
    done = run(tmp_path, "secret", "rotate", env={"CALPROXY_SECRET_KEY": ""})
    assert done.returncode == 2 and "CALPROXY_SECRET_KEY" in done.stderr
    assert "Traceback" not in done.stderr
