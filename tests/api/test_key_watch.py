"""The API key watch of one API process, against the real Redis and database: an announced revocation ends
the key's sessions at once (long before any recheck), and only that key's."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
import redis
from psycopg_pool import ConnectionPool

from api.http.auth.keys import ApiKeyRepository, Scope
from api.http.auth.revocations import announce_revoked
from api.http.live.close_codes import CLOSE_REVOKED
from api.http.live.key_watch import KeyWatch
from runtime.redis_names import API_KEYS_REVOKED_CHANNEL
from tests.fixtures.stack import IsolatedDatabase

pytestmark = pytest.mark.integration


class RecordedSocket:
    """Stands in for the websocket the watch closes: it records how."""

    closed_with: tuple[int, str] | None = None

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)


def test_an_announced_revocation_ends_that_key_s_sessions_without_waiting_for_the_recheck(
    database: IsolatedDatabase, db: psycopg.Connection[tuple[object, ...]], redis_url: str
) -> None:
    keys = ApiKeyRepository(db)
    keys.create("wall-a", Scope.READ)
    keys.create("wall-b", Scope.READ)
    client = redis.Redis.from_url(redis_url)

    async def run() -> None:
        pool: ConnectionPool[psycopg.Connection[tuple[object, ...]]] = ConnectionPool(
            database.url, min_size=1, max_size=2, kwargs={"autocommit": True}, open=False
        )
        pool.open(wait=True)
        watch = KeyWatch(redis_url, pool, recheck_seconds=3600)  # no recheck within this test
        watch.start()
        sockets = {"wall-a": RecordedSocket(), "wall-b": RecordedSocket()}
        forever = asyncio.Event()
        guards = {name: asyncio.create_task(watch.guard(s, name, forever.wait())) for name, s in sockets.items()}  # type: ignore[arg-type]
        try:
            while client.pubsub_numsub(API_KEYS_REVOKED_CHANNEL)[0][1] < 1:
                await asyncio.sleep(0.02)
            assert keys.revoke("wall-a")
            assert announce_revoked(client, "wall-a")
            await asyncio.wait_for(guards["wall-a"], 10)
            assert sockets["wall-a"].closed_with == (CLOSE_REVOKED, "API key revoked")
            assert not guards["wall-b"].done()
            assert sockets["wall-b"].closed_with is None
            assert not await watch.admits("wall-a")
            assert await watch.admits("wall-b")
        finally:
            guards["wall-b"].cancel()
            await asyncio.gather(*guards.values(), return_exceptions=True)
            await watch.stop()
            pool.close()

    asyncio.run(run())
