"""Trust: a webhook receiver that refuses connections for a while (15 s in `make test`, 60 s in `make
verify`) gets every notification once it is back, in order, each signed and under its idempotency key."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from deploy.stack.manager import LocalStack
from notify.receivers.signature import verify
from tests.fixtures.notify import (
    HOSTILE,
    SECRET,
    WebhookServer,
    acknowledge_alert,
    notifier,
    open_alert,
    outbox_rows,
    resolve_alert,
    some_village,
    wait_for,
    webhooks_setting,
)
from tests.fixtures.stack import IsolatedDatabase
from tests.fixtures.verify import VerifyProfile
from tests.verify.report import ScenarioResult

pytestmark = pytest.mark.integration


def test_a_receiver_down_gets_every_notification_afterwards_signed_and_in_order(
    stack: LocalStack,
    database: IsolatedDatabase,
    webhook_server: Callable[..., WebhookServer],
    profile: VerifyProfile,
    scenario: ScenarioResult,
    tmp_path: Path,
) -> None:
    outage_seconds = profile.pick(15, 60)
    scenario.scenario = "Trust: a webhook receiver refusing connections gets every notification when it is back"
    scenario.load = f"3 alerts opened, acknowledged, resolved; the receiver refuses connections for {outage_seconds} s"
    bot = webhook_server(start=False)  # its port refuses connections
    settings = {
        "IOC_NOTIFY_WEBHOOKS": webhooks_setting(("chat-bot", bot.url, SECRET)),
        "IOC_NOTIFY_RETRY_INITIAL_SECONDS": "0.5",
        "IOC_NOTIFY_RETRY_MAX_DELAY_SECONDS": "4",
    }
    with database.connect() as db, notifier(stack, database, tmp_path / "notify.log", **settings):
        area = some_village(db)
        down_since = time.monotonic()
        first = open_alert(db, area, rule_id="ops.publishers_silent")
        second = open_alert(db, area, rule_id="ops.completeness_low")
        acknowledge_alert(db, first)
        resolve_alert(db, second)
        wait_for(lambda: all(r[2] >= 2 for r in outbox_rows(db, "webhook:chat-bot")), 10, "attempts while refused")
        time.sleep(outage_seconds / 2)
        third = open_alert(db, area, rule_id="payments.cashless_share_low", message=HOSTILE)
        resolve_alert(db, first)
        time.sleep(max(0.0, outage_seconds - (time.monotonic() - down_since)))
        during = outbox_rows(db, "webhook:chat-bot")
        assert {r[1] for r in during} == {"pending"}
        assert all("ConnectError" in str(r[3]) for r in during if int(str(r[2])) > 0), during
        assert bot.received == []

        attempts_while_down = sum(int(str(r[2])) for r in during)
        bot.start()
        back = time.monotonic()
        expected = {
            f"ioc:alert:{first}:opened", f"ioc:alert:{first}:acknowledged", f"ioc:alert:{first}:resolved",
            f"ioc:alert:{second}:opened", f"ioc:alert:{second}:resolved", f"ioc:alert:{third}:opened",
        }  # fmt: skip
        wait_for(lambda: {r.headers["idempotency-key"] for r in bot.received} >= expected, 15, "every notification")
        caught_up = time.monotonic() - back
        wait_for(lambda: {r[1] for r in outbox_rows(db, "webhook:chat-bot")} == {"delivered"}, 5, "all delivered")

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
    scenario.lost = len(expected - set(by_key))
    scenario.duplicated = len(bot.received) - len(by_key)
    scenario.measure("attempts while refused", attempts_while_down)
    scenario.measure("seconds from back to all received", round(caught_up, 1))
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
    assert hostile["text_vi"].startswith("[Nghiêm trọng] Nguồn dữ liệu im lặng (hiện tại) ở ")
