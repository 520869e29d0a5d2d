"""Several real ``calproxy serve`` processes on one fresh PostgreSQL database, in front of
the Microsoft identity + Graph emulator served from the test process.

:func:`deployment` creates the database (empty: the instances, started together, migrate
it), starts the instances with the settings a test asks for, seeds an account and users
and connects each user to Graph through the real OAuth dance on the first instance, then
stops the instances (SIGTERM, or SIGKILL where a test already killed one) and drops the
database.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp.test_utils import TestServer

from proxy.config import Settings
from proxy.store.records import Role
from proxy.store.sql import SqlStore, open_store
from tests.api.conftest import CLIENT_ID, CLIENT_SECRET, free_port
from tests.fixtures.graph_emulator import MicrosoftCloud
from tests.store.conftest import PG_URL

PLAIN = PG_URL.replace("+asyncpg", "")
ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "multi-instance-test-secret-key"


@dataclass
class Instance:
    url: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


@dataclass
class Deployment:
    instances: list[Instance]
    microsoft: MicrosoftCloud
    http: aiohttp.ClientSession
    database_url: str
    store: SqlStore
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def graph(self) -> Any:
        return self.microsoft.graph

    async def call(self, n: int, who: str, method: str, path: str,
                   **kwargs: Any) -> tuple[int, Any, aiohttp.ClientResponse]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **kwargs.pop("headers", {})}
        async with self.http.request(method, self.instances[n].url + path, headers=headers,
                                     **kwargs) as response:
            raw = await response.read()
            body = await response.json(content_type=None) if raw and response.content_type \
                == "application/json" else raw
            return response.status, body, response

    def rounds(self, email: str) -> int:
        """Upstream sync rounds of ``email``'s calendars so far (the first page of each)."""
        return sum(1 for path in self.graph.mailbox_requests.get(email, [])
                   if "/calendarView/delta" in path and "skiptoken" not in path.lower())


async def _start(n: int, env: dict[str, str]) -> Instance:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environ = {**os.environ, **env, "CALPROXY_PORT": str(port), "CALPROXY_PUBLIC_URL": url}
    process = subprocess.Popen([sys.executable, "-m", "proxy", "serve"], cwd=ROOT,
                               env=environ, stdout=subprocess.DEVNULL,
                               stderr=open(ROOT / f".multi-{n}.log", "wb"))  # noqa: SIM115
    return Instance(url, process)


async def _ready(http: aiohttp.ClientSession, instance: Instance) -> None:
    for _ in range(300):
        if instance.process.poll() is not None:
            raise RuntimeError(f"calproxy exited with {instance.process.returncode}")
        try:
            async with http.get(instance.url + "/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("calproxy did not start")


@asynccontextmanager
async def deployment(users: dict[str, int], count: int = 2,
                     **settings: str) -> AsyncIterator[Deployment]:
    """``users``: who to seed, and how many extra Graph calendars each has."""
    name = f"multi_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(PLAIN)
    await admin.execute(f"CREATE DATABASE {name}")
    database_url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    microsoft = MicrosoftCloud(CLIENT_ID, CLIENT_SECRET)
    upstream = TestServer(microsoft.app(), host="127.0.0.1")
    await upstream.start_server()
    env = {"CALPROXY_DATABASE_URL": database_url, "CALPROXY_SECRET_KEY": SECRET_KEY,
           "CALPROXY_HOST": "127.0.0.1", "CALPROXY_MS_CLIENT_ID": CLIENT_ID,
           "CALPROXY_MS_CLIENT_SECRET": CLIENT_SECRET,
           **{k: v for k, v in microsoft.settings_for(
               f"http://127.0.0.1:{upstream.port}").items()},
           **settings}
    env = {("CALPROXY_" + k.upper() if not k.startswith("CALPROXY_") else k): v
           for k, v in env.items()}
    instances = [await _start(n, env) for n in range(count)]  # together, on an empty db
    store: SqlStore | None = None
    try:
        async with aiohttp.ClientSession() as http:
            for instance in instances:
                await _ready(http, instance)
            store = await open_store(Settings(database_url=database_url, secret_key=SECRET_KEY))
            live = Deployment(instances, microsoft, http, database_url, store)
            await _seed(live, users)
            yield live
    finally:
        for instance in instances:
            if instance.process.poll() is None:
                instance.process.terminate()
        for instance in instances:
            try:
                instance.process.wait(10)
            except subprocess.TimeoutExpired:
                instance.kill()
        if store is not None:
            await store.close()
        await upstream.close()
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def _seed(live: Deployment, users: dict[str, int]) -> None:
    account = await live.store.create_account("Acme", {})
    for who, extra in users.items():
        email = f"{who}@acme.example"
        user = await live.store.create_user(account.id, email, Role.MEMBER)
        live.tokens[who] = await live.store.create_token(user.id)
        live.graph.add_mailbox(email)
        for n in range(extra):
            live.graph.add_calendar(email, f"Project {n}")
        status, body, _ = await live.call(0, who, "POST", "/v1/me/integrations",
                                          json={"service": "graph"})
        assert status == 201, body
        async with live.http.get(body["authorize_url"]) as response:
            answer = await response.json(content_type=None)
        assert response.status == 200 and answer["status"] == "connected", answer
