"""The KPI engine end to end: MQTT → ingest → stored-events stream → engine → frames on Redis (real services)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import redis

from deploy.stack.manager import LocalStack
from ingest.service.stored_events_publisher import StoredEventsPublisher
from runtime.redis_names import ALERTS_CHANNEL
from streams.alerts.rules import AlertRule
from streams.alerts.store import AlertNotFound, AlertStore
from streams.engine.rollups import ROLLUPS
from streams.frames import KpiFrame
from tests import factories
from tests.fixtures.ingest import Publisher, RunningIngest, count_rows, wait_for
from tests.fixtures.kpi_sql import sql_mismatches
from tests.fixtures.proxy import TcpProxy
from tests.fixtures.stack import IsolatedDatabase, cli_environment
from tests.fixtures.streams import RunningEngine, current_frames
from tests.streams.test_history import fresh_rollups, rollup_rows

pytestmark = pytest.mark.integration
AREAS = ("24611", "24615", "24667", "663")


def publish_mix(publishers: dict[str, Publisher], rng: random.Random, count: int) -> int:
    """Payments, dossiers and samples in pilot areas, a few seconds old; returns the succeeded payments."""
    succeeded = 0
    now = datetime.now(UTC)
    for n in range(count):
        at = now - timedelta(seconds=rng.uniform(2, 40))
        area = rng.choice(AREAS)
        kind = n % 3
        if kind == 0:
            outcome = rng.choice(("succeeded", "succeeded", "failed"))
            succeeded += outcome == "succeeded"
            body = factories.transaction(
                area_code=area, at=at, outcome=outcome, method=rng.choice(("cash", "qr", "card")),
                sector=rng.choice(("health", "water")), amount_vnd=rng.randrange(10_000, 900_000),
            )  # fmt: skip
            publishers["payments"].client.publish(publishers["payments"].topic("transaction"), factories.encode(body))
        elif kind == 1:
            body = factories.dossier(
                area_code=area, at=at, channel=rng.choice(("online", "one_stop_desk")), e_certified=rng.random() < 0.7
            )
            publishers["portal"].client.publish(publishers["portal"].topic("dossier"), factories.encode(body))
        else:
            body = factories.sample(
                area_code=area, at=at, download_mbps=round(rng.uniform(0.5, 40), 2),
                latency_ms=round(rng.uniform(20, 400), 1),
            )  # fmt: skip
            publishers["coverage"].client.publish(publishers["coverage"].topic("sample"), factories.encode(body))
    return succeeded


def frames_match_sql(db: psycopg.Connection[tuple[object, ...]], frames: dict[str, KpiFrame]) -> int:
    """Asserts every KPI frame equals its SQL definition at the frame's own window; returns how many."""
    assert sql_mismatches(db, list(frames.values())) == []
    return len(frames)


def metric(running: RunningEngine, name: str, **labels: str) -> float | None:
    return running.engine.metrics.registry.get_sample_value(name, labels)


def _value(url: str, key: str) -> float | None:
    frame = current_frames(url).get(key)
    return None if frame is None else frame.value


def _province_tx_count(url: str) -> float | None:
    return _value(url, "payments.tx_count|67|today")


@pytest.fixture
def publishers(register_publisher: Callable[..., Publisher]) -> dict[str, Publisher]:
    # At the province: they report for communes and a district across it (AREAS).
    return {source: register_publisher(source, "67") for source in ("payments", "portal", "coverage")}


