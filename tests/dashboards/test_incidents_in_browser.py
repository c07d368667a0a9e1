"""One cause, one line: the wall's strip and the console's alert list in Debian's headless Chromium against the
real API, in Vietnamese and English. Eight silent counters of one ward (the ward and its seven villages) show
as ONE incident ("8 alerts: 1 commune, 7 villages"); the console lists its alerts under it and acknowledges it
with a comment. Hostile area names and comments are shown as text, never run as markup."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.http.auth.keys import Scope
from streams.alerts.evaluator import AlertOpened
from streams.alerts.rules import AlertRule
from streams.alerts.store import AlertStore
from tests.dashboards.pages import Pages, text

pytestmark = pytest.mark.integration

COMMUNE = "24615"
VILLAGES = [f"{COMMUNE}-0{n}" for n in range(1, 8)]
SILENT = AlertRule(id="publisher-silent", kpi="ops.publishers_silent", window="now", levels=("commune", "village"),
                   above=0, severity="major")  # fmt: skip
COVERAGE = AlertRule(id="coverage-drop", kpi="coverage.usable_share", window="1h", below=50, severity="warning")
SCRIPT = "<script>window.pwned = 1</script>"
IMAGE = '<img src=x onerror="window.pwned = 1">'
LINES = (
    "[...document.querySelectorAll('#alerts .alert')]"
    ".map((a) => [a.dataset.incident, a.querySelector('.members')?.textContent ?? null])"
)
CONSOLE_ROWS = "[...document.querySelectorAll('#alerts-table tbody tr')].map((r) => r.dataset.incident)"
NOTICE = "[document.getElementById('notice').className, document.getElementById('notice').textContent]"


def storm(now_us: int) -> list[AlertOpened]:
    """What the engine opens when the eight counters fall silent: the ward's alert and one per village."""
    ward = [f"counter-{n}" for n in range(8)]
    opened = [AlertOpened(SILENT, COMMUNE, 8, "", now_us, threshold=0, unit="publishers", since_us=now_us,
                          lineage=(COMMUNE, "660", "67"), publishers=tuple(ward))]  # fmt: skip
    for n, village in enumerate(VILLAGES, 1):
        opened.append(
            AlertOpened(
                SILENT,
                village,
                1,
                "",
                now_us + n,
                threshold=0,
                unit="publishers",
                since_us=now_us,
                lineage=(village, COMMUNE, "660", "67"),
                publishers=(ward[n],),
            )
        )
    return opened


def test_an_alert_storm_is_one_line_on_the_wall_and_in_the_console_in_both_languages(pages: Pages) -> None:
    now_us = int(datetime.now(UTC).timestamp() * 1_000_000)
    store = AlertStore(pages.db)
    store.apply(storm(now_us))
    [incident] = store.incidents.in_states(("open",))
    wall_key = pages.keys.create("wall", Scope.READ)
    with pages.serve():
        pages.open("wall", "views=overview&rotate=0", wall_key)
        pages.browser.wait_equal(LINES, [[str(incident.id), "8 cảnh báo: 1 xã, 7 thôn"]])
        message = pages.browser.evaluate(text("#alerts .alert .msg"))
        assert message.startswith("8 nguồn phát ở Phường Nghĩa Tân không gửi dữ liệu từ ")
        assert message.endswith(": counter-0, counter-1, counter-2 (+5)")
        assert pages.browser.evaluate(text("#alerts .alert .sev")) == "Cao"
        pages.screenshot("wall-incident-vi.png")
        pages.open("wall", "views=overview&rotate=0&lang=en", wall_key)
        pages.browser.wait_equal(LINES, [[str(incident.id), "8 alerts: 1 commune, 7 villages"]])
        assert pages.browser.evaluate(text("#alerts .alert .msg")).startswith(
            "8 publishers in Nghia Tan Ward have sent nothing since "
        )
        pages.screenshot("wall-incident-en.png")

        console_key = pages.keys.create("on-call", Scope.OPERATE)
        pages.open("console", "lang=vi", console_key)
        pages.browser.wait_equal(CONSOLE_ROWS, [str(incident.id)])
        members = "[...document.querySelectorAll('#alerts-table details.members li')].map((li) => li.textContent)"
        pages.browser.wait_equal(f"{members}.length", 8)
        assert pages.browser.evaluate(f"{members}[1]").startswith(
            "1 nguồn phát ở Phường Nghĩa Tân › Tổ dân phố 1 không gửi dữ liệu từ "
        )
        assert pages.browser.evaluate(f"{members}[1]").endswith(": counter-1 — Đang mở")
        assert pages.browser.evaluate(text("#alerts-table tbody td.state")) == "Đang mở"
        pages.browser.evaluate("document.querySelector('#alerts-table details.members').open = true")
        pages.screenshot("console-incident-vi.png")
        pages.open("console", "lang=en", console_key)
        pages.browser.wait_equal(CONSOLE_ROWS, [str(incident.id)])
        assert pages.browser.evaluate(text("#alerts-table details.members summary")) == (
            "Alerts in this incident: 8 alerts: 1 commune, 7 villages"
        )
        # Acknowledged once, with a comment: the incident and its eight alerts.
        comment = "Power cut in the whole ward; the utility is on it"
        pages.browser.evaluate(f"document.querySelector('#alerts-table .comment').value = {comment!r}")
        pages.browser.evaluate("document.querySelector('#alerts-table .ack-form button').click()")
        pages.browser.wait_equal(NOTICE, ["notice good", f"Acknowledge: Incident #{incident.id}"])
        pages.browser.wait_equal(text("#alerts-table tbody td.state"), f"Acknowledged by on-call — “{comment}”")
        pages.browser.evaluate("document.querySelector('#alerts-table details.members').open = true")
        pages.screenshot("console-incident-acknowledged-en.png")
        assert {a.state for a in store.members([incident.id])} == {"acknowledged"}
        assert {a.ack_comment for a in store.members([incident.id])} == {comment}


