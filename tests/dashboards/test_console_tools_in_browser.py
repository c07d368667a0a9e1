"""The console's problem-first tools in Debian's headless Chromium against the real API, in English and
Vietnamese: the status board shows silent publishers and a dead-letter burst as problems, the publishers
are listed problems first and filtered, a hostile dead letter's payload is shown as text or hex (never as
markup, 64 KiB at most), a filter is counted then replayed in bulk, exported as CSV, and refused when its
times make no sense; screenshots at 1920×1080 with silent publishers and several alerts open."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from api.http.auth.keys import Scope
from runtime.redis_names import KPI_EPOCH, KPI_HEARTBEAT
from streams.alerts.evaluator import AlertOpened, AlertResolved
from streams.alerts.rules import AlertRule
from streams.alerts.store import AlertStore
from tests import factories
from tests.api.dead_letter_rows import add_dead_letter
from tests.dashboards.pages import CONNECTION, Pages, text

pytestmark = pytest.mark.integration
NOTICE = "document.getElementById('notice').textContent"
TOPIC = "ioc/v1/payments/counter-9/transaction"
HOSTILE_TEXT = b'{"note": "<script>document.title = \'owned\'</script><img src=x onerror=alert(1)>"}'


def cells(selector: str) -> str:
    return f"[...document.querySelectorAll({selector!r})].map((node) => node.textContent)"


def click(selector: str) -> str:
    return f"document.querySelector({selector!r}).click()"


def card(name: str) -> str:
    return f"[...document.querySelectorAll('[data-status=\"{name}\"], [data-status=\"{name}\"] .status-line')].map((n) => n.className === 'status-line' ? n.textContent : n.className)"  # noqa: E501


def _scene(pages: Pages, redis_url: str) -> dict[str, int]:
    """Five publishers (two silent, one with seq gaps, one with dead letters, one heard), 25 dead letters in the
    last minutes (a burst), three open alerts and a resolved one; the engine's heartbeat and epoch."""
    db, now = pages.db, datetime.now(UTC)
    db.execute(
        "INSERT INTO publishers (id, source, area_code) VALUES ('quiet-1', 'payments', '24611'),"
        " ('quiet-2', 'portal', '24612'), ('gappy-1', 'payments', '24612'), ('counter-9', 'payments', '24611'),"
        " ('desk-ok', 'portal', '24614')"
    )
    # Each has sent before (none is onboarding, which is never counted silent).
    db.execute("UPDATE publishers SET first_message_at = now() - interval '1 day'")
    db.execute("INSERT INTO publisher_status (at, publisher_id, state, received_at) VALUES"
               " (%s, 'desk-ok', 'online', %s), (%s, 'counter-9', 'online', %s), (%s, 'quiet-2', 'online', %s)",
               (now, now, now, now, now - timedelta(hours=2), now - timedelta(hours=2)))  # fmt: skip
    for seq in (1, 2, 6):
        db.execute(
            "INSERT INTO payment_transactions (occurred_at, event_id, publisher_id, area_code, seq, sector, method,"
            " amount_vnd, outcome, received_at) VALUES (%s, gen_random_uuid(), 'gappy-1', '24612', %s, 'health',"
            " 'qr', 1000, 'succeeded', %s)",
            (now - timedelta(seconds=60 - seq), seq, now - timedelta(seconds=60 - seq)),
        )
    ids = {
        "script": add_dead_letter(db, at=now - timedelta(seconds=5), topic=TOPIC, payload=HOSTILE_TEXT,
                                  reason="not_json", publisher="counter-9"),
        "binary": add_dead_letter(db, at=now - timedelta(seconds=6), topic=TOPIC, payload=bytes(range(256)) * 2,
                                  reason="not_utf8", publisher="counter-9"),
        "large": add_dead_letter(db, at=now - timedelta(seconds=7), topic=TOPIC, payload=b"[" + b"1," * 102_400,
                                 reason="too_large", publisher="counter-9"),
        "formula": add_dead_letter(db, at=now - timedelta(seconds=8), topic="=cmd|' /C calc'!A0", payload=b"x",
                                   reason="topic_invalid", detail="@SUM(1+1)"),
    }  # fmt: skip
    for i in range(3):  # refused while counter-9 was unknown: a bulk replay stores them now
        payload = factories.encode(factories.transaction(area_code="24611", amount_vnd=10_000 * (i + 1)))
        add_dead_letter(db, at=now - timedelta(seconds=10 + i), topic=TOPIC, payload=payload, publisher="counter-9")
    for i in range(18):
        add_dead_letter(db, at=now - timedelta(seconds=20 + i), topic="ioc/v1/x", payload=b"%d" % i, reason="not_json")
    at_us = int(now.timestamp() * 1_000_000)
    rule = AlertRule(id="coverage-drop", kpi="coverage.usable_share", window="1h", below=50, severity="major")
    store = AlertStore(db)
    store.apply([AlertOpened(rule, area, 41.0, f"usable share 41 % in {area}", at_us) for area in
                 ("24611", "24612", "24614", "24615")])  # fmt: skip
    store.apply([AlertResolved("coverage-drop", "24615", "usable share back to 60 %", at_us + 1)])
    with redis.Redis.from_url(redis_url) as client:
        client.set(KPI_HEARTBEAT, now.isoformat(), ex=600)
        client.set(KPI_EPOCH, f"{now - timedelta(hours=3):%Y%m%dT%H%M%SZ}-abc123")
    return ids


