"""Where notifications come from: a source reads what happened and says what the outbox still lacks.

`AlertSource` reads the engine's `alerts` table (opened, acknowledged, resolved), so the engine's own
alert code knows nothing of notifications. Another source (incident escalations, once incidents exist)
implements `NotificationSource` and is added to the list in `notify.main`.
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
    a.state, a.message, a.value, a.opened_at, a.acknowledged_at, a.acknowledged_by, a.resolved_at"""
_FROM = " FROM alerts a LEFT JOIN areas ar ON ar.code = a.area_code"
# Unresolved, or resolved recently enough to still be told.
_RECENT = "(a.state <> 'resolved' OR a.resolved_at > now() - make_interval(secs => %(lookback)s))"
_KEY = "'ioc:alert:' || a.id || ':{event}'"
# Every piece of SQL built here is a constant of this module; values go as parameters.
_WRITTEN = "EXISTS (SELECT 1 FROM notification_outbox o WHERE o.idempotency_key = " + _KEY + ")"  # noqa: S608


def skip_muted_sql(conn: Connection) -> str:
    """The one place that leaves muted alerts out (the mute windows of issue 22, item 3, add
    `alerts.muted`): nothing is said of a muted alert's opening, nor is it posted as firing."""
    found = conn.execute(
        "SELECT 1 FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = 'alerts' AND column_name = 'muted'"
    ).fetchone()
    return " AND NOT a.muted" if found else ""


class AlertSource:
    def __init__(self, console_url: str, lookback_seconds: float) -> None:
        self._console_url = console_url.rstrip("/")
        self._lookback = lookback_seconds

    def pending(self, conn: Connection, limit: int) -> list[Notification]:
        muted = skip_muted_sql(conn)
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
        found = [self._notification(row, "opened") for row in opened]
        # An alert opened and resolved between two reads is told in order: opened, acknowledged, resolved.
        for row in opened:
            found += self._later(row, acknowledged_written=False, resolved_written=False)
        for row in later:
            found += self._later(row, row["acknowledged_written"], row["resolved_written"])
        return found

    def firing(self, conn: Connection) -> list[Notification]:
        muted = skip_muted_sql(conn)
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(f"SELECT {_COLUMNS}{_FROM} WHERE a.state <> 'resolved'{muted} ORDER BY a.id").fetchall()
        return [self._notification(row, "firing") for row in rows]

    def _later(self, row: Mapping[str, Any], acknowledged_written: bool, resolved_written: bool) -> list[Notification]:
        found = []
        if row["acknowledged_at"] is not None and not acknowledged_written:
            found.append(self._notification(row, "acknowledged"))
        if row["resolved_at"] is not None and not resolved_written:
            found.append(self._notification(row, "resolved"))
        return found

    def _notification(self, row: Mapping[str, Any], event: str) -> Notification:
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
            "text_vi": alert_text_vi(row, _event_of_state(str(row["state"])) if event == "firing" else event),
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
