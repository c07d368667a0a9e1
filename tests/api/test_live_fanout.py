"""One slow wall among 200 live clients costs only itself (real `ioc api` process, Redis, websockets).

Frames go out through the engine's own `FrameSink` at 10 flushes a second; 200 clients in another
process each subscribe to everything. One of them stops reading (a wall on a bad link): the server
must keep its queue bounded, tell it `lagging` and resynchronise it, while every other client gets
every frame in order, promptly.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import psycopg
import pytest
import redis

from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.stack.manager import LocalStack
from streams.engine.frame_sink import FrameSink
from streams.frames import KpiFrame
from tests.fixtures.api import api_process
from tests.fixtures.stack import IsolatedDatabase
from tools.bench.wall_watch import WallWatcher, WatchConfig

pytestmark = pytest.mark.integration
KPIS = ("payments.cashless_share", "coverage.usable_share")
AREAS = ("67", "660", "661", "662", "663", "664", "665", "666", "667", "668")
FLUSHES_PER_SECOND = 10
SECONDS = 15


def a_round(seq: int, value: float) -> list[KpiFrame]:
    as_of = datetime.now(UTC).isoformat()
    return [
        KpiFrame(kpi, area, "5m", value, value, 100, "%", None, as_of, as_of, "load", seq + n)
        for n, (kpi, area) in enumerate((k, a) for k in KPIS for a in AREAS)
    ]


def test_a_slow_client_among_200_does_not_delay_the_others(
    stack: LocalStack, database: IsolatedDatabase, db: psycopg.Connection[tuple[object, ...]], redis_url: str
) -> None:
    key = ApiKeyRepository(db).create("wall-load", Scope.READ)
    sink = FrameSink(redis.Redis.from_url(redis_url))
    sink.write(a_round(1, 0.0), new_epoch="load")
    seq = 1 + len(KPIS) * len(AREAS)
    # A small kernel send buffer, so that the stalled client's backlog reaches the server's queue
    # (2,000 frames) within seconds rather than after megabytes.
    with api_process(stack, database, redis_url, IOC_API_SEND_BUFFER_BYTES="16384") as base_url:
        watcher = WallWatcher(WatchConfig(base_url=base_url, clients=200, slow=1), key)
        rounds = FLUSHES_PER_SECOND * SECONDS
        started = time.monotonic()
        for n in range(rounds):
            time.sleep(max(0.0, started + n / FLUSHES_PER_SECOND - time.monotonic()))
            frames = a_round(seq, float(n))
            sink.write(frames)
            seq += len(frames)
        logs = watcher.stop()

    slow, others = logs[0], logs[1:]
    sent = rounds * len(KPIS) * len(AREAS)
    delays = sorted(d for o in others for d in o.delays_ms)
    p99 = delays[int(0.99 * len(delays))]
    seen = (slow.frames, slow.lagging, slow.snapshots, round(p99))
    assert [(o.frames, o.lagging, o.seq_breaks) for o in others] == [(sent, 0, 0)] * 199, seen
    assert p99 <= 200, f"p99 of the other clients: {p99:.0f} ms; the slow one: {seen}"
    assert slow.frames < sent, seen  # it fell behind …
    assert (slow.lagging, slow.snapshots) == (1, 2), seen  # … was told so once, and got a fresh snapshot