def test_the_console_shows_problems_first_and_its_dead_letter_tools_work_in_both_languages(
    pages: Pages, redis_url: str, tmp_path: Path
) -> None:
    ids = _scene(pages, redis_url)
    browser = pages.browser
    with pages.serve():
        pages.open("console", "lang=en", pages.keys.create("console-admin", Scope.ADMIN))
        browser.wait_equal(CONNECTION, "conn live")
        browser.wait_equal(card("silent_publishers"), ["status-card level-problem", "2 silent: quiet-1, quiet-2"])
        browser.wait_equal(
            card("dead_letter_burst"), ["status-card level-problem", "25 dead letters in 5 minutes — a burst"]
        )
        browser.wait_equal(card("publishers_with_gaps"), ["status-card level-warning", "1 with seq gaps: gappy-1"])
        assert browser.evaluate(card("engine")) == ["status-card level-ok", "0 s behind the stored events"]
        # Problems first: silent, then seq gaps, then dead letters, then the rest.
        ids_in_order = cells("#publishers-table tbody tr td:first-child")
        assert browser.evaluate(ids_in_order) == ["quiet-1", "quiet-2", "gappy-1", "counter-9", "desk-ok"]
        statuses = cells("#publishers-table tbody tr td:nth-child(3)")
        assert browser.evaluate(statuses) == [
            "silent",
            "silent",
            "—",
            "online",
            "online",
        ]  # quiet-2 said online, long ago
        assert browser.evaluate(cells("#publishers-table tbody tr td:nth-child(4)"))[2:4] == [
            "missing seq: 3", "dead letters: 6"
        ]  # fmt: skip
        assert len(browser.evaluate(cells("#alerts-table tbody tr"))) == 3
        pages.screenshot("console-problems-first-en.png")

        form = "document.getElementById('publisher-filters')"
        typed = "dispatchEvent(new Event('input', {bubbles: true}))"
        browser.evaluate(f"{form}.state.value = 'silent'; {form}.{typed}")
        browser.wait_equal(ids_in_order, ["quiet-1", "quiet-2"])
        browser.evaluate(f"{form}.state.value = ''; {form}.area.value = '24612'; {form}.{typed}")
        browser.wait_equal(ids_in_order, ["quiet-2", "gappy-1"])
        browser.evaluate(f"{form}.area.value = ''; {form}.text.value = 'DESK'; {form}.{typed}")
        browser.wait_equal(ids_in_order, ["desk-ok"])
        browser.evaluate(f"{form}.text.value = ''; {form}.{typed}")
        # An alert's area link filters the publishers to it.
        browser.evaluate(click("[data-incident] button.area-link"))
        browser.wait_equal(f"{form}.area.value", "24614")  # the first row: same severity and time, newest id
        browser.wait_equal(ids_in_order, ["desk-ok"])
        browser.evaluate(f"{form}.area.value = ''; {form}.{typed}")

        # The payloads: hostile text stays text, binary is a hex dump, a large one is cut at 64 KiB and says so.
        scripts = browser.evaluate("document.scripts.length")
        browser.evaluate(click(f'[data-dead-letter="{ids["script"]}"] button.view'))
        browser.wait_equal(text("#payload-content"), HOSTILE_TEXT.decode())
        assert browser.evaluate("document.getElementById('payload-content').children.length") == 0
        assert browser.evaluate("[document.scripts.length, document.images.length, document.title]") == [
            scripts, 0, "On-call console"
        ]  # fmt: skip
        pages.screenshot("console-payload-script-en.png")
        browser.evaluate(click(f'[data-dead-letter="{ids["binary"]}"] button.view'))
        browser.wait_equal(text("#payload-notes"), "512 bytes · binary (not UTF-8): shown in hex")
        first_row = "document.getElementById('payload-content').textContent.split('\\n')[0]"
        assert (
            browser.evaluate(first_row)
            == "00000000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f  |................|"
        )
        browser.evaluate(click(f'[data-dead-letter="{ids["large"]}"] button.view'))
        browser.wait_equal(text("#payload-notes"), "204801 bytes · only the first 65536 of 204801 bytes shown")
        assert browser.evaluate("document.getElementById('payload-content').textContent.length") == 65536
        pages.screenshot("console-payload-en.png")

        # A filter with its times the wrong way round: the API's reason.
        dead = "document.getElementById('dead-filters')"
        browser.evaluate(f"{dead}.since.value = '2026-12-02T10:00'; {dead}.until.value = '2026-12-01T10:00';"
                         f" {dead}.requestSubmit()")  # fmt: skip
        browser.wait_equal(NOTICE, "400 until: must be after since")
        browser.evaluate(f"{dead}.since.value = ''; {dead}.until.value = ''")

        # Count, then replay all the filter matches.
        browser.evaluate(f"{dead}.reason.value = 'unknown_publisher'; {dead}.publisher.value = 'counter-9'")
        browser.evaluate(click("#dead-count"))
        browser.wait_equal(text("#dead-preview"), "3 open dead letters match the filter (3 in all)")
        browser.wait_equal(text("#dead-replay-all"), "Replay 3")
        browser.evaluate(click("#dead-replay-all"))
        browser.wait_equal(NOTICE, "Replayed 3: 3 stored, 0 duplicates, 0 rejected")
        browser.evaluate(click("#dead-count"))
        browser.wait_equal(text("#dead-preview"), "0 open dead letters match the filter (0 in all)")
        assert browser.evaluate("document.getElementById('dead-replay-all')") is None
        audit = pages.db.execute("SELECT actor, matched, stored FROM dead_letter_bulk_replays").fetchall()
        assert audit == [("console-admin", 3, 3)]

        # The CSV export of a filter, as the browser saves it.
        downloads = tmp_path / "downloads"
        downloads.mkdir()
        browser.call("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(downloads))
        browser.evaluate(f"{dead}.reason.value = 'topic_invalid'; {dead}.publisher.value = ''")
        browser.evaluate(click("#dead-export"))
        browser.wait_for(f"{NOTICE}.startsWith('Exported 1 dead letters to dead-letters-')")
        deadline = time.monotonic() + 10
        while not (saved := [p for p in downloads.glob("*.csv")]) and time.monotonic() < deadline:
            time.sleep(0.1)
        (file,) = saved
        rows = list(csv.reader(io.StringIO(file.read_text(encoding="utf-8"))))
        assert [rows[0][:6], rows[1][0], rows[1][2:6]] == [
            ["id", "received_at", "topic", "publisher_id", "reason", "detail"],
            str(ids["formula"]),
            ["'=cmd|' /C calc'!A0", "", "topic_invalid", "'@SUM(1+1)"],
        ]

        # Vietnamese: the same board in its words.
        browser.evaluate(click("#lang"))
        browser.wait_equal(card("silent_publishers"), ["status-card level-problem", "2 im lặng: quiet-1, quiet-2"])
        browser.wait_equal(text('[data-status="dead_letter_burst"] .status-line'), "25 thư lỗi trong 5 phút — đột biến")
        assert browser.evaluate(statuses)[:2] == ["im lặng", "im lặng"]
        browser.evaluate(f"{dead}.reason.value = ''; {dead}.requestSubmit()")
        browser.wait_for(f"document.querySelector('[data-dead-letter=\"{ids['large']}\"]') !== null")
        browser.evaluate(click(f'[data-dead-letter="{ids["large"]}"] button.view'))
        browser.wait_equal(text("#payload-notes"), "204801 byte · chỉ hiển thị 65536 byte đầu trong 204801 byte")
        browser.evaluate(f"{dead}.reason.value = 'not_json'; {dead}.publisher.value = ''")
        browser.evaluate(click("#dead-count"))
        browser.wait_equal(text("#dead-preview"), "19 thư chưa xử lý khớp bộ lọc (tổng 19)")
        assert browser.evaluate(text("#dead-replay-all")) == "Xử lý lại 19 thư"
        # The resolved history, on demand.
        browser.evaluate("document.querySelector('#alert-filters input[value=\"resolved\"]').click()")
        browser.wait_equal(f"{cells('#alerts-table tbody tr td:nth-child(4)')}.at(-1)", "Đã xử lý xong")
        browser.evaluate(click('[data-publisher="quiet-1"] button.link'))
        browser.wait_equal(text("#publisher-page h3"), "quiet-1 im lặng")
        pages.screenshot("console-problems-first-vi.png")

        # A publisher action from its page (admin): disabled, it goes to the end of the list.
        browser.evaluate(click('[data-publisher="desk-ok"] button.link'))
        browser.wait_equal(text("#publisher-page h3"), "desk-ok trực tuyến")
        browser.evaluate(click("#act-toggle"))
        browser.wait_equal(NOTICE, "Đã thực hiện: desk-ok")
        browser.wait_equal(text("#publisher-page h3"), "desk-ok đã vô hiệu")
        browser.wait_equal(f"{ids_in_order}.at(-1)", "desk-ok")
        assert browser.evaluate(text("#act-toggle")) == "Kích hoạt lại"

        # Maintenance until a time with a reason (refused in the past), its end, a silence threshold of its own.
        def registry() -> tuple[object, ...] | None:
            return pages.db.execute(
                "SELECT coalesce(maintenance_until > now(), false), silent_after_seconds"
                " FROM publishers WHERE id = 'quiet-2'"
            ).fetchone()

        def registry_becomes(expected: tuple[object, ...]) -> None:
            deadline = time.monotonic() + 15
            while registry() != expected and time.monotonic() < deadline:
                time.sleep(0.1)
            assert registry() == expected, browser.evaluate(NOTICE)

        form = "document.getElementById('publisher-actions')"
        browser.evaluate(click('[data-publisher="quiet-2"] button.link'))
        browser.wait_equal(text("#publisher-page h3"), "quiet-2 im lặng")
        browser.evaluate(f"{form}.until.value = '2020-01-01T08:00'; {form}.reason.value = 'đã qua'")
        browser.evaluate(click("#act-maintenance"))
        browser.wait_for(f"{NOTICE}.startsWith('400 ')")  # the API's own reason
        assert registry() == (False, None)  # nothing changed
        until = f"{datetime.now(UTC) + timedelta(days=2):%Y-%m-%dT%H:%M}"  # within the year the API allows
        browser.evaluate(f"{form}.until.value = '{until}'; {form}.reason.value = 'thay máy đếm'")
        browser.evaluate(click("#act-maintenance"))
        registry_becomes((True, None))
        who = pages.db.execute("SELECT maintenance_reason, maintenance_by FROM publishers WHERE id = 'quiet-2'")
        assert who.fetchone() == ("thay máy đếm", "console-admin")
        browser.wait_for("document.getElementById('act-end-maintenance') !== null")
        browser.evaluate(click("#act-end-maintenance"))
        registry_becomes((False, None))
        browser.wait_for("document.getElementById('act-end-maintenance') === null")
        browser.evaluate(f"{form}.seconds.value = '1800'")
        browser.evaluate(click("#act-silent-after"))
        registry_becomes((False, 1800))
        audit = pages.db.execute(
            "SELECT action, actor FROM publisher_actions WHERE publisher_id = 'quiet-2' ORDER BY id"
        ).fetchall()
        assert audit[-3:] == [
            ("maintenance_set", "console-admin"), ("maintenance_ended", "console-admin"),
            ("silent_after_set", "console-admin"),
        ]  # fmt: skip
