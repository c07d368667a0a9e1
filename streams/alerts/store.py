"""Alerts in the database: open, resolve and acknowledge, each with a history row (all SQL of alerts is here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from streams.alerts.evaluator import AlertAction, AlertKey, AlertOpened
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


class AlertNotFound(NotFound):
    """No open alert with this id (one acknowledged or resolved is no longer open)."""

    def __init__(self, alert_id: int) -> None:
        super().__init__(f"no open alert {alert_id}", kind="open alert", key=alert_id)


class UnknownAlert(NotFound):
    """No alert with this id at all, in any state."""

    def __init__(self, alert_id: int) -> None:
        super().__init__(f"alert {alert_id} does not exist", kind="alert", key=alert_id)


class AlertStore:
    def __init__(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        self._conn = conn

    def apply(self, actions: list[AlertAction]) -> None:
        with self._conn.transaction():
            for action in actions:
                if isinstance(action, AlertOpened):
                    self._open(action)
                else:
                    self._record(
                        "UPDATE alerts SET state = 'resolved', resolved_at = %s"
                        " WHERE rule_id = %s AND area_code = %s AND state <> 'resolved' RETURNING id",
                        (from_micros(action.at_us), action.rule_id, action.area),
                        "resolved", ENGINE, action.detail, action.at_us,
                    )  # fmt: skip

    def _open(self, a: AlertOpened) -> None:
        self._record(
            "INSERT INTO alerts (rule_id, kpi, area_code, window_name, severity, state, message, value, opened_at)"
            " VALUES (%s, %s, %s, %s, %s, 'open', %s, %s, %s)"
            " ON CONFLICT (rule_id, area_code) WHERE state <> 'resolved' DO NOTHING RETURNING id",
            (a.rule.id, a.rule.kpi, a.area, a.rule.window, a.rule.severity, a.message, a.value, from_micros(a.at_us)),
            "open", ENGINE, a.message, a.at_us,
        )  # fmt: skip

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

    def acknowledge(self, alert_id: int, who: str, now: datetime) -> None:
        """open -> acknowledged; raises AlertNotFound when there is no open alert with that id."""
        with self._conn.transaction():
            done = self._record(
                "UPDATE alerts SET state = 'acknowledged', acknowledged_at = %s, acknowledged_by = %s"
                " WHERE id = %s AND state = 'open' RETURNING id",
                (now, who, alert_id), "acknowledged", who, "", int(now.timestamp() * MICROS),
            )  # fmt: skip
        if done is None:
            raise AlertNotFound(alert_id)

    def unresolved_keys(self) -> list[AlertKey]:
        rows = self._conn.execute("SELECT rule_id, area_code FROM alerts WHERE state <> 'resolved'").fetchall()
        return [(str(rule), str(area)) for rule, area in rows]

    def in_states(self, states: tuple[str, ...] = ("open", "acknowledged")) -> list[Alert]:
        rows = self._conn.execute(
            "SELECT id, rule_id, kpi, area_code, window_name, severity, state, message, opened_at, acknowledged_by"
            " FROM alerts WHERE state = ANY(%s) ORDER BY opened_at DESC, id DESC",
            (list(states),),
        ).fetchall()
        return [Alert(*row) for row in rows]  # type: ignore[arg-type]

    def history(self, alert_id: int) -> list[tuple[datetime, str, str, str]]:
        rows = self._conn.execute(
            "SELECT at, state, actor, detail FROM alert_history WHERE alert_id = %s ORDER BY at, state", (alert_id,)
        ).fetchall()
        return [(at, str(state), str(actor), str(detail)) for at, state, actor, detail in rows]  # type: ignore[misc]
