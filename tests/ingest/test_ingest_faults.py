"""No loss, no duplicate rows: through a crash, a database outage, a clean stop, and shared load."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from deploy.stack.manager import LocalStack
from deploy.stack.mosquitto import clear_session
from ingest.broker.roles import ServiceRole
from ingest.storage.spool import Spool
from tests import factories
from tests.fixtures.ingest import (
    EventStream,
    IngestAccount,
    Publisher,
    RunningIngest,
    ServiceProcess,
    count_rows,
    stored_event_ids,
    wait_for,
)
from tests.fixtures.mqtt import BlockingClient, open_client, unique_publisher_id
from tests.fixtures.stack import IsolatedDatabase

pytestmark = pytest.mark.integration


def _assert_exactly_once(database: IsolatedDatabase, stream: EventStream) -> None:
    assert wait_for(lambda: count_rows(database, "payment_transactions") >= stream.count, timeout=90)
    stored = stored_event_ids(database)
    assert len(stored) == stream.count  # 0 duplicated rows
    assert set(stored) == set(stream.event_ids)  # 0 lost
    assert count_rows(database, "dead_letters") == 0


def test_postgresql_stopped_the_spool_takes_the_backlog_off_the_broker_and_gives_it_back(
    stack: LocalStack,
    database: IsolatedDatabase,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path / "spool", 100_000_000)
    spool.open()
    ingest = start_ingest(spool=spool, ingest_spool_after_seconds=1.0)
    metric = ingest.service.metrics.registry.get_sample_value
    payments = register_publisher("payments")
    stream = EventStream(payments, count=6000, rate=500).start()
    assert wait_for(lambda: count_rows(database, "payment_transactions") > 200, timeout=30)
    stack.postgres.stop()
    try:
        time.sleep(8)
        health = ingest.service.health()
        received, acknowledged = metric("ioc_ingest_received_total"), metric("ioc_ingest_acknowledged_total")
        spooled = metric("ioc_ingest_spooled_messages_total")
    finally:
        stack.postgres.start()
    # After the first second of the outage every batch went to disk and was acknowledged: the broker
    # held at most the batch being written, not the 3,500 messages sent meanwhile.
    assert received is not None
    assert acknowledged is not None
    assert spooled is not None
    assert spooled >= 3000
    assert received - acknowledged <= 1000
    assert health.status == "degraded"
    assert any(r.startswith(f"spool: {int(spooled)} acknowledged messages on local disk") for r in health.reasons)
    stream.join()
    _assert_exactly_once(database, stream)
    assert wait_for(lambda: ingest.service.health().status == "ok", timeout=10)
    assert metric("ioc_ingest_spool_drained_messages_total") == metric("ioc_ingest_spooled_messages_total")
    assert (metric("ioc_ingest_spool_messages"), metric("ioc_ingest_spool_bytes")) == (0, 0)
    assert not list((tmp_path / "spool").glob("*.batch"))


def test_sigkill_mid_stream_then_restart_loses_and_duplicates_nothing(
    database: IsolatedDatabase,
    spawned_ingest: Callable[..., ServiceProcess],
    register_publisher: Callable[..., Publisher],
) -> None:
    first = spawned_ingest()
    payments = register_publisher("payments")
    stream = EventStream(payments, count=6000, rate=2000).start()
    assert wait_for(lambda: count_rows(database, "payment_transactions") > 500, timeout=30)
    first.kill()  # SIGKILL: no flush, no acknowledgement, nothing of the shutdown runs
    partial = count_rows(database, "payment_transactions")
    second = spawned_ingest()
    try:
        stream.join()
        _assert_exactly_once(database, stream)
    finally:
        assert second.terminate() == 0
    assert 500 < partial < stream.count


def test_postgresql_stopped_for_20_seconds(
    stack: LocalStack,
    database: IsolatedDatabase,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    ingest = start_ingest()
    payments = register_publisher("payments")
    stream = EventStream(payments, count=8000, rate=250).start()
    assert wait_for(lambda: count_rows(database, "payment_transactions") > 200, timeout=30)
    stack.postgres.stop()
    stopped_at = time.monotonic()
    try:
        assert wait_for(lambda: ingest.service.health().status == "degraded", timeout=10)
        assert time.monotonic() - stopped_at <= 10
        assert ingest.service.health().database == "degraded"
        time.sleep(max(0.0, 20 - (time.monotonic() - stopped_at)))
    finally:
        stack.postgres.start()
    stream.join()
    _assert_exactly_once(database, stream)
    assert wait_for(lambda: ingest.service.health().status == "ok", timeout=10)


def test_sigterm_commits_and_acknowledges_what_it_stored(
    database: IsolatedDatabase,
    spawned_ingest: Callable[..., ServiceProcess],
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    process = spawned_ingest()
    payments = register_publisher("payments")
    stream = EventStream(payments, count=4000, rate=2000).start()
    assert wait_for(lambda: count_rows(database, "payment_transactions") > 500, timeout=30)
    assert process.terminate() == 0
    stored_before_restart = count_rows(database, "payment_transactions")
    # The same session again: everything the stopped process stored was acknowledged, so the
    # broker redelivers none of it, and the restarted service sees no duplicate.
    restarted = start_ingest()
    stream.join()
    _assert_exactly_once(database, stream)
    metrics = restarted.service.metrics
    assert metrics.duplicates.labels("transaction")._value.get() == 0
    assert metrics.stored.labels("transaction")._value.get() == stream.count - stored_before_restart


def test_two_processes_share_one_stream_through_a_shared_subscription(
    stack: LocalStack,
    database: IsolatedDatabase,
    ingest_account: IngestAccount,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    second_account = IngestAccount(unique_publisher_id("ingest"), "pw-second", ingest_account.group)
    stack.mosquitto.accounts.set_service_account(second_account.username, second_account.password, ServiceRole.INGEST)
    try:
        one = start_ingest()
        two = start_ingest(second_account)
        payments = register_publisher("payments")
        stream = EventStream(payments, count=4000, rate=2000).start()
        stream.join()
        _assert_exactly_once(database, stream)
        shares = [s.service.metrics.stored.labels("transaction")._value.get() for s in (one, two)]
        assert sum(shares) == stream.count
        assert min(shares) > 0
    finally:
        clear_session(stack.settings.mqtt_port, second_account.username, second_account.password)
        stack.mosquitto.accounts.delete(second_account.username)


def test_broker_restart_is_survived_and_the_session_resumed(
    stack: LocalStack,
    database: IsolatedDatabase,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
    mqtt_clients: list[BlockingClient],
) -> None:
    ingest = start_ingest()
    before = register_publisher("payments")
    before.client.publish(before.topic("transaction"), factories.encode(factories.transaction()))
    assert wait_for(lambda: count_rows(database, "payment_transactions") == 1)

    stack.mosquitto.stop()  # SIGTERM: the broker saves its sessions and exits
    assert wait_for(lambda: ingest.service.health().broker == "down", timeout=10)
    assert ingest.service.health().status == "degraded"
    stack.mosquitto.start()
    assert wait_for(lambda: ingest.service.health().status == "ok", timeout=30)

    # A fresh publisher connection after the restart; the ingest session was kept by the broker.
    publisher = open_client(stack, before.id, before.client.password)
    mqtt_clients.append(publisher)
    assert not publisher.wait_connected().is_failure
    for _ in range(200):
        publisher.publish(before.topic("transaction"), factories.encode(factories.transaction()))
    assert wait_for(lambda: count_rows(database, "payment_transactions") == 201)
    assert count_rows(database, "dead_letters") == 0


def test_a_database_error_that_is_not_about_the_data_is_retried_not_dead_lettered(
    database: IsolatedDatabase,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    """A bad deployment (here: the table renamed away) must not turn valid events into dead letters."""
    ingest = start_ingest()
    payments = register_publisher("payments")
    with database.connect() as conn:
        conn.execute("ALTER TABLE payment_transactions RENAME TO payment_transactions_away")
    try:
        for _ in range(20):
            payments.client.publish(payments.topic("transaction"), factories.encode(factories.transaction()))
        assert wait_for(lambda: ingest.service.health().database == "degraded", timeout=10)
        assert ingest.service.metrics.acknowledged._value.get() == 0
    finally:
        with database.connect() as conn:
            conn.execute("ALTER TABLE payment_transactions_away RENAME TO payment_transactions")
    assert wait_for(lambda: count_rows(database, "payment_transactions") == 20, timeout=20)
    assert count_rows(database, "dead_letters") == 0
    assert wait_for(lambda: ingest.service.health().status == "ok", timeout=10)
