"""Each API process's live client count in Redis, for any replica's status board: written at once and every
5 s with a 15 s TTL, and deleted when the process stops."""

from __future__ import annotations

import asyncio
import json

import pytest
import redis

from api.http.status.shared_counts import LiveClientShare
from runtime.redis_names import API_LIVE_CLIENTS_PREFIX

pytestmark = pytest.mark.integration


def test_the_count_is_shared_while_the_process_runs_and_removed_when_it_stops(redis_url: str) -> None:
    counts = {"kpis": 3, "events": 0}
    client = redis.Redis.from_url(redis_url)

    async def run() -> tuple[bytes | None, int, bytes | None, bool]:
        share = LiveClientShare(redis_url, lambda: dict(counts))
        share.start()
        await asyncio.sleep(0.2)
        first, ttl = client.get(share.key), client.ttl(share.key)
        counts["events"] = 2
        await asyncio.sleep(5.2)  # the next turn
        second = client.get(share.key)
        await share.stop()
        return first, int(ttl), second, bool(client.exists(share.key))  # type: ignore[arg-type]

    first, ttl, second, left = asyncio.run(run())
    assert json.loads(first or b"null") == {"kpis": 3, "events": 0}
    assert 10 < ttl <= 15
    assert json.loads(second or b"null") == {"kpis": 3, "events": 2}
    assert not left
    assert [k.decode() for k in client.scan_iter(match=f"{API_LIVE_CLIENTS_PREFIX}*")] == []
    client.close()