def test_hostile_area_names_and_comments_are_shown_as_text(pages: Pages) -> None:
    # An area renamed by a careless (or hostile) import: its names reach both pages inside alert texts.
    pages.db.execute("UPDATE areas SET name_vi = %s, name_en = %s WHERE code = '24667-03'", (SCRIPT, IMAGE))
    now_us = int(datetime.now(UTC).timestamp() * 1_000_000)
    store = AlertStore(pages.db)
    store.apply([AlertOpened(COVERAGE, "24667-03", 31.5, "", now_us, threshold=50, unit="%",
                             lineage=("24667-03", "24667", "663", "67"))])  # fmt: skip
    [incident] = store.incidents.in_states(("open",))
    hostile_comment = f"{SCRIPT}{IMAGE}"
    with pages.serve():
        key = pages.keys.create("on-call", Scope.OPERATE)
        pages.open("wall", "views=overview&rotate=0", key)
        pages.browser.wait_equal(f"{LINES}.length", 1)
        assert pages.browser.evaluate(text("#alerts .alert .msg")).startswith(
            f"Tỷ lệ mẫu đo Internet di động dùng được ở Xã Đắk Lao › Thôn {SCRIPT} chỉ còn 31,5 %"
        )
        pages.open("wall", "views=overview&rotate=0&lang=en", key)
        pages.browser.wait_for(f"({text('#alerts .alert .msg')} ?? '').includes('Dak Lao Commune › {IMAGE}')")
        assert pages.browser.evaluate("document.querySelectorAll('#alerts img, #alerts script').length") == 0
        pages.screenshot("wall-hostile-names-en.png")

        pages.open("console", "lang=en", key)
        pages.browser.wait_equal(CONSOLE_ROWS, [str(incident.id)])
        pages.browser.evaluate(f"document.querySelector('#alerts-table .comment').value = {hostile_comment!r}")
        pages.browser.evaluate("document.querySelector('#alerts-table .ack-form button').click()")
        pages.browser.wait_equal(text("#alerts-table tbody td.state"), f"Acknowledged by on-call — “{hostile_comment}”")
        assert pages.browser.evaluate(text("#alerts-table tbody .msg")).startswith(
            f"Usable mobile internet (samples) in Dak Lao Commune › {IMAGE} is down to 31.5 %"
        )
        assert (
            pages.browser.evaluate("document.querySelectorAll('#alerts-table img, #alerts-table script').length") == 0
        )
        pages.open("console", "lang=vi", key)
        pages.browser.wait_equal(text("#alerts-table tbody td.state"), f"Đã xác nhận bởi on-call — “{hostile_comment}”")
        assert pages.browser.evaluate(text("#alerts-table tbody .msg")).startswith(
            f"Tỷ lệ mẫu đo Internet di động dùng được ở Xã Đắk Lao › Thôn {SCRIPT}"
        )
        pages.screenshot("console-hostile-names-vi.png")
        assert pages.browser.evaluate("window.pwned ?? null") is None
    assert store.get(store.members([incident.id])[0].id).ack_comment == hostile_comment  # type: ignore[union-attr]
