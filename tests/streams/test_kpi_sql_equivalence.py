"""Every KPI, rebuilt from the hypertables, equals its SQL definition for every area and window (real TimescaleDB)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from ingest.registry.publishers import PublisherRepository
from streams.catalog import CATALOG, KpiDefinition, KpiValue, Quantile
from streams.engine.rebuild import rebuild_state
from streams.hierarchy import AreaHierarchy, load_hierarchy
from streams.history import begin_snapshot, read_stored_events
from streams.records import MICROS, DossierRecord, PaymentRecord, Record, SampleRecord, StatusRecord, from_micros
from streams.state import KpiState
from streams.windows import MINUTE_US, WINDOWS
from tests.fixtures.stack import IsolatedDatabase
from tests.streams.kpi_data import NOW_US, PARENTS, generated_records
from tests.streams.test_overdue import dossier_events

pytestmark = pytest.mark.integration
HIERARCHY = AreaHierarchy.from_parents(PARENTS.items())


def store(conn: psycopg.Connection[tuple[object, ...]], records: list[Record]) -> None:
    received = datetime.now(UTC)
    with conn.cursor() as cur:
        for r in records:
            if isinstance(r, DossierRecord):
                cur.execute(
                    "INSERT INTO portal_dossier_events (occurred_at, event_id, publisher_id, area_code, seq,"
                    " dossier_id, procedure_code, domain, status, channel, service_level, e_certified, due_at,"
                    " received_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s, '1.0001', 'land', %s, %s, 'full_online', %s, %s, %s)",
                    (from_micros(r.occurred_us), uuid.uuid4(), r.publisher_id, r.area_code, r.seq, r.dossier_id,
                     r.status, r.channel, r.e_certified, None if r.due_us is None else from_micros(r.due_us), received),
                )  # fmt: skip
            elif isinstance(r, PaymentRecord):
                cur.execute(
                    "INSERT INTO payment_transactions (occurred_at, event_id, publisher_id, area_code, seq, sector,"
                    " method, amount_vnd, outcome, received_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (from_micros(r.occurred_us), uuid.uuid4(), r.publisher_id, r.area_code, r.seq, r.sector, r.method,
                     r.amount_vnd, r.outcome, received),
                )  # fmt: skip
            elif isinstance(r, SampleRecord):
                cur.execute(
                    "INSERT INTO coverage_samples (occurred_at, event_id, publisher_id, area_code, seq, operator,"
                    " technology, download_mbps, upload_mbps, latency_ms, packet_loss_pct, received_at)"
                    " VALUES (%s, %s, %s, %s, %s, 'viettel', '4g', %s, 1.0, %s, %s, %s)",
                    (from_micros(r.occurred_us), uuid.uuid4(), r.publisher_id, r.area_code, r.seq, r.download_mbps,
                     r.latency_ms, r.packet_loss_pct, received),
                )  # fmt: skip


def by_sql(
    conn: psycopg.Connection[tuple[object, ...]], kpi: KpiDefinition, area: str, bounds: tuple[int, int]
) -> KpiValue:
    subtree = [code for code in PARENTS if area in HIERARCHY.counted_in(code)]
    params = {**kpi.sql_params, "start": from_micros(bounds[0]), "end": from_micros(bounds[1]), "areas": subtree}
    row = conn.execute(kpi.sql, params).fetchone()
    assert row is not None
    return by_row(row)


def by_row(row: tuple[object, ...]) -> KpiValue:
    """A KPI query's row (value[, numerator, denominator]) with numerics as floats."""
    values = [float(v) if isinstance(v, Decimal) else v for v in [*row, None, None][:3]]
    return KpiValue(*values)  # type: ignore[arg-type]


def assert_close(actual: float | None, expected: float | None, rel: float, label: object) -> None:
    if expected is None:
        assert actual is None, label
    else:
        assert actual == pytest.approx(expected, rel=rel), label