def test_live_frames_equal_the_sql_definitions_and_survive_an_engine_restart(
    database: IsolatedDatabase,
    db: psycopg.Connection[tuple[object, ...]],
    redis_url: str,
    start_ingest: Callable[..., RunningIngest],
    start_engine: Callable[..., RunningEngine],
    publishers: dict[str, Publisher],
) -> None:
    start_ingest(stored_events=StoredEventsPublisher(redis_url, producer="ingest-under-test"))
    first = start_engine()
    succeeded = publish_mix(publishers, random.Random(5), 150)
    assert wait_for(lambda: count_rows(database, "payment_transactions") == 50)
    assert wait_for(lambda: _province_tx_count(redis_url) == succeeded)
    assert wait_for(lambda: count_rows(database, "coverage_samples") == 50)
    assert wait_for(first.probe.settled)
    statuses = count_rows(database, "publisher_status")  # publishers may announce themselves online
    assert metric(first, "ioc_streams_events_applied_total") == 150 + statuses  # live, from the stream
    before = current_frames(redis_url)
    assert frames_match_sql(db, before) == len(before)
    assert {f.area for f in before.values()} >= {"67", "660", "663", "24611", "24615", "24667"}
    assert sorted(f.seq for f in before.values()) == sorted(set(f.seq for f in before.values()))

    first.stop()
    # Its history: rollups equal to the raw events aggregated afresh, and the last values as a snapshot.
    assert {table: rollup_rows(db, table) for table, _ in ROLLUPS} == fresh_rollups(db)
    snapshot = db.execute(  # each key's latest row since the last full snapshot (they hold what changed)
        "SELECT DISTINCT ON (kpi, area_code, window_name) kpi, area_code, window_name, value, numerator,"
        " denominator, target, held FROM kpi_snapshots"
        " WHERE at >= (SELECT max(at) FROM kpi_snapshot_runs WHERE full_snapshot)"
        " ORDER BY kpi, area_code, window_name, at DESC"
    ).fetchall()
    assert {f"{k}|{a}|{w}": tuple(rest[:4]) for k, a, w, *rest in snapshot if rest[4]} == {
        key: (f.value, f.numerator, f.denominator, f.target) for key, f in before.items()
    }
    second = start_engine()
    assert wait_for(lambda: current_frames(redis_url) and next(iter(current_frames(redis_url).values())).epoch
                    != next(iter(before.values())).epoch)  # fmt: skip
    assert wait_for(second.probe.settled)
    after = current_frames(redis_url)
    assert metric(second, "ioc_streams_events_applied_total") == 0  # all of it came from the rebuild

    def numbers(frames: dict[str, KpiFrame]) -> dict[str, tuple[object, ...]]:
        return {k: (f.value, f.numerator, f.denominator, f.target) for k, f in frames.items()}

    assert numbers(after) == numbers(before)
    # A frame carries the source's latest event time as of the frame; a KPI that did not change with
    # the last events kept an older one, the restart brings it up to date.
    assert all((after[k].last_event_at or "") >= (f.last_event_at or "") for k, f in before.items())


def test_a_gap_in_the_stream_makes_the_engine_rebuild_and_stay_exact(
    database: IsolatedDatabase,
    db: psycopg.Connection[tuple[object, ...]],
    redis_url: str,
    start_ingest: Callable[..., RunningIngest],
    start_engine: Callable[..., RunningEngine],
    publishers: dict[str, Publisher],
) -> None:
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    proxy = TcpProxy(port)
    via_proxy = redis_url.replace(f":{port}/", f":{proxy.port}/")
    try:
        stored_events = StoredEventsPublisher(via_proxy, producer="ingest-under-test", pause_seconds=0.5)
        start_ingest(stored_events=stored_events)
        running = start_engine()
        rng = random.Random(8)
        succeeded = publish_mix(publishers, rng, 30)
        assert wait_for(lambda: _province_tx_count(redis_url) == succeeded)

        proxy.cut()  # ingest cannot reach Redis: it stores and skips publishing
        succeeded += publish_mix(publishers, rng, 60)
        assert wait_for(lambda: count_rows(database, "payment_transactions") == 30)
        assert stored_events.skipped >= 1
        proxy.restore()
        assert wait_for(lambda: _province_tx_count(redis_url) == succeeded, timeout=2) is False  # nothing tells it yet

        succeeded += publish_mix(publishers, rng, 3)  # the next entry shows the jump in pseq
        assert wait_for(lambda: _province_tx_count(redis_url) == succeeded)
        assert metric(running, "ioc_streams_rebuilds_total", reason="gap") == 1
        assert wait_for(running.probe.settled)
        frames = current_frames(redis_url)
        assert frames_match_sql(db, frames) == len(frames)
    finally:
        proxy.close()


