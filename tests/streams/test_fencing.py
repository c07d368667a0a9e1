"""Fencing by lease token, on the real stores: an engine that lost the lease writes nothing, in Redis or PostgreSQL.

The whole failover, with processes, walls and a TCP proxy cutting Redis, is in
`tests/verify/test_faults_engine_failover.py`; here each write path is checked on its own.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
import redis

from runtime.redis_names import ALERTS_CHANNEL, KPI_CURRENT, KPI_EPOCH, KPI_FRAMES_CHANNEL, KPI_FRAMES_STREAM
from streams.alerts.evaluator import AlertOpened
from streams.alerts.rules import AlertRule
from streams.engine.fencing import FencedOut, WriteFence, raise_token
from streams.engine.frame_sink import FrameSink, LeaseNotHeld
from streams.engine.frames_out import iso_utc
from streams.engine.history_writer import HistoryWriter
from streams.engine.lease import Lease, RedisLeaseStore
from streams.engine.metrics import EngineMetrics
from streams.frames import KpiFrame
from streams.windows import MINUTE_US
from tests.fixtures.stack import IsolatedDatabase
from tests.streams.kpi_data import NOW_US

pytestmark = pytest.mark.integration
RULE = AlertRule(id="fenced", kpi="payments.tx_count", window="1h", areas=("67",), above=1.0)


def _frame(seq: int, value: float, epoch: str) -> KpiFrame:
    return KpiFrame(
        kpi="payments.tx_count", area="67", window="1h", value=value, numerator=None, denominator=None, unit="",
        target=None, last_event_at=None, as_of=iso_utc(NOW_US), epoch=epoch, seq=seq,
    )  # fmt: skip


def _counts(db: psycopg.Connection[tuple[object, ...]]) -> tuple[int, ...]:
    row = db.execute(
        "SELECT (SELECT count(*) FROM kpi_snapshots), (SELECT count(*) FROM alerts),"
        " (SELECT count(*) FROM payment_rollup_1m) + (SELECT count(*) FROM coverage_rollup_1m)"
    ).fetchone()
    assert row is not None
    return tuple(int(str(v)) for v in row)


def _writer(database: IsolatedDatabase, fence: WriteFence, metrics: EngineMetrics) -> HistoryWriter:
    return HistoryWriter(database.connect, metrics, clock=lambda: NOW_US / 1e6 + 3600, fence=fence)


def _offer_everything(writer: HistoryWriter) -> None:
    writer.offer_snapshot(NOW_US, [("payments.tx_count", "67", "1h", 5.0, None, None, None)])
    writer.offer_alerts([AlertOpened(RULE, "67", 5.0, "payments.tx_count above 1", NOW_US)])
    writer.mark_minutes({NOW_US // MINUTE_US - 1})


def test_an_engine_whose_token_was_raised_past_writes_no_snapshot_rollup_or_alert(
    database: IsolatedDatabase, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    old, new = WriteFence(), WriteFence()
    old.token = raise_token(database.connect, "old-engine")
    new.token = raise_token(database.connect, "new-engine")
    assert new.token == old.token + 1
    metrics = EngineMetrics()
    stale = _writer(database, old, metrics)
    before = _counts(db)
    _offer_everything(stale)
    with pytest.raises(FencedOut, match=f"fencing token {old.token} is no longer current"):
        stale.write_pending()
    stale.close()
    assert _counts(db) == before
    assert metrics.fenced_writes.labels("database")._value.get() == 1

    current = _writer(database, new, EngineMetrics())
    _offer_everything(current)
    current.write_pending()
    current.close()
    snapshots, alerts, _ = _counts(db)
    assert (snapshots, alerts) == (before[0] + 1, before[1] + 1)
    row = db.execute("SELECT token, holder FROM engine_lease").fetchone()
    assert row == (new.token, "new-engine")


def test_a_standby_writes_nothing_and_the_raise_waits_for_a_write_under_way(
    database: IsolatedDatabase, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    standby = _writer(database, WriteFence(), EngineMetrics())  # no token: standby
    before = _counts(db)
    _offer_everything(standby)
    standby.write_pending()
    assert _counts(db) == before

    fence = WriteFence()
    fence.token = raise_token(database.connect, "writer")
    raised: list[tuple[int, float]] = []

    def take_over() -> None:
        token = raise_token(database.connect, "b")
        raised.append((token, time.monotonic()))

    with database.connect() as writer_conn, writer_conn.transaction():
        fence.check(writer_conn)  # holds the row FOR SHARE until this transaction ends
        raising = threading.Thread(target=take_over)
        raising.start()
        time.sleep(0.5)
        assert raised == []  # the takeover waits for the write under the old token
        committed = time.monotonic()
    raising.join(5)
    assert raised
    assert raised[0][0] == fence.token + 1
    assert raised[0][1] >= committed
    with database.connect() as conn, pytest.raises(FencedOut), conn.transaction():
        fence.check(conn)


def test_frames_and_heartbeats_under_a_lost_lease_are_refused_by_redis(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    listener = client.pubsub()
    listener.subscribe(KPI_FRAMES_CHANNEL, ALERTS_CHANNEL)
    store = RedisLeaseStore(client)
    a = Lease(store, "a", ttl_seconds=0.6, renew_seconds=0.2)
    b = Lease(store, "b", ttl_seconds=0.6, renew_seconds=0.2)
    a.step()
    a_token = a.token()
    assert a_token is not None
    sink = FrameSink(client)
    sink.lease_token = a_token
    sink.write([_frame(1, 5.0, "epoch-a")], new_epoch="epoch-a")
    sink.heartbeat(iso_utc(NOW_US))
    assert client.get(KPI_EPOCH) == b"epoch-a"
    assert client.xlen(KPI_FRAMES_STREAM) == 1
    assert client.hlen(KPI_CURRENT) == 1

    time.sleep(0.7)  # a stops renewing (cut off, or paused): the lease lapses and b takes it
    b.step()
    assert b.token() is not None
    assert a.token() is None
    opened = AlertOpened(RULE, "67", 9.0, "payments.tx_count above 1", NOW_US)
    with pytest.raises(LeaseNotHeld):
        sink.write([_frame(2, 9.0, "epoch-a")], new_epoch="epoch-a2")
    with pytest.raises(LeaseNotHeld):
        sink.announce_alerts([opened])
    with pytest.raises(LeaseNotHeld):
        sink.heartbeat(iso_utc(NOW_US))
    # Nothing of the refused flush reached Redis: epoch, current values, replay stream, channels.
    assert client.get(KPI_EPOCH) == b"epoch-a"
    assert client.xlen(KPI_FRAMES_STREAM) == 1
    assert KpiFrame.decode(client.hget(KPI_CURRENT, "payments.tx_count|67|1h")).value == 5.0  # type: ignore[arg-type]
    messages = []
    while (message := listener.get_message(timeout=0.2)) is not None:
        if message["type"] == "message":
            messages.append(message["channel"])
    assert messages == [KPI_FRAMES_CHANNEL.encode()]  # the first flush only
    listener.close()
    client.close()


def test_the_flush_script_writes_every_value_of_a_full_epoch(redis_url: str) -> None:
    """An epoch's first flush carries every value (some 14,000 keys): more than Lua's unpack takes at once."""
    client = redis.Redis.from_url(redis_url)
    assert RedisLeaseStore(client).acquire("t", 5000)
    sink = FrameSink(client)
    sink.lease_token = "t"
    frames = [_frame(i + 1, float(i), "big")._replace(area=f"a{i}") for i in range(15_000)]
    sink.write(frames, new_epoch="big")
    assert client.hlen(KPI_CURRENT) == 15_000
    assert client.get(KPI_EPOCH) == b"big"
    client.close()
