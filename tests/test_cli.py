"""The command line: administration commands print the created id or token last."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
from sqlalchemy import update

from proxy.config import Settings
from proxy.store.engine import write_transaction
from proxy.store.schema import accounts
from proxy.store.sql import open_store
from tests.store.conftest import PG_URL


def run(tmp_path: Path, *args: str,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CALPROXY_")}
    base.update({"CALPROXY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}",
                 "CALPROXY_SECRET_KEY": "cli-test-key"})
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "proxy", *args], capture_output=True,
                          text=True, env=base, timeout=60, check=False)


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_account_user_token(tmp_path: Path) -> None:
    account = last_line(run(tmp_path, "account", "create", "--name", "Acme",
                            "--domain", "acme.example"))
    user = last_line(run(tmp_path, "user", "create", "--account", account,
                         "--email", "Ada@Acme.example", "--admin"))
    token = last_line(run(tmp_path, "token", "create", "--email", "ada@acme.example"))
    assert account and user and token.startswith("cp_")
    assert token not in (tmp_path / "cli.sqlite3").read_bytes().decode("latin-1")
    duplicate = run(tmp_path, "user", "create", "--account", account, "--email",
                    "ada@acme.example")
    assert duplicate.returncode == 1 and "Traceback" not in duplicate.stderr


def test_configuration_errors_name_the_variable(tmp_path: Path) -> None:
    result = run(tmp_path, "token", "create", "--email", "x@y.z",
                 env={"CALPROXY_PORT": "eighty"})
    assert result.returncode == 2 and "CALPROXY_PORT" in result.stderr
    result = run(tmp_path, "serve", env={"CALPROXY_SECRET_KEY": ""})
    assert result.returncode == 2 and "CALPROXY_SECRET_KEY" in result.stderr
    result = run(tmp_path, "token", "create", "--email", "nobody@acme.example")
    assert result.returncode == 1 and "nobody@acme.example" in result.stderr


@pytest.mark.parametrize("url", ["mysql://calproxy@db.example/calproxy", "garbage"])
def test_unsupported_database_urls_are_a_configuration_error(tmp_path: Path, url: str) -> None:
    result = run(tmp_path, "account", "create", "--name", "Acme",
                 env={"CALPROXY_DATABASE_URL": url})
    assert result.returncode == 2, result.stderr
    assert "CALPROXY_DATABASE_URL" in result.stderr and "postgres://" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_plain_sqlite_url_works(tmp_path: Path) -> None:
    env = {"CALPROXY_DATABASE_URL": f"sqlite:///{tmp_path / 'plain.db'}"}
    account = last_line(run(tmp_path, "account", "create", "--name", "Acme", env=env))
    assert last_line(run(tmp_path, "user", "create", "--account", account,
                         "--email", "ada@acme.example", env=env))
    assert (tmp_path / "plain.db").exists()


async def _pg(statement: str) -> None:
    conn = await asyncpg.connect(PG_URL.replace("+asyncpg", ""))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_the_plain_postgresql_urls_work(tmp_path: Path, scheme: str) -> None:
    name = f"cli_test_{secrets.token_hex(6)}"
    asyncio.run(_pg(f"CREATE DATABASE {name}"))
    try:
        url = urlsplit(PG_URL)._replace(scheme=scheme, path=f"/{name}").geturl()
        env = {"CALPROXY_DATABASE_URL": url}
        account = last_line(run(tmp_path, "account", "create", "--name", "Acme", env=env))
        assert last_line(run(tmp_path, "user", "create", "--account", account,
                             "--email", "ada@acme.example", env=env))
    finally:
        asyncio.run(_pg(f"DROP DATABASE IF EXISTS {name}"))


def test_an_unreachable_postgresql_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        url = f"postgresql://calproxy:hunter2@127.0.0.1:{sock.getsockname()[1]}/calproxy"
        for args in (("account", "create", "--name", "Acme"), ("serve",)):
            result = run(tmp_path, *args, env={"CALPROXY_DATABASE_URL": url})
            assert result.returncode == 1, result.stderr
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and "cannot open the database" in lines[0], result.stderr
            assert "CALPROXY_DATABASE_URL" in lines[0] and "hunter2" not in lines[0]


LEGACY_ID = "-lVuXA3cmZp6kaepii-bug"  # an account id as older releases could make them


async def _account_with_legacy_id(url: str) -> None:
    """Insert an account whose stored id begins with '-' (what one id in 64 did)."""
    store = await open_store(Settings(database_url=url, secret_key="cli-test-key"))
    try:
        account = await store.create_account("Legacy", {})
        async with write_transaction(store.engine) as conn:
            await conn.execute(update(accounts).where(accounts.c.id == account.id)
                               .values(id=LEGACY_ID))
    finally:
        await store.close()


def test_an_id_beginning_with_a_dash_is_accepted_as_option_equals(tmp_path: Path) -> None:
    asyncio.run(_account_with_legacy_id(f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"))
    user = last_line(run(tmp_path, "user", "create", f"--account={LEGACY_ID}",
                         "--email", "ada@acme.example"))
    assert user and not user.startswith("-")
    token = last_line(run(tmp_path, "token", "create", "--email", "ada@acme.example"))
    assert token.startswith("cp_")
def test_token_revoke(tmp_path: Path) -> None:
    account = last_line(run(tmp_path, "account", "create", "--name", "Acme"))
    last_line(run(tmp_path, "user", "create", "--account", account, "--email", "b@acme.example"))
    token = last_line(run(tmp_path, "token", "create", "--email", "b@acme.example"))
    assert last_line(run(tmp_path, "token", "revoke", "--token", token)) == "revoked"
    again = run(tmp_path, "token", "revoke", "--token", token)
    assert again.returncode == 1 and "no such token" in again.stderr
    assert token not in again.stderr
