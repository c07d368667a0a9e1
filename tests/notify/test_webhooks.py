"""Signed webhooks that hang, fail or are gone do not stop the others; what is given up is listed as failed.
(A receiver that refuses connections for a while: tests/verify/test_trust_notifications.py.)"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.stack.manager import LocalStack
from tests.fixtures.api import bearer
from tests.fixtures.notify import (
    HOSTILE,
    SECRET,
    WebhookServer,
    notifier,
    open_alert,
    outbox_rows,
    resolve_alert,
    some_village,
    wait_for,
    webhooks_setting,
)
from tests.fixtures.stack import IsolatedDatabase

pytestmark = pytest.mark.integration


def test_hanging_failing_and_gone_receivers_do_not_stop_the_others_and_are_listed(
    stack: LocalStack,
    database: IsolatedDatabase,
    webhook_server: Callable[..., WebhookServer],
    client: httpx.Client,
    tmp_path: Path,
) -> None:
    good, hangs, fails, gone = webhook_server(), webhook_server("hang"), webhook_server(500), webhook_server(410)
    settings = {
        "IOC_NOTIFY_WEBHOOKS": webhooks_setting(
            ("good", good.url, SECRET), ("hangs", hangs.url, SECRET), ("fails", fails.url, SECRET),
            ("gone", gone.url, SECRET),
        ),
        "IOC_NOTIFY_REQUEST_TIMEOUT_SECONDS": "1",
        "IOC_NOTIFY_RETRY_INITIAL_SECONDS": "0.5",
        "IOC_NOTIFY_RETRY_MAX_DELAY_SECONDS": "1",
        "IOC_NOTIFY_RETRY_FOR_SECONDS": "6",
    }  # fmt: skip
    with database.connect() as db:
        with notifier(stack, database, tmp_path / "notify.log", **settings) as running:
            alert_id = open_alert(db, some_village(db), message=HOSTILE)
            wait_for(lambda: len(good.received) == 1, 5, "the good receiver served while another hangs")
            # Gone (410) is for good: failed at once, never tried again.
            wait_for(lambda: [r[1:3] for r in outbox_rows(db, "webhook:gone")] == [("failed", 1)], 5, "410 given up")
            # A 500 and a timeout are retried with backoff, then given up after IOC_NOTIFY_RETRY_FOR_SECONDS.
            wait_for(lambda: outbox_rows(db, "webhook:fails")[0][1] == "failed", 15, "500 given up after retrying")
            wait_for(lambda: outbox_rows(db, "webhook:hangs")[0][1] == "failed", 15, "timeout given up after retrying")
            # The next event of the alert goes out once the one before it is delivered or given up.
            resolve_alert(db, alert_id)
            gone_twice = [("failed", 1), ("failed", 1)]
            gone_rows = lambda: [r[1:3] for r in outbox_rows(db, "webhook:gone")]  # noqa: E731
            wait_for(lambda: gone_rows() == gone_twice, 5, "the resolution refused")
            wait_for(lambda: len(hangs.received) >= 3, 5, "the resolution to the hanging receiver")
            wait_for(lambda: len(good.received) == 2, 5, "the resolution where it is welcome")
            ops = f"http://127.0.0.1:{running.health_port}"
            health = httpx.get(f"{ops}/health", timeout=5).json()
            assert health["status"] == "ok"  # its receivers' troubles are theirs: a restart would not help
            assert health["receivers"]["webhook:good"] == "ok"
            assert health["receivers"]["webhook:gone"] == f"ioc:alert:{alert_id}:resolved: HTTP 410"
            metrics = httpx.get(f"{ops}/metrics", timeout=5).text
            assert 'ioc_notify_attempts_total{outcome="refused",receiver="webhook:gone"} 2.0' in metrics
            assert 'ioc_notify_failed_total{receiver="webhook:gone"} 2.0' in metrics
            stopping = time.monotonic()  # while a request to the hanging receiver is in flight
        # Leaving the block sent SIGTERM, and the notifier exited 0 within its request timeout and a margin.
        assert time.monotonic() - stopping < 1 + 4
        assert [r[1:3] for r in outbox_rows(db, "webhook:gone")] == [("failed", 1), ("failed", 1)]
        assert len(gone.received) == 2
        assert len(fails.received) >= 3
        assert len(hangs.received) >= 2
        fails_row, hangs_row = outbox_rows(db, "webhook:fails")[0], outbox_rows(db, "webhook:hangs")[0]
        assert fails_row[3] == "HTTP 500"
        assert str(hangs_row[3]).startswith("timeout")
        assert [r[1] for r in outbox_rows(db, "webhook:good")] == ["delivered", "delivered"]
        assert json.loads(good.received[0].body)["alert"]["message"] == HOSTILE

        admin = bearer(ApiKeyRepository(db).create("ops-admin", Scope.ADMIN))
        operator = bearer(ApiKeyRepository(db).create("ops-operator", Scope.OPERATE))
    failed = client.get("/api/v1/notifications/deliveries", params={"state": "failed"}, headers=admin)
    assert failed.status_code == 200
    listed = {(d["receiver"], d["event"], d["state"]) for d in failed.json()}
    assert {
        ("webhook:gone", "opened", "failed"), ("webhook:gone", "resolved", "failed"),
        ("webhook:fails", "opened", "failed"), ("webhook:hangs", "opened", "failed"),
    } <= listed  # fmt: skip
    assert {receiver for receiver, _, _ in listed} == {"webhook:gone", "webhook:fails", "webhook:hangs"}
    gone_row = next(d for d in failed.json() if d["receiver"] == "webhook:gone" and d["event"] == "opened")
    assert gone_row["last_error"] == "HTTP 410"
    assert gone_row["idempotency_key"] == f"ioc:alert:{alert_id}:opened"
    assert gone_row["text_vi"].startswith("[Nghiêm trọng] Nguồn dữ liệu im lặng (hiện tại) ở ")
    assert client.get("/api/v1/notifications/deliveries", headers=operator).status_code == 403
    assert client.get("/api/v1/notifications/deliveries", params={"state": "lost"}, headers=admin).status_code == 400
    assert client.get("/api/v1/notifications/deliveries", params={"receiver": "a'b"}, headers=admin).status_code == 400


def test_two_notifiers_on_one_database_deliver_each_notification_once(
    stack: LocalStack, database: IsolatedDatabase, webhook_server: Callable[..., WebhookServer], tmp_path: Path
) -> None:
    bot = webhook_server()
    settings = {"IOC_NOTIFY_WEBHOOKS": webhooks_setting(("chat-bot", bot.url, SECRET)), "IOC_NOTIFY_BATCH_SIZE": "3"}
    with (
        database.connect() as db,
        notifier(stack, database, tmp_path / "one.log", **settings),
        notifier(stack, database, tmp_path / "two.log", **settings),
    ):
        area = some_village(db)
        alerts = [open_alert(db, area, rule_id=f"rule.{n}") for n in range(30)]
        for alert_id in alerts[::2]:
            resolve_alert(db, alert_id)
        expected = len(alerts) + len(alerts[::2])
        wait_for(lambda: len(bot.received) >= expected, 20, "every notification")
        time.sleep(1)  # time for a duplicate to show, if there were one
    keys = [r.headers["idempotency-key"] for r in bot.received]
    assert len(keys) == expected
    assert len(set(keys)) == expected
