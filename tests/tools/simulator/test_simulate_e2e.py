"""The simulator against the real chain (MQTT → ingest → stored-events stream → KPI engine): every fault it
injects is reported by the system (through the API, as operators read it), exactly as many as it injected."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.stack.manager import LocalStack
from ingest.service.stored_events_publisher import StoredEventsPublisher
from streams.alerts.rules import DEFAULT_RULES_FILE, load_rules
from streams.catalog import CATALOG
from streams.hierarchy import load_hierarchy
from tests.fixtures.api import bearer
from tests.fixtures.ingest import RunningIngest, wait_for
from tests.fixtures.mqtt import unique_publisher_id
from tests.fixtures.stack import IsolatedDatabase
from tests.fixtures.streams import RunningEngine, current_frames
from tools.simulator.faults import FAULT_REASONS
from tools.simulator.runner import Summary
from tools.simulator.session import SimulationConfig, SimulationSession
from tools.simulator.shapes import LOCAL_TIME
from tools.simulator.traffic import FaultRates

pytestmark = pytest.mark.integration

SILENT_AFTER_SECONDS = 5  # the publishers' own threshold: each active one sends about every second
TABLES = {"dossier": "portal_dossier_events", "transaction": "payment_transactions", "sample": "coverage_samples"}


def one(db: psycopg.Connection[tuple[object, ...]], query: str, *params: object) -> int:
    row = db.execute(query, params).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return int(str(row[0]))


class Reports:
    """What the system reports, read as an operator reads it: through the API."""

    def __init__(self, http: httpx.Client, key: str) -> None:
        self._http = http
        self._headers = bearer(key)

    def get(self, path: str, **params: object) -> Any:
        answer = self._http.get(path, params=params, headers=self._headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def open_silence_alerts(self) -> set[str]:
        alerts = self.get("/api/v1/alerts", state="open")
        return {a["area_code"] for a in alerts if a["rule_id"] == "publisher-silent"}

    def dead_letters(self, reason: str) -> int:
        return len(self.get("/api/v1/dead-letters", reason=reason, limit=500))

    def missing_seq(self, publisher_id: str) -> int:
        return sum(g["missing"] for g in self.get(f"/api/v1/publishers/{publisher_id}/gaps", hours=24))

    def completeness_gap(self) -> float | None:
        [frame] = self.get("/api/v1/kpis/current", kpi="ops.completeness", area="67", window="24h")["values"] or [None]
        if frame is None or frame["numerator"] is None or frame["denominator"] is None:
            return None
        return float(frame["denominator"] - frame["numerator"])


def frame_value(redis_url: str, key: str) -> float | None:
    frame = current_frames(redis_url).get(key)
    return None if frame is None else frame.value


def test_every_injected_fault_is_reported_exactly(
    stack: LocalStack,
    database: IsolatedDatabase,
    db: psycopg.Connection[tuple[object, ...]],
    redis_url: str,
    start_ingest: Callable[..., RunningIngest],
    start_engine: Callable[..., RunningEngine],
    client: httpx.Client,
) -> None:
    reports = Reports(client, ApiKeyRepository(db).create("operations-wall", Scope.READ))
    ingest = start_ingest(stored_events=StoredEventsPublisher(redis_url, producer="ingest-under-test"))
    known = [k.id for k in CATALOG.kpis]
    start_engine(rules=[r for r in load_rules(DEFAULT_RULES_FILE, known) if r.id == "publisher-silent"])
    started = datetime.now(UTC)
    session = SimulationSession(
        database.connect,
        stack.mosquitto.accounts,
        "127.0.0.1",
        stack.settings.mqtt_port,
        SimulationConfig(
            rate=30, duration_seconds=20, speed=60, seed=11, silent=2, communes=("24615",),
            faults=FaultRates(bad_ratio=0.1, duplicates=0.05, late=0.05, gaps=0.05),
            prefix=unique_publisher_id("sim"), start_local=datetime(2026, 11, 23, 9, 0, tzinfo=LOCAL_TIME),
            silent_after_seconds=SILENT_AFTER_SECONDS, quiet_after_seconds=3, clear_status=True,
        ),
    )  # fmt: skip
    summaries: list[Summary] = []
    runner = threading.Thread(target=lambda: summaries.append(session.run()), name="simulator", daemon=True)
    runner.start()
    try:
        check_reported(session, summaries, runner, db, reports, redis_url, ingest, started)
    finally:
        runner.join(60)
        for p in session.publishers:
            stack.mosquitto.accounts.delete(p.id)


def check_reported(
    session: SimulationSession,
    summaries: list[Summary],
    runner: threading.Thread,
    db: psycopg.Connection[tuple[object, ...]],
    reports: Reports,
    redis_url: str,
    ingest: RunningIngest,
    started: datetime,
) -> None:
    # While the others keep sending, the quiet ones (and only they) are silent: one alert in each
    # commune or village they are registered in or under, and the province counts exactly them.
    hierarchy = load_hierarchy(db)
    registered = dict(db.execute("SELECT id, area_code FROM publishers").fetchall())
    expected_alerts = {
        area
        for pid in session.silent
        for area in hierarchy.counted_in(str(registered[pid]))
        if hierarchy.levels[area] in ("commune", "village")
    }
    assert len(session.silent) == 2
    assert wait_for(
        lambda: (
            reports.open_silence_alerts() == expected_alerts
            and frame_value(redis_url, "ops.publishers_silent|67|now") == 2
        ),
        timeout=15,
    ), (reports.open_silence_alerts(), expected_alerts)
    runner.join(60)
    [summary] = summaries
    assert summary.unacknowledged == 0
    assert summary.refused == 0

    # Everything it sent arrived: one row per event, one dead letter per fault. Each publisher
    # cleared its retained status at the end (an empty message): acknowledged, no dead letter.
    faults = sum(summary.dead_letters.values())
    assert wait_for(
        lambda: (
            all(one(db, f"SELECT count(*) FROM {TABLES[t]}") == n for t, n in summary.events.items())  # noqa: S608
            and one(db, "SELECT count(*) FROM dead_letters") == faults
        ),
        timeout=30,
    ), (
        summary,
        db.execute("SELECT reason, length(payload) > 0, count(*) FROM dead_letters GROUP BY 1, 2").fetchall(),
        [one(db, f"SELECT count(*) FROM {t}") for t in TABLES.values()],  # noqa: S608
    )
    by_reason = db.execute("SELECT reason, count(*) FROM dead_letters GROUP BY 1")
    assert {str(r): int(str(n)) for r, n in by_reason.fetchall()} == summary.dead_letters
    for reason, injected in summary.dead_letters.items():
        assert reports.dead_letters(reason) == injected, reason
    # The run cycles through the reasons, and its ~50 faults cover every one of them.
    assert set(summary.dead_letters) == {reason.value for reason in FAULT_REASONS}
    for event_type, table in TABLES.items():
        rows = one(db, f"SELECT count(*) FROM {table}")  # noqa: S608 -- constants
        assert rows == one(db, f"SELECT count(DISTINCT event_id) FROM {table}") == summary.events.get(event_type, 0)  # noqa: S608

    duplicates = sum(
        ingest.service.metrics.registry.get_sample_value("ioc_ingest_duplicates_total", {"event_type": t}) or 0
        for t in TABLES
    )
    assert summary.duplicates > 0
    assert duplicates == summary.duplicates

    late = one(db, "SELECT count(*) FROM payment_transactions WHERE occurred_at < %s", started)
    late += one(db, "SELECT count(*) FROM coverage_samples WHERE occurred_at < %s", started)
    assert late == summary.late > 0

    # Completeness: the seq numbers each publisher skipped, as listed and as the KPI counts them.
    for pid in registered:
        assert reports.missing_seq(str(pid)) == summary.gaps.get(str(pid), 0), pid
    assert summary.gap_total > 0
    assert wait_for(lambda: reports.completeness_gap() == summary.gap_total), reports.completeness_gap()
    # And the dead letters reach the operations KPI (by arrival time, counted every history round).
    assert wait_for(lambda: frame_value(redis_url, "ops.dead_letters|67|5m") == faults)
