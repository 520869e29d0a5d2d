"""Relays: the store's change notices carried to every other instance (DESIGN §10).

Each instance announces its committed writes to its own :class:`~proxy.store.changes.
Changes` hub; a relay publishes them to the other instances, which hand them to their
hub with :meth:`~proxy.store.changes.Changes.deliver`, so that their caches (feed
renderings, read caches, principals) drop what changed, and instances waiting for another
instance's sync round wake up at once.

* :class:`PostgresRelay`: ``LISTEN/NOTIFY`` on a dedicated asyncpg connection (the
  default on PostgreSQL).
* :class:`RedisRelay`: Redis pub/sub (``CALPROXY_REDIS_URL``), with the ``redis``
  package's asyncio client.

The channel is named after the database and schema the store lives in (a hash of them),
so deployments (and tests) sharing a PostgreSQL server or a Redis never hear each other.
A message is ``origin|topic|key``; an instance ignores its own. Publishing never blocks a
write: notices are queued and sent by a background task; a lost connection is reopened
(notices queued meanwhile are sent after it, and caches hold nothing for long anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.store.changes import Change, Changes, Topic

log = logging.getLogger(__name__)
#: seconds between checks that the listening connection is still there
WATCH_SECONDS = 2.0
#: a closing relay sends what is queued for at most this long
FLUSH_SECONDS = 2.0


async def database_identity(engine: AsyncEngine) -> str:
    """Names the data this store holds: database and schema on PostgreSQL, the file on
    SQLite (both hashed into channel names)."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            row = (await conn.execute(text("SELECT current_database(), current_schema()"))).one()
        return f"postgresql/{make_url(str(engine.url)).host}/{row[0]}/{row[1]}"
    return f"sqlite/{engine.url.database}"


def channel_name(identity: str) -> str:
    return "calproxy_changes_" + hashlib.sha256(identity.encode()).hexdigest()[:24]


class _Relay:
    """What both relays share: the queue, the sender task, decoding and delivery."""

    def __init__(self, changes: Changes, origin: str, channel: str) -> None:
        self.changes, self.origin, self.channel = changes, origin, channel
        self._queue: asyncio.Queue[Change] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._sending = False

    def publish(self, change: Change) -> None:
        self._queue.put_nowait(change)

    async def flush(self) -> None:
        if self._queue.qsize() == 0 and not self._sending:
            return  # the common case, a read: nothing to wait for
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), FLUSH_SECONDS)

    def _payload(self, change: Change) -> str:
        return f"{self.origin}|{change.topic.value}|{change.key}"

    def _received(self, payload: str) -> None:
        origin, _, rest = payload.partition("|")
        topic, _, key = rest.partition("|")
        if origin == self.origin:
            return
        try:
            change = Change(Topic(topic), key)
        except ValueError:  # a newer instance's topic: nothing here caches it
            return
        self.changes.deliver(change)

    async def _send_loop(self) -> None:
        while True:
            change = await self._queue.get()
            self._sending = True
            while True:
                try:
                    await self._send(self._payload(change))
                    break
                except Exception as exc:  # reconnect and try the same notice again
                    log.warning("change relay could not send: %s", type(exc).__name__)
                    await asyncio.sleep(0.5)
                    with contextlib.suppress(Exception):
                        await self._reconnect()
            self._sending = False
            self._queue.task_done()

    async def _send(self, payload: str) -> None:
        raise NotImplementedError

    async def _reconnect(self) -> None:
        raise NotImplementedError

    async def _disconnect(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        await self.flush()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.changes.relay = None
        with contextlib.suppress(Exception):
            await self._disconnect()


class PostgresRelay(_Relay):
    def __init__(self, changes: Changes, origin: str, channel: str, dsn: str,
                 server_settings: dict[str, str]) -> None:
        super().__init__(changes, origin, channel)
        self.dsn, self.server_settings = dsn, server_settings
        self._conn: Any = None

    async def start(self) -> None:
        await self._reconnect()
        self._tasks = [asyncio.create_task(self._send_loop()),
                       asyncio.create_task(self._watch())]

    async def _reconnect(self) -> None:
        if self._conn is not None and not self._conn.is_closed():
            return
        self._conn = await asyncpg.connect(self.dsn, server_settings=self.server_settings)
        await self._conn.add_listener(self.channel, self._notified)

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._received(payload)

    async def _send(self, payload: str) -> None:
        await self._reconnect()
        await self._conn.execute("SELECT pg_notify($1, $2)", self.channel, payload)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:
                await self._reconnect()
            except Exception as exc:
                log.warning("change relay lost PostgreSQL: %s", type(exc).__name__)

    async def _disconnect(self) -> None:
        if self._conn is not None:
            await self._conn.close()


class RedisRelay(_Relay):
    def __init__(self, changes: Changes, origin: str, channel: str, url: str) -> None:
        super().__init__(changes, origin, channel)
        self.url = url
        self._client: Any = None

    async def start(self) -> None:
        import redis.asyncio as redis

        self._client = redis.from_url(self.url)
        pubsub = self._client.pubsub()
        await pubsub.subscribe(self.channel)
        self._pubsub = pubsub
        self._tasks = [asyncio.create_task(self._send_loop()),
                       asyncio.create_task(self._listen())]

    async def _listen(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True,
                                                         timeout=1.0)
            except Exception as exc:  # the client reconnects on the next call
                log.warning("change relay lost Redis: %s", type(exc).__name__)
                await asyncio.sleep(0.5)
                continue
            if message is not None and message.get("type") == "message":
                data = message["data"]
                self._received(data.decode() if isinstance(data, bytes) else str(data))

    async def _send(self, payload: str) -> None:
        await self._client.publish(self.channel, payload)

    async def _reconnect(self) -> None:
        return None  # redis-py reconnects by itself

    async def _disconnect(self) -> None:
        await self._pubsub.aclose()
        await self._client.aclose()


async def start_relay(engine: AsyncEngine, changes: Changes, origin: str,
                      redis_url: str | None, search_path: str | None) -> _Relay | None:
    """The relay this store's deployment uses (None for SQLite without Redis)."""
    if redis_url is None and engine.dialect.name != "postgresql":
        return None
    channel = channel_name(await database_identity(engine))
    relay: PostgresRelay | RedisRelay
    if redis_url is not None:
        relay = RedisRelay(changes, origin, channel, redis_url)
    else:
        dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        relay = PostgresRelay(changes, origin, channel, dsn,
                              {"search_path": search_path} if search_path else {})
    await relay.start()
    changes.relay = relay
    return relay
