"""Trust under hostile and careless publishers (areas, clocks, counting), through the real broker and
`ioc ingest`: each attack as it was seen is refused or becomes a dead letter with its reason, and every
valid neighbour is stored once. Re-sent ids are in `test_trust_resends.py`."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deploy.stack.manager import LocalStack
from ingest.contract import EventType, RejectReason
from ingest.service.retention import apply_retention
from ingest.storage.event_tables import SHIPPED_CHUNK_INTERVALS
from tests import factories
from tests.fixtures.ingest import wait_for
from tests.fixtures.stack import IsolatedDatabase
from tests.fixtures.verify import VerifyProfile
from tests.verify.conftest import IngestPath
from tests.verify.report import ScenarioResult
from tests.verify.trust import Register, accounted, metric_by_label, send, settle

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

AREA = RejectReason.AREA_NOT_ALLOWED
TOO_OLD = RejectReason.TOO_OLD


def test_events_outside_the_publishers_area_are_dead_letters(
    stack: LocalStack,
    database: IsolatedDatabase,
    ingest_path: IngestPath,
    register: Register,
    scenario: ScenarioResult,
    profile: VerifyProfile,
    tmp_path: Path,
) -> None:
    rounds = profile.pick(fast=20, full=400)
    scenario.scenario = "Trust: events outside the publisher's area are dead letters area_not_allowed"
    with database.connect() as conn:
        every_area = [str(c) for (c,) in conn.execute("SELECT code FROM areas ORDER BY code")]
        villages = [str(c) for (c,) in conn.execute("SELECT code FROM areas WHERE parent_code = '24615' ORDER BY 1")]
    # As the issue saw it: a portal registered for commune 24640 wrote for commune 24615 and the province.
    bad_portal = register("rt-bad-portal", "portal", "24640")
    probe = register("probe", "coverage", "24615")  # a commune's probe: its villages are its own
    portal = register("portal", "portal", "67")  # the province's portal: any unit in it
    plans = [
        (bad_portal, [("24640", None), ("24615", AREA), ("67", AREA), ("662", AREA), ("24611", AREA)]),
        (probe, [("24615", None), *((v, None) for v in villages), ("660", AREA), ("24611", AREA), ("67", AREA)]),
        (portal, [(code, None) for code in every_area]),
    ]
    for sender, targets in plans:
        for area, reason in itertools.islice(itertools.cycle(targets), rounds * len(targets)):
            sender.add(sender.body(area_code=area), reason)
    senders = [sender for sender, _ in plans]
    valid = sum(s.expected()[None] for s in senders)
    outside = sum(s.expected()[AREA.value] for s in senders)
    scenario.load = f"{valid + outside:,} events from 3 publishers (commune 24640, commune 24615, province)"

    ingest = ingest_path.spawn_ingest()  # killed at teardown if a check fails first
    ledgers = send(stack, senders, seconds=profile.pick(fast=3, full=20), ledgers=tmp_path)
    settle(database, senders, valid, outside)
    result = accounted(database, ledgers)
    assert ingest.terminate() == 0
    scenario.lost, scenario.duplicated = result.lost, result.duplicated_rows
    scenario.measure("outside their area, dead-lettered area_not_allowed", f"{result.dead_lettered_as_expected:,}")
    scenario.measure("own unit or below it (or any, from the province), stored once", f"{result.stored_once:,}")
    scenario.measure("stored though outside", result.stored_but_invalid)
    assert result.exact, result.summary()
    assert result.unconfirmed == 0, result.summary()
    assert result.dead_lettered_as_expected == outside, result.summary()
    assert result.stored_once == valid, result.summary()


def test_times_before_the_retention_horizon_are_too_old_and_retention_keeps_what_was_accepted(
    stack: LocalStack,
    database: IsolatedDatabase,
    ingest_path: IngestPath,
    register: Register,
    scenario: ScenarioResult,
    profile: VerifyProfile,
    tmp_path: Path,
) -> None:
    rounds = profile.pick(fast=5, full=100)
    scenario.scenario = (
        "Trust: events before the retention horizon or 2020 are too_old; retention keeps everything accepted"
    )
    keep, horizon = timedelta(days=400), timedelta(days=7)  # the defaults `ioc ingest` runs with
    now = datetime.now(UTC)
    oldest = factories.intake_rules().oldest_kept(now, SHIPPED_CHUNK_INTERVALS)
    senders = [register(source, source, "67") for source in ("payments", "portal", "coverage")]
    for sender, round_ in itertools.product(senders, range(rounds)):
        floor = oldest[EventType(sender.event_type)]
        # As the issue saw them (0001-01-01, 1900, two years back), a clock reset to 1970, and just
        # past the horizon: stored and then deleted without a trace before.
        for at in ("0001-01-01T00:00:00Z", "1900-01-01T00:00:00+07:00", "1970-01-01T00:00:00Z"):
            sender.add(sender.body() | {"occurred_at": at}, TOO_OLD)
        for moment in (now - timedelta(days=730), floor - timedelta(hours=1)):
            sender.add(sender.body(at=moment), TOO_OLD)
        for moment in (floor + timedelta(hours=1), now - timedelta(days=1), now - timedelta(seconds=5)):
            sender.add(sender.body(at=moment))
        # A probe whose clock reset says so in its status too.
        reset = factories.encode(factories.status("online", at=datetime(1970, 1, 1, tzinfo=UTC) + timedelta(round_)))
        sender.add_raw(reset, TOO_OLD, "", topic=sender.topic("status"))
    valid = sum(s.expected()[None] for s in senders)
    old = sum(s.expected()[TOO_OLD.value] for s in senders)
    scenario.load = f"{valid + old:,} events of 3 types, {old:,} of them dated before what retention keeps"

    ingest = ingest_path.spawn_ingest()
    ledgers = send(stack, senders, seconds=profile.pick(fast=2, full=10), ledgers=tmp_path)
    settle(database, senders, valid, old)
    assert ingest.terminate() == 0
    result = accounted(database, ledgers)
    with database.connect() as conn:
        # Retention for real, as ingest runs it at its next start, and as it would run a day later.
        stored_before = result.stored_once
        dropped = apply_retention(conn, keep, horizon) + apply_retention(conn, keep - timedelta(days=1), horizon)
    after = accounted(database, ledgers)
    scenario.lost, scenario.duplicated = after.lost, after.duplicated_rows
    scenario.measure("too old, dead-lettered too_old", f"{result.dead_lettered_as_expected:,}")
    scenario.measure("accepted (the oldest at the horizon less a chunk and a day), stored", f"{stored_before:,}")
    scenario.measure("of them kept by retention now and a day later", f"{after.stored_once:,}")
    scenario.measure("chunks retention dropped", dropped)
    assert result.exact, result.summary()
    assert result.dead_lettered_as_expected == old, result.summary()
    assert result.stored_once == valid, result.summary()
    assert after.exact, after.summary()
    assert after.stored_once == valid, after.summary()


def test_the_dead_letter_metric_equals_the_table_storage_rejected_included(
    stack: LocalStack,
    database: IsolatedDatabase,
    ingest_path: IngestPath,
    register: Register,
    scenario: ScenarioResult,
    profile: VerifyProfile,
    tmp_path: Path,
) -> None:
    batches = profile.pick(fast=1, full=20)
    scenario.scenario = "Trust: the dead-letter metric equals the table, storage_rejected included"
    refused_amount = 4_040  # the database refuses it: a constraint the contract does not know
    with database.connect() as conn:
        conn.execute("ALTER TABLE payment_transactions ADD CONSTRAINT refused CHECK (amount_vnd <> 4040)")
    counter = register("counter", "payments", "24611")
    ingest = ingest_path.spawn_ingest(IOC_INGEST_FLUSH_INTERVAL_SECONDS="0.5")
    ledgers: list[Path] = []
    for batch in range(batches):
        # As the issue counted it: 40 dead letters in a mixed batch, one of them storage_rejected.
        kept = [counter.body() for _ in range(20)]
        for body in kept:
            counter.add(body)
        counter.add(counter.body(amount_vnd=refused_amount), RejectReason.STORAGE_REJECTED)
        for i in range(13):
            counter.add_raw(f'{{"event_id": {batch}-{i}'.encode(), RejectReason.NOT_JSON, "")
            counter.add(counter.body(note=f"x{i}"), RejectReason.UNKNOWN_FIELD)
            counter.add(counter.body(area_code="24615"), AREA)
        ledgers += send(stack, [counter], seconds=0.3, ledgers=tmp_path)
        counter.add(kept[0] | {"amount_vnd": 1}, RejectReason.CONFLICTING_DUPLICATE, joined=False)
        ledgers += send(stack, [counter], seconds=0.1, ledgers=tmp_path)
    settle(database, [counter], 20 * batches, 41 * batches)

    def table() -> dict[str, float]:
        with database.connect() as conn:
            rows = conn.execute("SELECT reason, count(*) FROM dead_letters GROUP BY 1").fetchall()
        return {str(reason): float(str(count)) for reason, count in rows}

    assert wait_for(lambda: metric_by_label(ingest.health_port, "ioc_ingest_dead_letters_total") == table(), 10)
    metric, letters = metric_by_label(ingest.health_port, "ioc_ingest_dead_letters_total"), table()
    assert ingest.terminate() == 0
    result = accounted(database, ledgers)
    scenario.load = (
        f"{batches} × a batch of 20 valid events and 40 dead letters (4 reasons, one storage_rejected), "
        "then a conflicting re-send"
    )
    scenario.lost, scenario.duplicated = result.lost, result.duplicated_rows
    for name, key in (("dead letters", None), ("storage_rejected", "storage_rejected")):
        in_table, in_metric = (sum(v.values()) if key is None else v.get(key, 0) for v in (letters, metric))
        scenario.measure(f"{name} in the table / in the metric", f"{in_table:,.0f} / {in_metric:,.0f}")
    scenario.measure("valid stored once", result.stored_once)
    assert metric == letters
    assert letters["storage_rejected"] == batches
    assert result.exact, result.summary()
    assert result.stored_once == 20 * batches, result.summary()
