"""calproxy as a subprocess, with the emulators and the demo's cast, for the browser tests.

The emulators (Microsoft identity and Graph, Google, Exchange) run on a loop in a thread of
the test process, so tests can add events or forge ID tokens between steps; calproxy itself
is ``python -m proxy serve`` on a free port over a fresh SQLite file, configured by the
environment as an operator would; the cast is seeded as ``calproxy demo`` seeds it
(:mod:`proxy.demo_seed`), through calproxy's own API and the real OAuth dance.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Coroutine
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from proxy.config import Settings
from proxy.demo_seed import (
    CAST,
    MS_CLIENT,
    connect_people,
    emulator_settings,
    free_port,
    next_monday,
    seed_emulators,
    seed_people,
)
from proxy.store.sql import SqlStore, open_store
from tests.fixtures import ews_emulator
from tests.fixtures.ews_emulator import EwsEmulator
from tests.fixtures.google_emulator import GoogleEmulator
from tests.fixtures.graph_emulator import MicrosoftCloud

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
EMAILS = {person.key: person.email for person in CAST}


def settings_env(settings: Settings) -> dict[str, str]:
    """The ``CALPROXY_*`` variables that give ``settings`` to a ``calproxy serve``."""
    env = {}
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if value is not None and value != f.default:
            env[f.metadata["env"]] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


class Served:
    """The emulators in a thread, calproxy in a subprocess, and the cast seeded."""

    def __init__(self, workdir: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.microsoft = MicrosoftCloud(*MS_CLIENT)
        self.google = GoogleEmulator()
        self.exchange = EwsEmulator()
        self._runners: list[web.AppRunner] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        urls = [self.run(self._serve(app)) for app in
                (self.microsoft.app(), self.google.app(), self.exchange.app())]
        self.microsoft_origin, self.google_url = urls[0], urls[1]
        seed_emulators(self.microsoft, self.google, self.exchange,
                       next_monday(datetime.now(UTC)))
        self.settings = Settings(
            database_url=f"sqlite+aiosqlite:///{workdir / 'calproxy.sqlite3'}",
            host="127.0.0.1", port=self.port, secret_key="browser-tests-secret-key",
            **emulator_settings(urls[0], urls[1], self.microsoft))
        self._log = (workdir / "calproxy.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "proxy", "serve"], cwd=ROOT, stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("CALPROXY_")},
                 **settings_env(self.settings)})
        self._wait_until_up(workdir)
        self.store: SqlStore = self.run(open_store(self.settings))
        self.tokens = self.run(seed_people(self.store))
        self.run(connect_people(self.url, self.tokens, urls[2] + ews_emulator.PATH))

    async def _serve(self, app: web.Application) -> str:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        self._runners.append(runner)
        return f"http://127.0.0.1:{port}"

    def _wait_until_up(self, workdir: Path) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + "/portal/sign-in", timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        raise RuntimeError("calproxy did not start:\n" + (workdir / "calproxy.log").read_text())

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the emulators' loop (store calls, seeding) and wait."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)

    def login_link(self, who: str) -> str:
        """A one-time portal sign-in link for ``who`` (a cast key or an email)."""
        email = EMAILS.get(who, who)

        async def make() -> str:
            user = await self.store.get_user_by_email(email)
            assert user is not None, email
            return await self.store.create_login_link(user.id, timedelta(minutes=10))

        return f"{self.url}/portal/login/{self.run(make())}"

    def api(self, who: str, method: str, path: str,
            body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """A JSON API call as ``who`` (by bearer token)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.tokens[who]}",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()

        async def stop() -> None:
            await self.store.close()
            for runner in reversed(self._runners):
                await runner.cleanup()

        self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(15)
