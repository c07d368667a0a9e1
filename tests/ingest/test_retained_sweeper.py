"""Retained messages against the real broker: a retained event is processed once like any other, its retained
copy is deleted by the sweeper (counted for its publisher), a status keeps its own, and the sweeper's
deletions (empty messages) are neither stored nor dead letters."""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
import pytest

from deploy.stack.manager import LocalStack
from deploy.stack.mosquitto import SWEEPER_USERNAME
from ingest.broker.control import BrokerEndpoint
from ingest.service.metrics import IngestMetrics
from ingest.service.retained_sweeper import SWEEP_LOCK_KEY, RetainedSweeper
from tests import factories
from tests.fixtures.ingest import Publisher, RunningIngest, connect_for_ingest, count_rows, wait_for
from tests.fixtures.mqtt import BlockingClient, open_client
from tests.fixtures.stack import IsolatedDatabase

pytestmark = pytest.mark.integration


def _sweeper(stack: LocalStack, database: IsolatedDatabase, metrics: IngestMetrics) -> RetainedSweeper:
    endpoint = BrokerEndpoint(
        "127.0.0.1", stack.settings.mqtt_port, SWEEPER_USERNAME, stack.secrets.mqtt_service_password
    )
    return RetainedSweeper(endpoint, connect_for_ingest(database), metrics, interval_seconds=1.0)


def test_a_retained_event_is_stored_once_and_its_copy_deleted_but_a_status_kept(
    stack: LocalStack,
    database: IsolatedDatabase,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    ingest = start_ingest()
    desk = register_publisher("portal")
    event = factories.dossier()
    for topic, body in ((desk.topic("dossier"), event), (desk.topic("status"), factories.status())):
        desk.client.client.publish(topic, factories.encode(body), qos=1, retain=True).wait_for_publish(5)
    assert wait_for(lambda: count_rows(database, "portal_dossier_events") == 1)

    metrics = IngestMetrics()
    result = _sweeper(stack, database, metrics).sweep_once()
    assert result is not None
    assert ([t for t in result.cleared if desk.id in t], result.refused) == ([desk.topic("dossier")], [])
    assert result.kept >= 1  # its status
    assert metrics.retained_cleared._value.get() == len(result.cleared)
    with database.connect() as conn:
        row = conn.execute(
            "SELECT retained_cleared, retained_cleared_at IS NOT NULL FROM publishers WHERE id = %s", (desk.id,)
        ).fetchone()
    assert row == (1, True)
    # The deletion reached the ingest as an empty message: acknowledged, nothing stored, no dead letter.
    assert wait_for(lambda: ingest.service.metrics.empty_messages._value.get() >= 1)
    received = ingest.service.metrics.received
    assert wait_for(lambda: ingest.service.metrics.acknowledged._value.get() == received._value.get())
    mine = f"publisher_id = '{desk.id}'"
    assert (count_rows(database, "portal_dossier_events"), count_rows(database, "dead_letters", mine)) == (1, 0)

    again = _sweeper(stack, database, IngestMetrics()).sweep_once()
    assert again is not None
    assert desk.topic("dossier") not in again.cleared
    desk.client.client.publish(desk.topic("status"), b"", qos=1, retain=True).wait_for_publish(5)


def test_sweepers_of_several_processes_take_turns(
    stack: LocalStack, database: IsolatedDatabase, register_publisher: Callable[..., Publisher]
) -> None:
    """While one sweeps (it holds the turn in the transaction that records it), another skips."""
    desk = register_publisher("coverage")
    desk.client.client.publish(f"{desk.topic('sample')}/x", b"retained", qos=1, retain=True).wait_for_publish(5)
    with psycopg.connect(database.url, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SWEEP_LOCK_KEY,))
        assert _sweeper(stack, database, IngestMetrics()).sweep_once() is None
    result = _sweeper(stack, database, IngestMetrics()).sweep_once()
    assert result is not None
    assert [t for t in result.cleared if desk.id in t] == [f"{desk.topic('sample')}/x"]


def test_the_sweeper_account_may_not_delete_a_status_nor_read_the_control_topic(
    stack: LocalStack, mqtt_clients: list[BlockingClient]
) -> None:
    sweeper = open_client(stack, SWEEPER_USERNAME, stack.secrets.mqtt_service_password)
    mqtt_clients.append(sweeper)
    assert not sweeper.wait_connected().is_failure
    info = sweeper.client.publish("ioc/v1/portal/someone/status", b"", qos=1, retain=True)
    info.wait_for_publish(5)
    assert sweeper.publish_codes[info.mid].value == 0x87
    sweeper.subscribe("$CONTROL/dynamic-security/#")
    assert sweeper.subscribe_codes[-1][0].value == 0x87


def test_the_sweeper_stops_within_its_stop_contract(stack: LocalStack, database: IsolatedDatabase) -> None:
    metrics = IngestMetrics()
    sweeper = _sweeper(stack, database, metrics)
    sweeper.start()
    finished = threading.Event()

    def stop() -> None:
        sweeper.stop(timeout_seconds=10)
        finished.set()

    threading.Thread(target=stop).start()
    assert finished.wait(15)
    assert metrics.retained_sweep_failures._value.get() == 0
