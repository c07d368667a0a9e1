"""Alerts in the database: open, resolve and acknowledge, each with a history row (all SQL of alerts is here;
their incidents' is in incidents.py, in the same transactions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from streams.alerts.evaluator import AlertAction, AlertKey, AlertOpened
from streams.alerts.incidents import IncidentPolicy, IncidentStore
from streams.errors import NotFound
from streams.records import MICROS, from_micros

ENGINE = "engine"


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    rule_id: str
    kpi: str
    area_code: str
    window: str
    severity: str
    state: str
    message: str
    opened_at: datetime
    acknowledged_by: str | None
    value: float | None = None
    threshold: float | None = None
    unit: str = ""
    since: datetime | None = None
    publishers: tuple[str, ...] = ()
    acknowledged_at: datetime | None = None
    ack_comment: str | None = None
    resolved_at: datetime | None = None
    incident_id: int | None = None
    muted_by: int | None = None  # the mute that covers it (streams.alerts.mutes): no action, no notification


class AlertNotFound(NotFound):
    """No open alert with this id (one acknowledged or resolved is no longer open)."""

    def __init__(self, alert_id: int) -> None:
        super().__init__(f"no open alert {alert_id}", kind="open alert", key=alert_id)


_COLUMNS = (
    "id, rule_id, kpi, area_code, window_name, severity, state, message, opened_at, acknowledged_by, value,"
    " threshold, unit, coalesce(since, opened_at), publishers, acknowledged_at, ack_comment, resolved_at, incident_id,"
    " muted_by"
)


class UnknownAlert(NotFound):
    """No alert with this id at all, in any state."""

    def __init__(self, alert_id: int) -> None:
        super().__init__(f"alert {alert_id} does not exist", kind="alert", key=alert_id)


class AlertStore:
    def __init__(self, conn: psycopg.Connection[tuple[object, ...]], policy: IncidentPolicy | None = None) -> None:
        self._conn = conn
        self._incidents = IncidentStore(conn, policy or IncidentPolicy())

    def apply(self, actions: list[AlertAction]) -> None:
        with self._conn.transaction():
            for action in actions:
                if isinstance(action, AlertOpened):
                    self._open(action)
                    continue
                at = from_micros(action.at_us)
                resolved = self._record(
                    "UPDATE alerts SET state = 'resolved', resolved_at = %s"
                    " WHERE rule_id = %s AND area_code = %s AND state <> 'resolved' RETURNING id",
                    (at, action.rule_id, action.area), "resolved", ENGINE, action.detail, action.at_us,
                )  # fmt: skip
                if resolved is not None:
                    self._incidents.leave(resolved, at)

    def _open(self, a: AlertOpened) -> None:
        at = from_micros(a.at_us)
        since = at if a.since_us is None else from_micros(a.since_us)
        alert_id = self._record(
            "INSERT INTO alerts (rule_id, kpi, area_code, window_name, severity, state, message, value, opened_at,"
            " threshold, unit, since, publishers, muted_by)"
            " VALUES (%s, %s, %s, %s, %s, 'open', %s, %s, %s, %s, %s, %s, %s, alert_mute_of(%s, %s, now()))"
            " ON CONFLICT (rule_id, area_code) WHERE state <> 'resolved' DO NOTHING RETURNING id",
            (a.rule.id, a.rule.kpi, a.area, a.rule.window, a.rule.severity, a.message, a.value, at, a.threshold,
             a.unit, since, list(a.publishers), a.rule.id, a.area),
            "open", ENGINE, a.message, a.at_us,
        )  # fmt: skip
        if alert_id is not None:
            self._incidents.join(alert_id, a, at)

    def _record(
        self, statement: str, params: tuple[object, ...], state: str, actor: str, detail: str, at_us: int
    ) -> int | None:
        row = self._conn.execute(statement, params).fetchone()
        if row is None:
            return None  # already in that state: nothing happened, nothing to record
        alert_id = int(str(row[0]))
        self._conn.execute(
            "INSERT INTO alert_history (alert_id, at, state, actor, detail) VALUES (%s, %s, %s, %s, %s)",
            (alert_id, from_micros(at_us), state, actor, detail),
        )
        return alert_id

    def acknowledge(self, alert_id: int, who: str, now: datetime, comment: str | None = None) -> None:
        """open -> acknowledged, with an optional comment (kept, and in the history); its incident is
        acknowledged too once none of its members is open. Raises AlertNotFound when there is no open
        alert with that id."""
        with self._conn.transaction():
            done = self.acknowledge_in_transaction(alert_id, who, now, comment)
            if done is not None:
                self._incidents.acknowledge_when_all_are(done, who, now)
        if done is None:
            raise AlertNotFound(alert_id)

    def acknowledge_in_transaction(self, alert_id: int, who: str, now: datetime, comment: str | None) -> int | None:
        """The alert's incident id (0 when it has none) when it was open; None when it was not."""
        row = self._conn.execute(
            "UPDATE alerts SET state = 'acknowledged', acknowledged_at = %s, acknowledged_by = %s, ack_comment = %s"
            " WHERE id = %s AND state = 'open' RETURNING incident_id",
            (now, who, comment, alert_id),
        ).fetchone()
        if row is None:
            return None
        self._conn.execute(
            "INSERT INTO alert_history (alert_id, at, state, actor, detail) VALUES (%s, %s, 'acknowledged', %s, %s)",
            (alert_id, from_micros(int(now.timestamp() * MICROS)), who, comment or ""),
        )
        return 0 if row[0] is None else int(str(row[0]))

    def acknowledge_incident(self, incident_id: int, who: str, now: datetime, comment: str | None = None) -> list[int]:
        """The incident and each of its open alerts acknowledged together (the ids of those alerts).
        Raises IncidentNotFound when there is no open incident with that id."""
        with self._conn.transaction():
            members = self._incidents.acknowledge(incident_id, who, now, comment)
            for alert_id in members:
                self.acknowledge_in_transaction(alert_id, who, now, comment)
        return members

    @property
    def incidents(self) -> IncidentStore:
        return self._incidents

    def get(self, alert_id: int) -> Alert | None:
        row = self._conn.execute(f"SELECT {_COLUMNS} FROM alerts WHERE id = %s", (alert_id,)).fetchone()  # noqa: S608
        return None if row is None else _alert(row)

    def members(self, incident_ids: list[int]) -> list[Alert]:
        """The alerts of these incidents, oldest first."""
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM alerts WHERE incident_id = ANY(%s) ORDER BY opened_at, id",  # noqa: S608
            (incident_ids,),
        ).fetchall()
        return [_alert(row) for row in rows]

    def unresolved_keys(self) -> list[AlertKey]:
        rows = self._conn.execute("SELECT rule_id, area_code FROM alerts WHERE state <> 'resolved'").fetchall()
        return [(str(rule), str(area)) for rule, area in rows]

    def in_states(self, states: tuple[str, ...] = ("open", "acknowledged")) -> list[Alert]:
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM alerts WHERE state = ANY(%s) ORDER BY opened_at DESC, id DESC",  # noqa: S608
            (list(states),),
        ).fetchall()
        return [_alert(row) for row in rows]

    def history(self, alert_id: int) -> list[tuple[datetime, str, str, str]]:
        rows = self._conn.execute(
            "SELECT at, state, actor, detail FROM alert_history WHERE alert_id = %s ORDER BY at, state", (alert_id,)
        ).fetchall()
        return [(at, str(state), str(actor), str(detail)) for at, state, actor, detail in rows]  # type: ignore[misc]


def _alert(row: tuple[object, ...]) -> Alert:
    fields = list(row)
    fields[14] = tuple(fields[14] or ())  # type: ignore[arg-type]
    return Alert(*fields)  # type: ignore[arg-type]
