"""Publisher states and mutes with the real engine and ingest: no silent alert in maintenance (and one again when
it ends), none for an onboarding publisher within its grace period and one past it, a mute that marks and
expires, and a disabled publisher's messages kept as `publisher_disabled` dead letters until it is enabled."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from deploy.stack.manager import LocalStack
from ingest.registry.lifecycle import set_maintenance
from ingest.registry.publishers import add_publisher, disable_publisher
from ingest.service.stored_events_publisher import StoredEventsPublisher
from streams.alerts.mutes import MuteRepository
from streams.alerts.rules import DEFAULT_RULES_FILE, load_rules
from streams.catalog import CATALOG
from tests import factories
from tests.fixtures.ingest import Publisher, RunningIngest, count_rows, wait_for
from tests.fixtures.mqtt import BlockingClient, open_client, unique_publisher_id
from tests.fixtures.stack import IsolatedDatabase, cli_environment
from tests.fixtures.streams import RunningEngine

pytestmark = pytest.mark.integration
REGISTRY_REFRESH_SECONDS = 0.2
SILENT_RULES = [r for r in load_rules(DEFAULT_RULES_FILE, (k.id for k in CATALOG.kpis)) if r.id == "publisher-silent"]


def _alerts(db: psycopg.Connection[tuple[object, ...]]) -> dict[str, tuple[str, datetime, int | None]]:
    """Each area's latest publisher-silent alert: its state, when it opened, the mute that covers it."""
    rows = db.execute(
        "SELECT DISTINCT ON (area_code) area_code, state, opened_at, muted_by FROM alerts"
        " WHERE rule_id = 'publisher-silent' ORDER BY area_code, opened_at DESC"
    ).fetchall()
    return {str(area): (str(state), opened, muted) for area, state, opened, muted in rows}  # type: ignore[misc]


def test_silent_alerts_follow_maintenance_onboarding_and_mutes(
    db: psycopg.Connection[tuple[object, ...]],
    redis_url: str,
    start_ingest: Callable[..., RunningIngest],
    start_engine: Callable[..., RunningEngine],
    register_publisher: Callable[..., Publisher],
) -> None:
    start_ingest(stored_events=StoredEventsPublisher(redis_url, producer="ingest-under-test"))
    kept, plain = register_publisher("payments", "24615-01"), register_publisher("payments", "24615-02")
    register_publisher("payments", "24615-03")  # fresh: onboarding, never sends
    late = register_publisher("payments", "24615-05")
    # kept and plain send their status once: ingest records their first message (no longer onboarding).
    for p in (kept, plain):
        p.client.publish(p.topic("status"), factories.encode(factories.status("online")))

    def heard_from() -> set[str]:
        rows = db.execute("SELECT id FROM publishers WHERE first_message_at IS NOT NULL").fetchall()
        return {str(r[0]) for r in rows}

    assert wait_for(lambda: heard_from() == {kept.id, plain.id})
    # late was registered two hours ago (past the one-hour grace period) and never sent anything; fresh, just now.
    db.execute("UPDATE publishers SET created_at = now() - interval '2 hours' WHERE id = %s", (late.id,))
    now = datetime.now(UTC)
    maintenance_until = now + timedelta(seconds=6)
    set_maintenance(db, kept.id, maintenance_until, "counter moved", actor="ops-anh", now=now)
    mute = MuteRepository(db).create(
        "publisher-silent",
        "24615-05",
        now + timedelta(seconds=8),
        "new counter, cable pending",
        actor="ops-anh",
        now=now,
    )

    start_engine(rules=SILENT_RULES, silent_after_seconds=2, onboarding_grace_seconds=3600)
    # plain is silent 2 s after its status; late at once; the commune has both.
    assert wait_for(lambda: {"24615-02", "24615-05", "24615"} <= set(_alerts(db)), timeout=30), _alerts(db)
    opened = _alerts(db)
    assert opened["24615-05"][2] == mute.id  # recorded, but muted
    assert opened["24615-02"][2] is None
    # kept is just as quiet, but in maintenance; fresh is onboarding within its grace period.
    assert "24615-01" not in opened
    assert "24615-03" not in opened

    # The maintenance ends by itself: kept, still silent, raises its alert within a recount.
    assert wait_for(lambda: "24615-01" in _alerts(db), timeout=20), _alerts(db)
    state, at, muted = _alerts(db)["24615-01"]
    assert (state, muted) == ("open", None)
    assert at >= maintenance_until
    # The mute expires while late's alert is open: it needs action again (the history thread's round).
    assert wait_for(lambda: _alerts(db)["24615-05"][2] is None, timeout=20)
    assert _alerts(db)["24615-05"][0] == "open"
    assert "24615-03" not in _alerts(db)  # fresh: still within its grace period


def test_a_disabled_publishers_messages_are_dead_letters_until_it_is_enabled_and_replayed(
    stack: LocalStack,
    database: IsolatedDatabase,
    db: psycopg.Connection[tuple[object, ...]],
    redis_url: str,
    start_ingest: Callable[..., RunningIngest],
    mqtt_clients: list[BlockingClient],
) -> None:
    start_ingest(
        stored_events=StoredEventsPublisher(redis_url, producer="ingest-under-test"),
        ingest_registry_refresh_seconds=0.2,
    )
    counter = unique_publisher_id("counter")
    password = add_publisher(db, stack.mosquitto.accounts, counter, "payments", "24611").password
    topic = f"ioc/v1/payments/{counter}/transaction"
    first = open_client(stack, counter, password)
    mqtt_clients.append(first)
    assert not first.wait_connected().is_failure
    first.publish(topic, factories.encode(factories.transaction()))
    assert wait_for(lambda: count_rows(database, "payment_transactions") == 1)

    disable_publisher(db, stack.mosquitto.accounts, counter, actor="ops-anh", reason="replaced")
    refused = open_client(stack, counter, password)  # the broker refuses its password at once
    mqtt_clients.append(refused)
    assert refused.wait_connected().getName() == "Not authorized"
    # A message that still reaches ingest — from a broker whose accounts are kept by hand: here its account is
    # enabled on the broker alone, the registry still says disabled — becomes a dead letter, kept whole.
    stack.mosquitto.accounts.enable_publisher(counter)
    time.sleep(2 * REGISTRY_REFRESH_SECONDS)  # ingest's copy of the registry is this old at most
    late = open_client(stack, counter, password)
    mqtt_clients.append(late)
    assert not late.wait_connected().is_failure
    late.publish(topic, factories.encode(factories.transaction()))
    assert wait_for(lambda: count_rows(database, "dead_letters", "reason = 'publisher_disabled'") == 1)
    assert count_rows(database, "payment_transactions") == 1

    env = cli_environment(stack, IOC_DATABASE_URL=database.url, IOC_REDIS_URL=redis_url)

    def ioc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cli", *args], env=env, capture_output=True, text=True)

    enabled = ioc("publishers", "enable", counter, "--by", "ops-anh")
    assert (enabled.returncode, enabled.stdout) == (0, f"publisher {counter} enabled\n"), enabled.stderr
    replayed = ioc("dead-letters", "replay", "--reason", "publisher_disabled")
    assert replayed.returncode == 0, replayed.stderr
    assert count_rows(database, "payment_transactions") == 2
    actions = db.execute(
        "SELECT action, actor, detail FROM publisher_actions WHERE publisher_id = %s ORDER BY id", (counter,)
    ).fetchall()
    assert actions == [("disabled", "ops-anh", "replaced"), ("enabled", "ops-anh", "")]
    stack.mosquitto.accounts.delete(counter)