def test_rebuilt_kpis_equal_their_sql_definitions_for_every_area_and_window(
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    rng = random.Random(11)
    store(db, generated_records(rng, 2_500))
    state = KpiState(CATALOG, HIERARCHY)
    state.advance(NOW_US)
    earliest = min(state.bounds(w.name)[0] for w in WINDOWS)
    begin_snapshot(db)
    for records in read_stored_events(db, from_micros(earliest), tuple(CATALOG.measures)):  # type: ignore[arg-type]
        state.apply(records)
    db.execute("COMMIT")

    checked = 0
    for kpi in CATALOG.windowed:
        for area in PARENTS:
            for window in WINDOWS:
                expected = by_sql(db, kpi, area, state.bounds(window.name))
                wt = state.window_tally(kpi.event_type, window.name, area)
                actual = kpi.evaluate(None if wt is None else wt.tally)
                label = (kpi.id, area, window.name)
                if isinstance(kpi.formula, Quantile):
                    assert actual.denominator == expected.denominator, label
                    assert_close(actual.value, expected.value, rel=0.01, label=label)  # the documented bound
                else:
                    assert (actual.numerator, actual.denominator) == (expected.numerator, expected.denominator), label
                    assert_close(actual.value, expected.value, rel=1e-12, label=label)
                checked += 1
    assert checked == len(CATALOG.windowed) * len(PARENTS) * len(WINDOWS)


def test_the_rebuilt_overdue_gauge_equals_its_sql_definition(
    database: IsolatedDatabase, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    horizon_us = 120 * MINUTE_US
    store(db, dossier_events(random.Random(4), 1_200))
    rebuilt = rebuild_state(
        database.connect, CATALOG, NOW_US, dossier_horizon_us=horizon_us, silent_after_us=900 * 1_000_000
    )
    gauge = rebuilt.state.overdue_dossiers
    kpi = CATALOG.by_id("portal.overdue_open")
    hierarchy = load_hierarchy(db)
    nonzero = 0
    for area in PARENTS:
        subtree = [code for code, lineage in hierarchy.lineage.items() if area in lineage]
        params = {"now": from_micros(NOW_US), "horizon": timedelta(microseconds=horizon_us), "areas": subtree}
        row = db.execute(kpi.sql, params).fetchone()
        assert row is not None
        assert gauge.value(area).value == row[0], area
        nonzero += row[0] > 0
    assert nonzero >= len(PARENTS) // 2  # most areas have overdue dossiers: the comparison is not trivial


def test_the_rebuilt_publisher_gauges_equal_their_sql_definitions(
    database: IsolatedDatabase, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    rng = random.Random(9)
    records = generated_records(rng, 600)  # events from pub-0 … pub-3
    store(db, records)
    leaves = sorted({r.area_code for r in records if not isinstance(r, StatusRecord)})  # type: ignore[union-attr]
    for n in range(12):  # pub-4 … pub-11 never send an event; two are disabled
        db.execute(
            "INSERT INTO publishers (id, source, area_code, disabled_at) VALUES (%s, 'payments', %s, %s)",
            (f"pub-{n}", leaves[n % len(leaves)], datetime.now(UTC) if n in (5, 9) else None),
        )
    # Registered two days before NOW, except pub-7 and pub-8: an hour before, still onboarding if never heard
    # from; those that sent something have their first message recorded (ingest does it); pub-3 and pub-10
    # are in maintenance until after NOW, pub-11's maintenance ended before it.
    db.execute("UPDATE publishers SET created_at = %s", (from_micros(NOW_US) - timedelta(days=2),))
    db.execute("UPDATE publishers SET created_at = %s WHERE id IN ('pub-7', 'pub-8')",
               (from_micros(NOW_US) - timedelta(hours=1),))  # fmt: skip
    for publisher, until in (("pub-3", 600), ("pub-10", 600), ("pub-11", -600)):
        db.execute(
            "UPDATE publishers SET maintenance_until = %s, maintenance_by = 'ops' WHERE id = %s",
            (from_micros(NOW_US + until * MICROS), publisher),
        )
    for n in range(0, 12, 2):
        for state, seconds_ago in (("offline", rng.randrange(0, 3000)), ("online", rng.randrange(0, 3000))):
            db.execute(
                "INSERT INTO publisher_status (at, publisher_id, state, received_at) VALUES (%s, %s, %s, now())",
                (from_micros(NOW_US - seconds_ago * MICROS), f"pub-{n}", state),
            )
    db.execute(
        "UPDATE publishers p SET first_message_at = created_at WHERE id IN ('pub-0', 'pub-1', 'pub-2', 'pub-3')"
        " OR EXISTS (SELECT 1 FROM publisher_status s WHERE s.publisher_id = p.id)"
    )
    # Two publishers have a threshold of their own: one shorter, one longer than the default.
    PublisherRepository(db).set_silent_after("pub-0", 60)
    PublisherRepository(db).set_silent_after("pub-6", 24 * 3600)
    silent_after = 20 * MINUTE_US
    grace = 6 * 3600 * MICROS
    rebuilt = rebuild_state(
        database.connect, CATALOG, NOW_US, dossier_horizon_us=MINUTE_US, silent_after_us=silent_after,
        onboarding_grace_us=grace,
    )  # fmt: skip
    hierarchy = load_hierarchy(db)
    for kpi, gauge in (
        (CATALOG.by_id("ops.publishers_online"), rebuilt.state.publishers.online),
        (CATALOG.by_id("ops.publishers_silent"), rebuilt.state.publishers.silent),
    ):
        for area in PARENTS:
            subtree = [code for code, lineage in hierarchy.lineage.items() if area in lineage]
            params = {
                "now": from_micros(NOW_US),
                "silent_after": timedelta(microseconds=silent_after),
                "onboarding_grace": timedelta(microseconds=grace),
                "areas": subtree,
            }
            row = db.execute(kpi.sql, params).fetchone()
            assert row is not None
            assert gauge.value(area).value == row[0], (kpi.id, area)
        assert gauge.value("67").value > 0, kpi.id
    completeness = CATALOG.by_id("ops.completeness")
    for area in PARENTS:
        subtree = [code for code, lineage in hierarchy.lineage.items() if area in lineage]
        for window in WINDOWS:
            start, end = rebuilt.state.windows.bounds(window.name)
            params = {"start": from_micros(start), "end": from_micros(end), "areas": subtree}
            row = db.execute(completeness.sql, params).fetchone()
            assert row is not None
            expected = by_row(row)
            actual = rebuilt.state.completeness.value(area, window.name)
            assert (actual.numerator, actual.denominator) == (expected.numerator, expected.denominator), area
            assert_close(actual.value, expected.value, rel=1e-12, label=(area, window.name))
    assert rebuilt.state.completeness.value("67", "24h").denominator  # the data has numbered events
