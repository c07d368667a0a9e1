"""From a payment over MQTT to Alertmanager: the real ingest and engine raise the alert, `ioc notify`
posts it, Alertmanager holds it, and lets it go once the engine resolves it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from deploy.stack.alertmanager import AlertmanagerService
from deploy.stack.manager import LocalStack
from ingest.service.stored_events_publisher import StoredEventsPublisher
from streams.alerts.rules import AlertRule
from tests import factories
from tests.fixtures.ingest import Publisher, RunningIngest
from tests.fixtures.notify import alertmanager_alerts, notifier, wait_for
from tests.fixtures.stack import IsolatedDatabase
from tests.fixtures.streams import RunningEngine

pytestmark = pytest.mark.integration


def test_an_alert_the_engine_opens_reaches_alertmanager_and_leaves_it_when_resolved(
    stack: LocalStack,
    database: IsolatedDatabase,
    db: psycopg.Connection[tuple[object, ...]],
    redis_url: str,
    alertmanager: AlertmanagerService,
    start_ingest: Callable[..., RunningIngest],
    start_engine: Callable[..., RunningEngine],
    register_publisher: Callable[..., Publisher],
    tmp_path: Path,
) -> None:
    rule = AlertRule(id="cash-heavy", kpi="payments.cashless_share", window="5m", levels=("province",), below=50)
    start_ingest(stored_events=StoredEventsPublisher(redis_url, producer="ingest-under-test"))
    start_engine(rules=[rule])
    payments = register_publisher("payments", "67")

    def pay(method: str, count: int) -> None:
        for _ in range(count):
            body = factories.transaction(area_code="24611", method=method, amount_vnd=100_000)
            payments.client.publish(payments.topic("transaction"), factories.encode(body))

    run = database.name
    settings = {
        "IOC_NOTIFY_ALERTMANAGER_URL": alertmanager.url(),
        "IOC_NOTIFY_ALERTMANAGER_LABELS": json.dumps({"test_run": run}),
    }
    with notifier(stack, database, tmp_path / "notify.log", **settings):
        pay("cash", 3)
        wait_for(lambda: db.execute("SELECT count(*) FROM alerts").fetchone() == (1,), 30, "the engine's alert")
        opened = time.monotonic()
        (held,) = wait_for(lambda: alertmanager_alerts(alertmanager, test_run=run), 5, "the alert in Alertmanager")
        assert time.monotonic() - opened < 5
        assert held["labels"]["alertname"] == "cash-heavy"
        assert held["labels"]["area"] == "67"
        assert held["annotations"]["description"] == "payments.cashless_share (5m) in 67 is 0, below 50"
        # The alert's own text for people, as the wall and the console say it.
        assert held["annotations"]["summary"].startswith("[Cảnh báo] Tỷ lệ thanh toán không dùng tiền mặt")
        pay("qr", 4)  # 4 of 7 payments without cash: 57 %, the condition clears
        wait_for(lambda: not alertmanager_alerts(alertmanager, test_run=run), 30, "the alert resolved")
        assert db.execute("SELECT state FROM alerts").fetchall() == [("resolved",)]
