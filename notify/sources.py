"""Where notifications come from: a source reads what happened and says what the outbox still lacks.

`AlertSource` reads the engine's `alerts` table (opened, acknowledged, resolved), so the engine's own
alert code knows nothing of notifications; `EscalationSource` reads the incidents the engine marked due
again because nobody acknowledged them (`incidents.escalations`). Both are listed in `notify.main`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

import psycopg
from psycopg.rows import dict_row

from notify.alert_text import alert_text_vi
from notify.notification import Notification
from streams.alerts.area_book import AreaBook

Connection = psycopg.Connection[tuple[object, ...]]


class NotificationSource(Protocol):
    """A source of notifications; both methods run inside the notifier's transaction."""

    def pending(self, conn: Connection, limit: int) -> list[Notification]:
        """Events that have happened and have no outbox row yet (at most `limit`), oldest first."""
        ...

    def firing(self, conn: Connection) -> list[Notification]:
        """What is still going on, posted to Alertmanager again and again so that it stays active."""
        ...


_COLUMNS = """
    a.id, a.rule_id, a.kpi, a.area_code, ar.name_vi AS area_name_vi, a.window_name AS window, a.severity,
    a.state, a.message, a.value, a.threshold, a.unit, coalesce(a.since, a.opened_at) AS since, a.publishers,
    a.opened_at, a.acknowledged_at, a.acknowledged_by, a.resolved_at"""
_FROM = " FROM alerts a LEFT JOIN areas ar ON ar.code = a.area_code"
# Unresolved, or resolved recently enough to still be told.
_RECENT = "(a.state <> 'resolved' OR a.resolved_at > now() - make_interval(secs => %(lookback)s))"
_KEY = "'ioc:alert:' || a.id || ':{event}'"
# Every piece of SQL built here is a constant of this module; values go as parameters.
_WRITTEN = "EXISTS (SELECT 1 FROM notification_outbox o WHERE o.idempotency_key = " + _KEY + ")"  # noqa: S608


# The one place that leaves muted alerts out (a mute window in force covers them: `alerts.muted_by`):
# nothing is said of a muted alert's opening, nor is it posted as firing.
_NOT_MUTED = " AND a.muted_by IS NULL"


class AlertSource:
    def __init__(self, console_url: str, lookback_seconds: float) -> None:
        self._console_url = console_url.rstrip("/")
        self._lookback = lookback_seconds

    def pending(self, conn: Connection, limit: int) -> list[Notification]:
        muted = _NOT_MUTED
        args = {"lookback": self._lookback, "limit": limit}
        with conn.cursor(row_factory=dict_row) as cur:
            opened = cur.execute(
                f"SELECT {_COLUMNS}{_FROM} WHERE {_RECENT}{muted} AND NOT {_WRITTEN.format(event='opened')}"
                " ORDER BY a.id LIMIT %(limit)s",
                args,
            ).fetchall()
            # Later events only of alerts whose opening was told (a muted one's never was).
            later = cur.execute(
                f"SELECT {_COLUMNS}, {_WRITTEN.format(event='acknowledged')} AS acknowledged_written,"
                f" {_WRITTEN.format(event='resolved')} AS resolved_written{_FROM}"
                f" WHERE {_RECENT} AND (a.acknowledged_at IS NOT NULL OR a.resolved_at IS NOT NULL)"
                f" AND {_WRITTEN.format(event='opened')}"
                f" AND ((a.acknowledged_at IS NOT NULL AND NOT {_WRITTEN.format(event='acknowledged')})"
                f"   OR (a.resolved_at IS NOT NULL AND NOT {_WRITTEN.format(event='resolved')}))"
                " ORDER BY a.id LIMIT %(limit)s",
                args,
            ).fetchall()
        areas = AreaBook.read(conn)
        found = [self.notification(row, "opened", areas) for row in opened]
        # An alert opened and resolved between two reads is told in order: opened, acknowledged, resolved.
        for row in opened:
            found += self._later(row, False, False, areas)
        for row in later:
            found += self._later(row, row["acknowledged_written"], row["resolved_written"], areas)
        return found

    def firing(self, conn: Connection) -> list[Notification]:
        muted = _NOT_MUTED
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(f"SELECT {_COLUMNS}{_FROM} WHERE a.state <> 'resolved'{muted} ORDER BY a.id").fetchall()
        areas = AreaBook.read(conn)
        return [self.notification(row, "firing", areas) for row in rows]

    def _later(
        self, row: Mapping[str, Any], acknowledged_written: bool, resolved_written: bool, areas: AreaBook
    ) -> list[Notification]:
        found = []
        if row["acknowledged_at"] is not None and not acknowledged_written:
            found.append(self.notification(row, "acknowledged", areas))
        if row["resolved_at"] is not None and not resolved_written:
            found.append(self.notification(row, "resolved", areas))
        return found

    def notification(self, row: Mapping[str, Any], event: str, areas: AreaBook) -> Notification:
        alert_id = int(row["id"])
        url = f"{self._console_url}#alert={alert_id}"
        alert = {k: _json_value(v) for k, v in row.items() if not k.endswith("_written")}
        labels = {
            "alertname": str(row["rule_id"]),
            "area": str(row["area_code"]),
            "kpi": str(row["kpi"]),
            "window": str(row["window"]),
            "severity": str(row["severity"]),
            "ioc_alert_id": str(alert_id),
        }
        key = f"ioc:alert:{alert_id}:{event}"
        payload = {
            "idempotency_key": key,
            "event": event,
            "subject": f"alert:{alert_id}",
            "text_vi": alert_text_vi(row, _event_of_state(str(row["state"])) if event == "firing" else event, areas),
            "url": url,
            "starts_at": alert["opened_at"],
            # Set once resolved: Alertmanager then shows it resolved at that time.
            "ends_at": alert["resolved_at"] if event == "resolved" else None,
            "labels": labels,
            "alert": alert,
        }
        return Notification(subject=f"alert:{alert_id}", event=event, key=key, payload=payload)


