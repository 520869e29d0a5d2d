"""A live calproxy for the browser tests, served from a thread of the test process.

Playwright's sync API cannot run inside an asyncio loop, so the server (the API tests'
harness: a real store, the memory provider behind the OAuth services and the Microsoft
identity emulator doing the OAuth dance) runs its own loop in a background thread, and the
tests talk to it over loopback HTTP like any browser or API client.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from tests.api.conftest import Live, running, seed_world

T = TypeVar("T")


class Site:
    """calproxy with the demo's cast, running until :meth:`close`."""

    def __init__(self, workdir: Path, prepare: Callable[[Live], None] | None = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self.live: Live | None = None
        self._thread = threading.Thread(target=self._serve, args=(workdir, prepare),
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(60) or self._failure is not None:
            raise RuntimeError("calproxy did not start") from self._failure

    def _serve(self, workdir: Path, prepare: Callable[[Live], None] | None) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main(workdir, prepare))

    async def _main(self, workdir: Path, prepare: Callable[[Live], None] | None) -> None:
        self._stop = asyncio.Event()
        try:
            async with running(f"sqlite+aiosqlite:///{workdir / 'calproxy.sqlite3'}") as live:
                self.live = await seed_world(live)
                if prepare is not None:
                    prepare(live)
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:  # reported to the starting thread
            self._failure = exc
            self._ready.set()

    @property
    def url(self) -> str:
        assert self.live is not None
        return self.live.url

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the server's loop (store calls) and wait for it."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    def login_link(self, email: str) -> str:
        """A one-time portal sign-in link, as ``calproxy login-link`` prints it."""
        assert self.live is not None
        store = self.live.store

        async def make() -> str:
            user = await store.get_user_by_email(email)
            assert user is not None, email
            return await store.create_login_link(user.id, timedelta(minutes=10))

        return f"{self.url}/portal/login/{self.run(make())}"

    def api(self, who: str, method: str, path: str,
            body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """A JSON API call as ``who`` (by bearer token)."""
        assert self.live is not None
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.live.tokens[who]}",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def close(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
