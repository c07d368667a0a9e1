"""The on-call console in Debian's headless Chromium against the real API: a `read` key is told plainly
that it may not replay or acknowledge; an `operate` key replays a dead letter (whose event then shows in
the live tail) and acknowledges an alert."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import redis

from api.http.auth.keys import Scope
from ingest.registry.lifecycle import set_maintenance
from ingest.stored_events import StoredEventsBatch
from runtime.redis_names import STORED_EVENTS_STREAM
from streams.alerts.evaluator import AlertOpened
from streams.alerts.mutes import MuteRepository
from streams.alerts.rules import AlertRule
from streams.alerts.store import AlertStore
from tests import factories
from tests.dashboards.pages import CONNECTION, Pages, text

pytestmark = pytest.mark.integration
NOTICE = "[document.getElementById('notice').className, document.getElementById('notice').textContent]"


def click(selector: str) -> str:
    return f"document.querySelector({selector!r}).click()"


def test_the_console_replays_a_dead_letter_acknowledges_an_alert_with_an_operate_key_only_and_filters_its_tail(
    pages: Pages, redis_url: str
) -> None:
    db = pages.db
    db.execute("INSERT INTO publishers (id, source, area_code) VALUES ('counter-9', 'payments', '24611')")
    payload = factories.encode(factories.transaction(area_code="24611", amount_vnd=75_000))
    topic = "ioc/v1/payments/counter-9/transaction"
    (letter,) = db.execute(
        "INSERT INTO dead_letters (received_at, topic, publisher_id, reason, detail, payload, fingerprint)"
        " VALUES (%s, %s, 'counter-9', 'unknown_publisher', 'not registered then', %s, %s) RETURNING id",
        (datetime.now(UTC), topic, payload, hashlib.sha256(topic.encode() + b"\x00" + payload).digest()),
    ).fetchone() or (None,)
    rule = AlertRule(id="coverage-drop", kpi="coverage.usable_share", window="1h", below=50, severity="major")
    now_us = int(datetime.now(UTC).timestamp() * 1_000_000)
    AlertStore(db).apply([AlertOpened(rule, "24611", 41.0, "usable share 41 % in 24611", now_us)])
    replay_button = f'[data-dead-letter="{letter}"] button.replay'
    ack_button = "#alerts-table tbody button.ack"
    with pages.serve():
        pages.open("console", "lang=en", pages.keys.create("console-read", Scope.READ))
        pages.browser.wait_equal(CONNECTION, "conn live")
        pages.browser.wait_for(f"document.querySelector({replay_button!r}) !== null")
        publisher = "[...document.querySelectorAll('[data-publisher=\"counter-9\"] td')].map((td) => td.textContent)"
        # Never heard from: silent (never "online"), its open dead letter, no last seen, no completeness.
        pages.browser.wait_equal(
            publisher, ["counter-9", "Nghia Duc Ward (24611)", "silent", "dead letters: 1", "—", "—"]
        )
        pages.browser.evaluate(click(replay_button))
        pages.browser.wait_equal(
            NOTICE, ["notice bad", "403 this route needs scope 'operate'; the key 'console-read' has 'read'"]
        )
        pages.browser.evaluate(click(ack_button))
        pages.browser.wait_equal(
            NOTICE, ["notice bad", "403 this route needs scope 'operate'; the key 'console-read' has 'read'"]
        )
        pages.screenshot("console-read-key-refused.png")

        pages.open("console", "lang=en", pages.keys.create("console-operate", Scope.OPERATE))
        pages.browser.wait_equal(CONNECTION, "conn live")
        pages.browser.wait_for(f"document.querySelector({replay_button!r}) !== null")
        pages.browser.evaluate(click(replay_button))
        pages.browser.wait_equal(NOTICE, ["notice good", f"Replay #{letter}: stored — transaction from counter-9"])
        pages.browser.wait_equal(f"document.querySelector({replay_button!r}) === null", True)  # resolved: gone
        # What the replay stored reached the live tail, as the KPI engine receives it.
        tail_row = "#tail-table tr.transaction td"
        pages.browser.wait_equal(
            f"[...document.querySelectorAll({tail_row!r})].slice(1).map((td) => td.textContent)",
            ["transaction", "counter-9", "24611", "health · qr · 75000 VND · succeeded"],
        )
        pages.browser.evaluate(click(ack_button))
        pages.browser.wait_equal(text("#alerts-table tbody tr td:nth-child(4)"), "Acknowledged by console-operate")
        pages.screenshot("console-operate.png")

        # Filters: a source and a type that exclude each other are refused; others start a new tail.
        form = "document.getElementById('tail-filters')"
        pages.browser.evaluate(f"{form}.source.value = 'portal'; {form}.type.value = 'sample'; {form}.requestSubmit()")
        pages.browser.wait_equal(NOTICE, ["notice bad", "source 'portal' has no events of type 'sample'"])
        pages.browser.evaluate(f"{form}.type.value = 'dossier'; {form}.requestSubmit()")
        cells = "[...tr.cells].slice(1).map((c) => c.textContent)"  # all but the time
        rows = f"[...document.querySelectorAll('#tail-table tbody tr')].map((tr) => {cells})"
        pages.browser.wait_equal(f"[{CONNECTION}, {rows}]", ["conn live", []])
        at = datetime.now(UTC).isoformat()
        batch = StoredEventsBatch("test", "s1", 1, {
            "transaction": [["counter-9", "24611", at, 2, "tax", "cash", 10_000, "succeeded"]],
            "dossier": [["desk-1", "24611", at, 1, "D-1", "submitted", "online", True, None]],
        })  # fmt: skip
        with redis.Redis.from_url(redis_url) as client:
            client.xadd(STORED_EVENTS_STREAM, batch.encode())  # as ingest does after a commit
        pages.browser.wait_equal(rows, [["dossier", "desk-1", "24611", "D-1 submitted · online · e-cert"]])


def test_the_console_shows_a_silent_publisher_as_silent_never_online_and_a_muted_alert_as_needing_no_action(
    pages: Pages,
) -> None:
    db = pages.db
    heard = datetime.now(UTC) - timedelta(hours=1)
    for publisher, area in (("counter-1", "24611"), ("counter-2", "24615-04"), ("counter-3", "24615-05")):
        db.execute(
            "INSERT INTO publishers (id, source, area_code, first_message_at, last_message_at)"
            " VALUES (%s, 'payments', %s, %s, %s)",
            (publisher, area, heard, heard),
        )
        # Each one's last will says online, an hour ago: all three are silent.
        db.execute("INSERT INTO publisher_status (at, publisher_id, state, received_at) VALUES (%s, %s, 'online', %s)",
                   (heard, publisher, heard))  # fmt: skip
    db.execute("UPDATE publishers SET last_message_at = now() WHERE id = 'counter-3'")  # heard from just now
    set_maintenance(
        db, "counter-2", datetime.now(UTC) + timedelta(days=2), "counter moved", actor="ops", now=datetime.now(UTC)
    )
    rule = AlertRule(id="publisher-silent", kpi="ops.publishers_silent", window="now", above=0, severity="major")
    now_us = int(datetime.now(UTC).timestamp() * 1_000_000)
    MuteRepository(db).create(
        "publisher-silent",
        "24615",
        datetime.now(UTC) + timedelta(hours=4),
        "fibre cut",
        actor="ops",
        now=datetime.now(UTC),
    )
    AlertStore(db).apply([
        AlertOpened(rule, "24611", 1.0, "1 publisher silent in 24611", now_us),
        AlertOpened(rule, "24615-05", 1.0, "1 publisher silent in 24615-05", now_us),
    ])  # fmt: skip
    status = (
        "[...document.querySelectorAll('#publishers-table tbody tr')]"
        ".map((tr) => [tr.cells[0].textContent, tr.cells[2].textContent])"
    )
    alerts = (
        "[...document.querySelectorAll('#alerts-table tbody tr')]"
        ".map((tr) => [tr.className, tr.cells[1].textContent, tr.cells[3].textContent])"
    )
    with pages.serve():
        pages.open("console", "lang=en", pages.keys.create("console-read", Scope.READ))
        pages.browser.wait_equal(CONNECTION, "conn live")
        # Problems first: the silent one, then the one in maintenance (expected to be quiet), then the rest.
        pages.browser.wait_equal(
            status, [["counter-1", "silent"], ["counter-2", "silent · maintenance"], ["counter-3", "online"]]
        )
        # One row per incident; the one whose alerts are all muted last, dimmed, saying so.
        pages.browser.wait_equal(
            alerts,
            [
                ["alert-open", "Nghia Duc Ward (24611)", "Open"],
                ["alert-open muted", "Residential Group 5 (24615-05)", "Open · muted"],
            ],
        )
        pages.screenshot("console-silent-publishers-and-muted-alert.png")
        pages.open("console", "lang=vi", pages.keys.create("console-read-vi", Scope.READ))
        pages.browser.wait_equal(CONNECTION, "conn live")
        pages.browser.wait_for(f"{alerts}.length === 2")
        assert pages.browser.evaluate(f"{alerts}[1][2]") == "Đang mở · đã tắt tiếng"
        assert pages.browser.evaluate(f"{status}[1][1]") == "im lặng · bảo trì"
        pages.screenshot("console-silent-publishers-and-muted-alert-vi.png")
