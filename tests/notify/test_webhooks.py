"""Signed webhooks: a receiver that refuses connections for a while gets every notification once it is
back, in order, each signed and under its idempotency key; one that hangs, fails or is gone does not stop
the others, and what is given up is listed as failed."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.stack.manager import LocalStack
from notify.receivers.signature import verify
from tests.fixtures.api import bearer
from tests.fixtures.notify import (
    WebhookServer,
    acknowledge_alert,
    notifier,
    open_alert,
    resolve_alert,
    wait_for,
    webhooks_setting,
)
from tests.fixtures.stack import IsolatedDatabase
from tests.fixtures.verify import VerifyProfile

pytestmark = pytest.mark.integration

SECRET = "s3cret-of-the-chat-bot-0123456789"
# What a person typed into a rule or an area: quotes, a newline, a tab, Vietnamese, an emoji, a NUL-free control.
HOSTILE = 'Trạm "Đắk Lao"\nmất tín hiệu\t— 100 % ✓ 🚨 \\ </script> \u202e'


def _outbox(db: psycopg.Connection[tuple[object, ...]], receiver: str) -> list[tuple[object, ...]]:
    return db.execute(
        "SELECT idempotency_key, state, attempts, last_error FROM notification_outbox WHERE receiver = %s ORDER BY id",
        (receiver,),
    ).fetchall()


def _area(db: psycopg.Connection[tuple[object, ...]]) -> str:
    row = db.execute("SELECT code FROM areas WHERE level = 'village' ORDER BY code LIMIT 1").fetchone()
    assert row is not None
    return str(row[0])


def test_a_receiver_down_gets_every_notification_afterwards_signed_and_in_order(
    stack: LocalStack,
    database: IsolatedDatabase,
    webhook_server: Callable[..., WebhookServer],
    profile: VerifyProfile,
    tmp_path: Path,
) -> None:
    outage_seconds = profile.pick(15, 60)
    bot = webhook_server(start=False)  # its port refuses connections
    settings = {
        "IOC_NOTIFY_WEBHOOKS": webhooks_setting(("chat-bot", bot.url, SECRET)),
        "IOC_NOTIFY_RETRY_INITIAL_SECONDS": "0.5",
        "IOC_NOTIFY_RETRY_MAX_DELAY_SECONDS": "4",
    }
    with database.connect() as db, notifier(stack, database, tmp_path / "notify.log", **settings):
        area = _area(db)
        down_since = time.monotonic()
        first = open_alert(db, area, rule_id="ops.publishers_silent")
        second = open_alert(db, area, rule_id="ops.completeness_low")
        acknowledge_alert(db, first)
        resolve_alert(db, second)
        wait_for(lambda: all(r[2] >= 2 for r in _outbox(db, "webhook:chat-bot")), 10, "attempts while refused")
        time.sleep(outage_seconds / 2)
        third = open_alert(db, area, rule_id="payments.cashless_share_low", message=HOSTILE)
        resolve_alert(db, first)
        time.sleep(max(0.0, outage_seconds - (time.monotonic() - down_since)))
        during = _outbox(db, "webhook:chat-bot")
        assert {r[1] for r in during} == {"pending"}
        assert all("ConnectError" in str(r[3]) for r in during if int(str(r[2])) > 0), during
        assert bot.received == []

        bot.start()
        expected = {
            f"ioc:alert:{first}:opened", f"ioc:alert:{first}:acknowledged", f"ioc:alert:{first}:resolved",
            f"ioc:alert:{second}:opened", f"ioc:alert:{second}:resolved", f"ioc:alert:{third}:opened",
        }  # fmt: skip
        wait_for(lambda: {r.headers["idempotency-key"] for r in bot.received} >= expected, 15, "every notification")
        wait_for(lambda: {r[1] for r in _outbox(db, "webhook:chat-bot")} == {"delivered"}, 5, "all delivered")

    by_key: dict[str, set[bytes]] = defaultdict(set)
    order: list[str] = []
    for request in bot.received:
        assert request.path == "/hook"
        assert request.headers["content-type"] == "application/json"
        timestamp, signed = request.headers["x-ioc-timestamp"], request.headers["x-ioc-signature"]
        assert verify(SECRET, timestamp, signed, request.body, time.time(), 300)
        assert not verify("another-secret-0123456789", timestamp, signed, request.body, time.time(), 300)
        assert not verify(SECRET, timestamp, signed, request.body + b" ", time.time(), 300)
        body = json.loads(request.body)
        assert body["idempotency_key"] == request.headers["idempotency-key"]
        by_key[body["idempotency_key"]].add(request.body)
        order.append(body["idempotency_key"])
    assert set(by_key) == expected  # none lost, nothing else
    assert all(len(bodies) == 1 for bodies in by_key.values())  # a repeat, if any, is the same notification
    for alert_id in (first, second):  # each alert's events in the order they happened
        events = [k.rsplit(":", 1)[1] for k in order if k.startswith(f"ioc:alert:{alert_id}:")]
        assert events == sorted(set(events), key=events.index)
        assert events[0] == "opened"
        assert events[-1] == "resolved"
    hostile = json.loads(next(r.body for r in bot.received if r.headers["idempotency-key"].endswith(f"{third}:opened")))
    assert hostile["alert"]["message"] == HOSTILE
    assert hostile["url"] == f"https://ioc.example.vn/console#alert={third}"
    assert "\n" not in hostile["text_vi"]
    assert "\u202e" not in hostile["text_vi"]
    assert hostile["text_vi"].startswith("[Nghiêm trọng] payments.cashless_share_low tại ")


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
        with notifier(stack, database, tmp_path / "notify.log", **settings):
            alert_id = open_alert(db, _area(db), message=HOSTILE)
            wait_for(lambda: len(good.received) == 1, 5, "the good receiver served while another hangs")
            # Gone (410) is for good: failed at once, never tried again.
            wait_for(lambda: [r[1:3] for r in _outbox(db, "webhook:gone")] == [("failed", 1)], 5, "410 given up")
            # A 500 and a timeout are retried with backoff, then given up after IOC_NOTIFY_RETRY_FOR_SECONDS.
            wait_for(lambda: _outbox(db, "webhook:fails")[0][1] == "failed", 15, "500 given up after retrying")
            wait_for(lambda: _outbox(db, "webhook:hangs")[0][1] == "failed", 15, "timeout given up after retrying")
            # The next event of the alert goes out once the one before it is delivered or given up.
            resolve_alert(db, alert_id)
            gone_twice = [("failed", 1), ("failed", 1)]
            wait_for(lambda: [r[1:3] for r in _outbox(db, "webhook:gone")] == gone_twice, 5, "the resolution refused")
            wait_for(lambda: len(hangs.received) >= 3, 5, "the resolution to the hanging receiver")
            wait_for(lambda: len(good.received) == 2, 5, "the resolution where it is welcome")
            stopping = time.monotonic()  # while a request to the hanging receiver is in flight
        # Leaving the block sent SIGTERM, and the notifier exited 0 within its request timeout and a margin.
        assert time.monotonic() - stopping < 1 + 4
        assert [r[1:3] for r in _outbox(db, "webhook:gone")] == [("failed", 1), ("failed", 1)]
        assert len(gone.received) == 2
        assert len(fails.received) >= 3
        assert len(hangs.received) >= 2
        fails_row, hangs_row = _outbox(db, "webhook:fails")[0], _outbox(db, "webhook:hangs")[0]
        assert fails_row[3] == "HTTP 500"
        assert str(hangs_row[3]).startswith("timeout")
        assert [r[1] for r in _outbox(db, "webhook:good")] == ["delivered", "delivered"]
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
    assert gone_row["text_vi"].startswith("[Nghiêm trọng] ops.publishers_silent tại ")
    assert client.get("/api/v1/notifications/deliveries", headers=operator).status_code == 403
    assert client.get("/api/v1/notifications/deliveries", params={"state": "lost"}, headers=admin).status_code == 400
    assert client.get("/api/v1/notifications/deliveries", params={"receiver": "a'b"}, headers=admin).status_code == 400