def _event_of_state(state: str) -> str:
    return "acknowledged" if state == "acknowledged" else "opened"


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON (and jsonb) has no NaN nor infinity
    return value


class EscalationSource:
    """An incident still open that nobody acknowledged: each time the engine raises its `escalations`,
    one notification with the text of its alert in its own area (or of its first open one)."""

    def __init__(self, console_url: str, lookback_seconds: float) -> None:
        self._alerts = AlertSource(console_url, lookback_seconds)
        self._console_url = console_url.rstrip("/")
        self._lookback = lookback_seconds

    def pending(self, conn: Connection, limit: int) -> list[Notification]:
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                f"SELECT i.id AS incident_id, i.escalations, i.escalated_at, i.area_code AS incident_area,{_COLUMNS}"  # noqa: S608
                " FROM incidents i CROSS JOIN LATERAL (SELECT * FROM alerts m WHERE m.incident_id = i.id"
                "  AND m.state <> 'resolved' ORDER BY (m.area_code = i.area_code) DESC, m.id LIMIT 1) a"
                " LEFT JOIN areas ar ON ar.code = a.area_code"
                " WHERE i.state = 'open' AND i.escalations > 0 AND a.muted_by IS NULL"
                " AND i.escalated_at > now() - make_interval(secs => %(lookback)s)"
                " AND NOT EXISTS (SELECT 1 FROM notification_outbox o WHERE o.idempotency_key ="
                "  'ioc:incident:' || i.id || ':escalation:' || i.escalations)"
                " ORDER BY i.id LIMIT %(limit)s",
                {"lookback": self._lookback, "limit": limit},
            ).fetchall()
        areas = AreaBook.read(conn)
        return [self._notification(row, areas) for row in rows]

    def firing(self, conn: Connection) -> list[Notification]:
        return []  # its alerts are posted as firing by AlertSource

    def _notification(self, row: Mapping[str, Any], areas: AreaBook) -> Notification:
        incident, times = int(row["incident_id"]), int(row["escalations"])
        told = self._alerts.notification(row, "escalated", areas)
        key = f"ioc:incident:{incident}:escalation:{times}"
        payload = {
            **told.payload,
            "idempotency_key": key,
            "subject": f"incident:{incident}",
            "text_vi": f"{told.payload['text_vi']} (chưa ai tiếp nhận, nhắc lại lần {times})",
            "url": f"{self._console_url}#incident={incident}",
            "starts_at": _json_value(row["escalated_at"]),
            "labels": {**told.payload["labels"], "ioc_incident_id": str(incident), "escalation": str(times)},
        }
        return Notification(subject=f"incident:{incident}", event="escalated", key=key, payload=payload)
