"""A real Alertmanager holds an alert within 5 s of its opening, still holds it past its own
`resolve_timeout` while the alert stays open, and shows it resolved once it is."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import pytest

from deploy.stack.alertmanager import AlertmanagerService
from deploy.stack.manager import LocalStack
from tests.fixtures.notify import (
    ALERTMANAGER_RESOLVE_TIMEOUT_SECONDS,
    acknowledge_alert,
    alertmanager_alerts,
    notifier,
    open_alert,
    resolve_alert,
    wait_for,
)
from tests.fixtures.stack import IsolatedDatabase

pytestmark = pytest.mark.integration


def test_alertmanager_holds_an_open_alert_past_its_resolve_timeout_and_sees_it_resolved(
    stack: LocalStack, database: IsolatedDatabase, alertmanager: AlertmanagerService, tmp_path: Path
) -> None:
    run = database.name  # a label of this test's own: the Alertmanager is shared by the session
    settings = {
        "IOC_NOTIFY_ALERTMANAGER_URL": alertmanager.url(),
        "IOC_NOTIFY_ALERTMANAGER_LABELS": json.dumps({"test_run": run}),
        # Re-posted every 2 s, each post valid for 8 s: past the 5 s resolve_timeout only by re-posting.
        "IOC_NOTIFY_ALERTMANAGER_REPOST_SECONDS": "2",
    }
    with database.connect() as db, notifier(stack, database, tmp_path / "notify.log", **settings):
        area, name_vi = db.execute("SELECT code, name_vi FROM areas WHERE level = 'commune' ORDER BY code").fetchone()  # type: ignore[misc]
        alert_id = open_alert(db, str(area), message='Ngưỡng "im lặng"\nvượt quá — 1 > 0 ✓')
        opened = time.monotonic()
        held = wait_for(lambda: alertmanager_alerts(alertmanager, test_run=run), 5, "the alert in Alertmanager")
        assert time.monotonic() - opened < 5
        assert len(held) == 1
        alert = held[0]
        assert alert["status"]["state"] == "active"
        assert alert["labels"] == {
            "alertname": "ops.publishers_silent",
            "area": area,
            "kpi": "ops.publishers_silent",
            "window": "now",
            "severity": "major",
            "ioc_alert_id": str(alert_id),
            "test_run": run,
        }
        # The alert's own text for people (streams/alerts/messages.yaml), its severity and what happened.
        summary = alert["annotations"]["summary"]
        assert summary.startswith("[Nghiêm trọng] Nguồn dữ liệu im lặng (hiện tại) ở ")
        assert name_vi in summary
        assert " là 1" in summary
        assert summary.endswith(" — đang mở")
        assert alert["annotations"]["description"] == 'Ngưỡng "im lặng"\nvượt quá — 1 > 0 ✓'
        assert alert["annotations"]["console_url"] == f"https://ioc.example.vn/console#alert={alert_id}"
        assert alert["generatorURL"] == f"https://ioc.example.vn/console#alert={alert_id}"

        # Well past resolve_timeout (and past one post's validity): still active, because it is re-posted.
        time.sleep(ALERTMANAGER_RESOLVE_TIMEOUT_SECONDS + 6)
        later = alertmanager_alerts(alertmanager, test_run=run)
        assert [a["status"]["state"] for a in later] == ["active"]
        assert _time(later[0]["updatedAt"]) > _time(alert["updatedAt"])  # posted again meanwhile
        assert _time(later[0]["endsAt"]) > _time(alert["endsAt"])

        acknowledge_alert(db, alert_id)
        wait_for(
            lambda: alertmanager_alerts(alertmanager, test_run=run)[0]["annotations"]["state"] == "acknowledged",
            5,
            "the acknowledgement in Alertmanager",
        )
        resolve_alert(db, alert_id)
        # Resolved (its endsAt the resolution time): Alertmanager's API no longer lists it.
        wait_for(lambda: not alertmanager_alerts(alertmanager, test_run=run), 5, "the alert resolved in Alertmanager")
        outbox = "SELECT receiver, event, state, attempts FROM notification_outbox ORDER BY id"
        wait_for(lambda: db.execute(outbox).fetchall()[-1][2] == "delivered", 5, "the resolution recorded")
        rows = db.execute(outbox).fetchall()
    assert rows == [
        ("alertmanager", "opened", "delivered", 1),
        ("alertmanager", "acknowledged", "delivered", 1),
        ("alertmanager", "resolved", "delivered", 1),
    ]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
