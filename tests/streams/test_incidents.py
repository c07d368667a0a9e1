"""Incidents in the database (real PostgreSQL): villages that open first are gathered by their commune within
the window and not after it, an incident shrinks and resolves with its members, acknowledging every member
acknowledges it, and one nobody acknowledges is due again after the escalation delay, and again after that."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from deploy.migrations.runner import migrate, shipped_migrations
from streams.alerts.evaluator import AlertOpened, AlertResolved
from streams.alerts.incidents import IncidentNotFound, IncidentPolicy
from streams.alerts.rules import AlertRule
from streams.alerts.store import AlertStore
from streams.records import MICROS
from tests.fixtures.stack import IsolatedDatabase

pytestmark = pytest.mark.integration

RULE = AlertRule(id="publisher-silent", kpi="ops.publishers_silent", window="now", above=0, severity="major")
T0 = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
POLICY = IncidentPolicy(window_seconds=120, escalate_after_seconds=900)


def us(seconds: float) -> int:
    return int((T0 + timedelta(seconds=seconds)).timestamp() * MICROS)


def opened(area: str, seconds: float) -> AlertOpened:
    lineage = (area, *(["24615"] if area.startswith("24615-") else []), "660", "67")
    return AlertOpened(RULE, area, 1, f"silent in {area}", us(seconds), threshold=0, unit="publishers", lineage=lineage)


def incidents(db: psycopg.Connection[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return db.execute(
        "SELECT i.area_code, i.state, array_agg(a.area_code ORDER BY a.area_code) FROM incidents i"
        " LEFT JOIN alerts a ON a.incident_id = i.id GROUP BY i.id ORDER BY i.id"
    ).fetchall()


def test_villages_first_then_their_commune_within_the_window_are_one_incident(
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    store = AlertStore(db, POLICY)
    store.apply([opened("24615-01", 0), opened("24615-02", 1)])
    assert [i[0] for i in incidents(db)] == ["24615-01", "24615-02"]  # siblings: two until their commune opens
    store.apply([opened("24615", 60), opened("24615-03", 61)])
    assert incidents(db) == [
        ("24615", "open", ["24615", "24615-01", "24615-02", "24615-03"]),
        ("24615-02", "resolved", [None]),  # merged into the first
    ]
    # A village of another commune is another cause; one opening long after still joins what is open.
    store.apply([opened("24667-03", 62), opened("24615-05", 3600)])
    assert [i[0] for i in incidents(db) if i[1] != "resolved"] == ["24615", "24667-03"]
    assert incidents(db)[0][2] == ["24615", "24615-01", "24615-02", "24615-03", "24615-05"]
    # It shrinks as members resolve, and resolves with the last.
    areas = ["24615-01", "24615-02", "24615-03", "24615-05"]
    store.apply([AlertResolved("publisher-silent", a, "back", us(3700)) for a in areas])
    [incident] = [i for i in store.incidents.in_states(("open",)) if i.area_code == "24615"]
    assert (incident.members, incident.open_members) == (5, 1)
    store.apply([AlertResolved("publisher-silent", "24615", "back", us(3800))])
    assert store.incidents.get(incident.id).state == "resolved"
    changes = [(at, c, detail) for at, c, _, detail in store.incidents.history(incident.id)]
    assert changes == [
        (T0, "opened", "24615-01"),
        (T0 + timedelta(seconds=60), "joined", "24615"),
        (T0 + timedelta(seconds=60), "merged", f"incident {incident.id + 1}"),
        (T0 + timedelta(seconds=61), "joined", "24615-03"),
        (T0 + timedelta(seconds=3600), "joined", "24615-05"),
        *[(T0 + timedelta(seconds=3700), "left", a) for a in areas],
        (T0 + timedelta(seconds=3800), "left", "24615"),
        (T0 + timedelta(seconds=3800), "resolved", "its last alert resolved"),
    ]


def test_a_commune_opening_after_the_window_is_an_incident_of_its_own(
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    store = AlertStore(db, POLICY)
    store.apply([opened("24615-01", 0), opened("24615", 121)])
    assert [(i[0], i[1]) for i in incidents(db)] == [("24615-01", "open"), ("24615", "open")]


def test_acknowledging_each_member_acknowledges_the_incident_and_nobody_acknowledging_escalates(
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    store = AlertStore(db, POLICY)
    store.apply([opened("24615", 0), opened("24615-01", 1), opened("24667", 2)])
    members = {a.area_code: a for a in store.in_states()}
    commune = store.incidents.get(members["24615"].incident_id or 0)
    store.acknowledge(members["24615"].id, "lan", T0 + timedelta(seconds=10), "đang kiểm tra")
    assert store.incidents.get(commune.id).state == "open"  # one of its two alerts is still open
    assert store.incidents.escalate_due(T0 + timedelta(seconds=899)) == []
    due = store.incidents.escalate_due(T0 + timedelta(seconds=900))
    assert due == [commune.id]  # 24667's incident opened 2 s later: not yet
    assert store.incidents.escalate_due(T0 + timedelta(seconds=902)) == [members["24667"].incident_id]
    assert store.incidents.escalate_due(T0 + timedelta(seconds=1000)) == []  # the next one is 900 s after
    again = store.incidents.get(commune.id)
    assert (again.escalations, again.escalated_at, again.escalate_after) == (
        1, T0 + timedelta(seconds=900), T0 + timedelta(seconds=1800),
    )  # fmt: skip
    store.acknowledge(members["24615-01"].id, "lan", T0 + timedelta(seconds=1200))
    acknowledged = store.incidents.get(commune.id)
    assert (acknowledged.state, acknowledged.acknowledged_by) == ("acknowledged", "lan")
    assert store.incidents.escalate_due(T0 + timedelta(seconds=1800)) == []  # acknowledged: nobody forgotten
    with pytest.raises(IncidentNotFound):
        store.acknowledge_incident(commune.id, "lan", T0 + timedelta(seconds=1801))
    assert store.get(members["24615"].id).ack_comment == "đang kiểm tra"  # type: ignore[union-attr]


def test_alerts_left_open_by_the_previous_version_become_incidents_at_the_upgrade(
    empty_database: IsolatedDatabase,
) -> None:
    shipped = shipped_migrations()
    upto = next(n for n, m in enumerate(shipped) if m.name == "alert_incidents")
    with empty_database.connect() as conn:
        migrate(conn, shipped[:upto])
        conn.execute(
            "INSERT INTO areas (code, parent_code, level, unit_type, name_vi, name_en) VALUES"
            " ('67', NULL, 'province', 'Tỉnh', 'Đắk Nông', 'Dak Nong'), ('660', '67', 'district', 'Thành phố',"
            " 'Gia Nghĩa', 'Gia Nghia'), ('24615', '660', 'commune', 'Phường', 'Nghĩa Tân', 'Nghia Tan Ward')"
        )
        conn.execute(
            "INSERT INTO alerts (rule_id, kpi, area_code, window_name, severity, state, message, opened_at,"
            " acknowledged_at, acknowledged_by, resolved_at) VALUES"
            " ('publisher-silent', 'ops.publishers_silent', '24615', 'now', 'major', 'acknowledged', 'm', %s, %s,"
            " 'lan', NULL), ('coverage-drop', 'coverage.usable_share', '660', '1h', 'major', 'resolved', 'm', %s,"
            " NULL, NULL, %s)",
            (T0, T0, T0, T0),
        )
        migrate(conn)
        store = AlertStore(conn, POLICY)
        [incident] = store.incidents.in_states(("open", "acknowledged", "resolved"))
        assert (incident.rule_id, incident.area_code, incident.state, incident.acknowledged_by) == (
            "publisher-silent", "24615", "acknowledged", "lan",
        )  # fmt: skip
        assert [a.area_code for a in store.members([incident.id])] == ["24615"]
        # Its lineage is filled in: a village's alert of its rule opened after the upgrade joins it.
        row = conn.execute("SELECT key_lineage FROM incidents").fetchone()
        assert row == (["24615", "660", "67"],)
