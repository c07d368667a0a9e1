"""Incidents: one cause, one incident — the open alerts of one rule in one subtree of areas, together.

An incident is keyed by the highest area of its subtree that has an alert open. An alert that opens
joins the unresolved incident of its rule whose area is its own or above it (eight villages join
their commune's). An alert whose area is above incidents of its rule opened within the grouping
window gathers them: the oldest is re-keyed to the new, higher area and the others merge into it
(the villages went silent first, their commune a moment later: still one incident). The incident
resolves when its last member does. Acknowledging it acknowledges its members. An incident that
stays open — nobody acknowledged it — is due again every `escalate_after` (see the migration).

All in the caller's transaction (the alert store's): an alert and its incident change together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from streams.alerts.evaluator import AlertOpened
from streams.errors import NotFound

ENGINE = "engine"


@dataclass(frozen=True, slots=True)
class IncidentPolicy:
    window_seconds: float = 120.0  # alerts opened this close together, one above the other, are one incident
    escalate_after_seconds: float = 900.0  # 0: never


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    rule_id: str
    kpi: str
    area_code: str
    severity: str
    state: str
    opened_at: datetime
    changed_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_comment: str | None
    resolved_at: datetime | None
    escalate_after: datetime | None
    escalated_at: datetime | None
    escalations: int
    members: int  # alerts it ever held
    open_members: int  # those not resolved


_COLUMNS = (
    "i.id, i.rule_id, i.kpi, i.area_code, i.severity, i.state, i.opened_at, i.changed_at, i.acknowledged_at,"
    " i.acknowledged_by, i.ack_comment, i.resolved_at, i.escalate_after, i.escalated_at, i.escalations,"
    " (SELECT count(*) FROM alerts a WHERE a.incident_id = i.id),"
    " (SELECT count(*) FROM alerts a WHERE a.incident_id = i.id AND a.state <> 'resolved')"
)


class IncidentNotFound(NotFound):
    def __init__(self, incident_id: int, what: str = "incident") -> None:
        super().__init__(f"no {what} {incident_id}", kind=what, key=incident_id)


class IncidentStore:
    def __init__(self, conn: psycopg.Connection[tuple[object, ...]], policy: IncidentPolicy) -> None:
        self._conn = conn
        self._policy = policy

    def join(self, alert_id: int, alert: AlertOpened, at: datetime) -> int:
        """Put a newly opened alert into its incident (found, gathered or new); returns the incident's id."""
        lineage = list(alert.lineage or (alert.area,))
        rule = alert.rule.id
        above = self._conn.execute(
            "SELECT id FROM incidents WHERE rule_id = %s AND state <> 'resolved' AND area_code = ANY(%s)"
            " ORDER BY cardinality(key_lineage), opened_at, id LIMIT 1 FOR UPDATE",
            (rule, lineage),
        ).fetchone()
        if above is not None:
            incident = int(str(above[0]))
            self._touch(incident, at, "joined", alert.area)
        else:
            below = [
                int(str(row[0]))
                for row in self._conn.execute(
                    "SELECT id FROM incidents WHERE rule_id = %s AND state <> 'resolved' AND %s = ANY(key_lineage)"
                    " AND opened_at >= %s ORDER BY opened_at, id FOR UPDATE",
                    (rule, alert.area, at - timedelta(seconds=self._policy.window_seconds)),
                ).fetchall()
            ]
            if below:
                incident = below[0]
                self._conn.execute(
                    "UPDATE incidents SET area_code = %s, key_lineage = %s WHERE id = %s",
                    (alert.area, lineage, incident),
                )
                for other in below[1:]:
                    self._merge(other, incident, at)
                self._touch(incident, at, "joined", alert.area)
            else:
                incident = self._new(alert, lineage, at)
        self._conn.execute("UPDATE alerts SET incident_id = %s WHERE id = %s", (incident, alert_id))
        return incident

    def leave(self, alert_id: int, at: datetime) -> None:
        """A member resolved: the incident shrinks, and resolves with its last member."""
        row = self._conn.execute("SELECT incident_id, area_code FROM alerts WHERE id = %s", (alert_id,)).fetchone()
        if row is None or row[0] is None:
            return  # an alert from before incidents existed
        incident = int(str(row[0]))
        self._touch(incident, at, "left", str(row[1]))
        resolved = self._conn.execute(
            "UPDATE incidents SET state = 'resolved', resolved_at = %s WHERE id = %s AND state <> 'resolved'"
            " AND NOT EXISTS (SELECT 1 FROM alerts WHERE incident_id = %s AND state <> 'resolved') RETURNING id",
            (at, incident, incident),
        ).fetchone()
        if resolved is not None:
            self._history(incident, at, "resolved", ENGINE, "its last alert resolved")

    def acknowledge(self, incident_id: int, who: str, now: datetime, comment: str | None) -> list[int]:
        """open -> acknowledged; returns its open members (for the alert store to acknowledge).
        Raises IncidentNotFound when there is no open incident with that id."""
        row = self._conn.execute(
            "UPDATE incidents SET state = 'acknowledged', acknowledged_at = %s, acknowledged_by = %s, ack_comment = %s"
            " WHERE id = %s AND state = 'open' RETURNING id",
            (now, who, comment, incident_id),
        ).fetchone()
        if row is None:
            raise IncidentNotFound(incident_id, "open incident")
        self._history(incident_id, now, "acknowledged", who, comment or "")
        rows = self._conn.execute(
            "SELECT id FROM alerts WHERE incident_id = %s AND state = 'open' ORDER BY id", (incident_id,)
        ).fetchall()
        return [int(str(r[0])) for r in rows]

    def acknowledge_when_all_are(self, incident_id: int, who: str, now: datetime) -> None:
        """Its members acknowledged one by one: the incident is acknowledged once none is left open."""
        row = self._conn.execute(
            "UPDATE incidents SET state = 'acknowledged', acknowledged_at = %s, acknowledged_by = %s"
            " WHERE id = %s AND state = 'open'"
            " AND NOT EXISTS (SELECT 1 FROM alerts WHERE incident_id = %s AND state = 'open') RETURNING id",
            (now, who, incident_id, incident_id),
        ).fetchone()
        if row is not None:
            self._history(incident_id, now, "acknowledged", who, "each of its alerts was acknowledged")

    def escalate_due(self, now: datetime) -> list[int]:
        """Incidents still open at their `escalate_after`: recorded as escalated, the next one set."""
        delay = timedelta(seconds=self._policy.escalate_after_seconds)
        rows = self._conn.execute(
            "UPDATE incidents SET escalated_at = %s, escalations = escalations + 1, escalate_after = %s"
            " WHERE state = 'open' AND escalate_after <= %s RETURNING id, escalations",
            (now, now + delay, now),
        ).fetchall()
        for incident, count in rows:
            self._history(int(str(incident)), now, "escalated", ENGINE, f"not acknowledged: notification {count}")
        return sorted(int(str(r[0])) for r in rows)

    def in_states(self, states: tuple[str, ...]) -> list[Incident]:
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM incidents i WHERE i.state = ANY(%s) ORDER BY i.opened_at DESC, i.id DESC",  # noqa: S608
            (list(states),),
        ).fetchall()
        return [Incident(*row) for row in rows]  # type: ignore[arg-type]

    def get(self, incident_id: int) -> Incident:
        row = self._conn.execute(f"SELECT {_COLUMNS} FROM incidents i WHERE i.id = %s", (incident_id,)).fetchone()  # noqa: S608
        if row is None:
            raise IncidentNotFound(incident_id)
        return Incident(*row)  # type: ignore[arg-type]

    def history(self, incident_id: int) -> list[tuple[datetime, str, str, str]]:
        rows = self._conn.execute(
            "SELECT at, change, actor, detail FROM incident_history WHERE incident_id = %s ORDER BY at, change, detail",
            (incident_id,),
        ).fetchall()
        return [(at, str(change), str(actor), str(detail)) for at, change, actor, detail in rows]  # type: ignore[misc]

    def _new(self, alert: AlertOpened, lineage: list[str], at: datetime) -> int:
        delay = self._policy.escalate_after_seconds
        row = self._conn.execute(
            "INSERT INTO incidents (rule_id, kpi, area_code, key_lineage, severity, state, opened_at, changed_at,"
            " escalate_after) VALUES (%s, %s, %s, %s, %s, 'open', %s, %s, %s) RETURNING id",
            (alert.rule.id, alert.rule.kpi, alert.area, lineage, alert.rule.severity, at, at,
             at + timedelta(seconds=delay) if delay > 0 else None),
        ).fetchone()  # fmt: skip
        assert row is not None
        incident = int(str(row[0]))
        self._history(incident, at, "opened", ENGINE, alert.area)
        return incident

    def _merge(self, other: int, into: int, at: datetime) -> None:
        self._conn.execute("UPDATE alerts SET incident_id = %s WHERE incident_id = %s", (into, other))
        self._conn.execute(
            "UPDATE incidents SET state = 'resolved', resolved_at = %s, changed_at = %s WHERE id = %s", (at, at, other)
        )
        self._history(other, at, "merged", ENGINE, f"into incident {into}")
        self._history(into, at, "merged", ENGINE, f"incident {other}")

    def _touch(self, incident: int, at: datetime, change: str, area: str) -> None:
        self._conn.execute("UPDATE incidents SET changed_at = greatest(changed_at, %s) WHERE id = %s", (at, incident))
        self._history(incident, at, change, ENGINE, area)

    def _history(self, incident: int, at: datetime, change: str, actor: str, detail: str) -> None:
        self._conn.execute(
            "INSERT INTO incident_history (incident_id, at, change, actor, detail) VALUES (%s, %s, %s, %s, %s)",
            (incident, at, change, actor, detail),
        )