def test_an_alert_opens_is_acknowledged_and_resolves_itself(
    db: psycopg.Connection[tuple[object, ...]],
    redis_url: str,
    start_ingest: Callable[..., RunningIngest],
    start_engine: Callable[..., RunningEngine],
    publishers: dict[str, Publisher],
) -> None:
    rule = AlertRule(id="cash-heavy", kpi="payments.cashless_share", window="5m", levels=("province",), below=50)
    start_ingest(stored_events=StoredEventsPublisher(redis_url, producer="ingest-under-test"))
    start_engine(rules=[rule])
    payments = publishers["payments"]

    def pay(method: str, count: int) -> None:
        for _ in range(count):
            body = factories.transaction(area_code="24611", method=method, amount_vnd=100_000)
            payments.client.publish(payments.topic("transaction"), factories.encode(body))

    def states() -> list[tuple[object, ...]]:
        return db.execute("SELECT id, state, area_code, severity, message FROM alerts ORDER BY id").fetchall()

    notices = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
    notices.subscribe(ALERTS_CHANNEL)
    pay("cash", 3)
    assert wait_for(lambda: len(states()) == 1)
    [(alert_id, state, area, severity, message)] = states()
    assert (state, area, severity) == ("open", "67", "warning")
    assert message == "payments.cashless_share (5m) in 67 is 0, below 50"
    message_opened = message
    AlertStore(db).acknowledge(int(str(alert_id)), "on-call", datetime.now(UTC))
    with pytest.raises(AlertNotFound):
        AlertStore(db).acknowledge(int(str(alert_id)), "on-call", datetime.now(UTC))  # not open any more

    pay("qr", 4)  # 4 of 7 payments without cash: 57 %
    assert wait_for(lambda: states()[0][1] == "resolved")
    history = AlertStore(db).history(int(str(alert_id)))
    assert [(state, actor) for _, state, actor, _ in history] == [
        ("open", "engine"),
        ("acknowledged", "on-call"),
        ("resolved", "engine"),
    ]
    assert len(states()) == 1
    received: list[dict[str, object]] = []
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:  # the subscription's own reply reads as None: keep listening
        message = notices.get_message(timeout=0.2)
        if message is not None:
            received.extend(json.loads(message["data"]))
    notices.close()
    assert [(n["change"], n["rule"], n["area"]) for n in received] == [
        ("opened", "cash-heavy", "67"),
        ("resolved", "cash-heavy", "67"),
    ]
    assert received[0]["message"] == message_opened


def test_a_replayed_dead_letter_reaches_the_kpis_without_a_rebuild(
    stack: LocalStack,
    database: IsolatedDatabase,
    redis_url: str,
    start_ingest: Callable[..., RunningIngest],
    start_engine: Callable[..., RunningEngine],
    publishers: dict[str, Publisher],
) -> None:
    start_ingest(stored_events=StoredEventsPublisher(redis_url, producer="ingest-under-test"))
    running = start_engine()
    payments = publishers["payments"]
    with database.connect() as conn:
        conn.execute("UPDATE publishers SET disabled_at = now() WHERE id = %s", (payments.id,))
    payments.client.publish(payments.topic("transaction"), factories.encode(factories.transaction()))
    assert wait_for(lambda: count_rows(database, "dead_letters") == 1)
    assert wait_for(lambda: _value(redis_url, "ops.dead_letters|67|5m") == 1)  # counted by arrival time
    with database.connect() as conn:
        conn.execute("UPDATE publishers SET disabled_at = NULL WHERE id = %s", (payments.id,))

    env = cli_environment(stack, IOC_DATABASE_URL=database.url, IOC_REDIS_URL=redis_url)
    replayed = subprocess.run(
        [sys.executable, "-m", "cli", "dead-letters", "replay", "--reason", "publisher_disabled"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert replayed.returncode == 0, replayed.stderr
    assert wait_for(lambda: _province_tx_count(redis_url) == 1)
    assert metric(running, "ioc_streams_rebuilds_total", reason="start") == 1
    assert metric(running, "ioc_streams_rebuilds_total", reason="gap") is None
