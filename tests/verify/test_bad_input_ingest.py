"""Bad input through the real broker and the real `ioc ingest`: generated invalid messages mixed with
valid ones. Never a crash, every invalid one dead-lettered with its reason, every valid one stored
once, and (judged under `make verify` only: a ratio of throughputs is a measurement, too noisy on
a shared machine for `make test`) ingest's valid throughput with poison at least 95 % of its
throughput without (`drain.py` says how it is measured)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from deploy.stack.manager import LocalStack
from tests import factories
from tests.fixtures.ingest import IngestAccount, spawn_ingest, wait_for
from tests.fixtures.ingest import Publisher as RegisteredPublisher
from tests.fixtures.stack import IsolatedDatabase
from tests.fixtures.verify import VerifyProfile
from tests.verify.accounting import account
from tests.verify.conftest import StartLoad
from tests.verify.drain import Drain, dead_letters_of, drain_backlog, known_areas, make_poison, pooled
from tests.verify.poison_publisher import PoisonPublisher
from tests.verify.report import ScenarioResult

pytestmark = pytest.mark.integration
POISON_SHARE = 0.01  # as the ingest suite mixes it (tests/README.md#what-the-suites-prove)


@pytest.fixture
def poison_accounts(stack: LocalStack) -> Iterator[list[str]]:
    """Broker accounts of the poison publishers, removed after the test."""
    accounts: list[str] = []
    yield accounts
    for name in accounts:
        stack.mosquitto.accounts.delete(name)


def test_poison_mixed_into_valid_traffic(
    stack: LocalStack,
    database: IsolatedDatabase,
    ingest_account: IngestAccount,
    start_load: StartLoad,
    scenario: ScenarioResult,
    profile: VerifyProfile,
    tmp_path: Path,
    poison_accounts: list[str],
) -> None:
    backlog, order = profile.pick(fast=(20_000, "CMMCCMMC"), full=(100_000, "CMMCCMMCCMMC"))
    live_rate, live_seconds = profile.pick(fast=(2_000, 10.0), full=(5_000, 60.0))
    scenario.scenario = f"Bad input: {POISON_SHARE:.0%} generated poison (every class) mixed into valid traffic"
    scenario.load = (
        f"backlog of {backlog:,} valid drained {len(order)} times, clean and mixed as {order}; then "
        f"{live_rate:,} valid events/s for {live_seconds:.0f} s with poison, through `ioc ingest`"
    )
    areas = known_areas(database)
    poison_count = round(backlog * POISON_SHARE)
    ingest = spawn_ingest(stack, database, ingest_account)  # its session subscribes; the broker keeps it
    assert ingest.terminate() == 0
    drains: list[Drain] = []
    for kind in order:
        poison = make_poison(stack, database, areas, poison_count, poison_accounts) if kind == "M" else None
        drains.append(drain_backlog(stack, database, ingest_account, start_load, backlog, poison))

    ingest = spawn_ingest(stack, database, ingest_account)
    poison = make_poison(stack, database, areas, round(live_rate * live_seconds * POISON_SHARE), poison_accounts)
    for publisher in poison.publishers:
        publisher.start(live_seconds)
    live = start_load(live_rate, live_seconds)
    live.wait()
    for publisher in poison.publishers:
        publisher.join()
    assert wait_for(lambda: live.stored_rows(database) >= live.sent(), timeout=120, interval=0.5)
    assert wait_for(lambda: dead_letters_of(database, poison) >= poison.count(), timeout=60, interval=0.5)
    assert ingest.process.poll() is None, "ingest died"
    assert ingest.terminate() == 0

    every_poison = [d.poison for d in drains if d.poison] + [poison]
    ledgers = [ledger for d in drains for ledger in d.valid.ledgers] + live.ledgers
    ledgers += [_ledger(p, tmp_path) for batch in every_poison for p in batch.publishers]
    with database.connect() as conn:
        result = account(conn, ledgers)
    invalid = sum(batch.count() for batch in every_poison)
    (clean, clean_wall), (mixed, mixed_wall) = (
        pooled([d for d in drains if bool(d.poison) == m]) for m in (False, True)
    )
    scenario.lost, scenario.duplicated = result.lost, result.duplicated_rows
    scenario.measure("valid stored once", result.stored_once)
    scenario.measure("invalid dead-lettered with their reason", f"{result.dead_lettered_as_expected:,} of {invalid:,}")
    scenario.measure("valid per CPU-s clean / mixed", f"{clean:,.0f} / {mixed:,.0f}")
    scenario.measure("ratio (CPU)", f"{mixed / clean:.1%}")
    scenario.measure("valid/s clean / mixed", f"{clean_wall:,.0f} / {mixed_wall:,.0f}")
    scenario.measure("ratio (wall clock)", f"{mixed_wall / clean_wall:.1%}")
    every = " ".join(
        f"{'M' if d.poison else 'C'} {d.wall_rate:,.0f}/s {d.stored / d.cpu_seconds:,.0f}/CPU-s"
        f" (ingest {d.ingest_cpu_seconds:.2f} s, database {d.database_cpu_seconds:.2f} s)"
        for d in drains
    )
    scenario.measure("every drain", every)
    assert result.exact, result.summary()
    assert result.unconfirmed == 0, result.summary()
    assert result.dead_lettered_as_expected == invalid, result.summary()
    assert result.stored_once == result.sent - invalid, result.summary()
    if profile.full:  # a throughput ratio is a measurement: `make verify` judges it, not `make test`
        assert mixed >= 0.95 * clean, f"with poison {mixed:,.0f} valid events per CPU-s, clean {clean:,.0f}"


def _ledger(publisher: PoisonPublisher, directory: Path) -> Path:
    return publisher.write_ledger(directory / f"{publisher.account}.csv")


BROKER_MAX_PACKET_BYTES = 262_144  # max_packet_size of the stack's mosquitto.conf


def test_oversize_messages_are_dead_lettered_or_refused_by_the_broker(
    stack: LocalStack,
    database: IsolatedDatabase,
    ingest_account: IngestAccount,
    register_publisher: Callable[..., RegisteredPublisher],
    scenario: ScenarioResult,
) -> None:
    scenario.scenario = "Bad input: oversize messages (over 64 KiB dead-lettered too_large, over 256 KiB refused)"
    assert f"max_packet_size {BROKER_MAX_PACKET_BYTES}" in stack.mosquitto.config_file.read_text()
    ingest = spawn_ingest(stack, database, ingest_account)
    publisher = register_publisher("payments")
    body = factories.encode(factories.transaction())
    under = body + b" " * (200_000 - len(body))  # over the contract's 64 KiB, under the broker's limit
    assert publisher.client.publish(publisher.topic("transaction"), under).is_published()
    assert wait_for(lambda: _dead_letter_reason(database, under) == "too_large", timeout=20)

    over = body + b" " * (300_000 - len(body))
    refused = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{publisher.id}", protocol=mqtt.MQTTv311)
    publisher.client.close()  # the same account: the broker would take the id over anyway
    refused.username_pw_set(publisher.id, publisher.client.password)
    refused.connect("127.0.0.1", stack.settings.mqtt_port)
    refused.loop_start()
    try:
        info = refused.publish(publisher.topic("transaction"), over, qos=1)
        if info.rc == mqtt.MQTT_ERR_SUCCESS:
            with contextlib.suppress(RuntimeError):  # paho: "message not published" once the broker hung up
                info.wait_for_publish(5)
        assert not info.is_published()
        assert wait_for(lambda: not refused.is_connected(), timeout=5), "the broker kept the connection"
    finally:
        refused.loop_stop()
    assert _dead_letter_reason(database, over) is None
    assert ingest.process.poll() is None
    assert ingest.terminate() == 0
    scenario.measure("200,000 bytes", "dead-lettered too_large")
    scenario.measure("300,000 bytes", "refused by the broker: no PUBACK, connection closed")


def _dead_letter_reason(database: IsolatedDatabase, payload: bytes) -> str | None:
    with database.connect() as conn:
        row = conn.execute("SELECT reason FROM dead_letters WHERE payload = %s", (payload,)).fetchone()
    return None if row is None else str(row[0])
