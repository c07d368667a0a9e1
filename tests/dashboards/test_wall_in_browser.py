"""The wall in Debian's headless Chromium against the real API, Redis and database: it shows what the API
reports, follows new frames, says "stale" when a source stops, reconnects after the API restarts and
asks again for a revoked key. Screenshots at 1920×1080 go to `$IOC_HOME/artifacts/dashboards/`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from api.http.auth.keys import Scope
from ingest.service.stored_events_publisher import StoredEventsPublisher
from streams.alerts.evaluator import AlertOpened
from streams.alerts.rules import AlertRule
from streams.alerts.store import AlertStore
from streams.frames import KpiFrame
from tests import factories
from tests.dashboards.pages import CONNECTION, Pages, text
from tests.fixtures.api import bearer
from tests.fixtures.ingest import Publisher, RunningIngest
from tests.fixtures.streams import RunningEngine

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC).replace(microsecond=0)
OVERVIEW = {  # the shipped layout's first view: KPI → (window, unit, value)
    "portal.e_cert_rate": ("today", "%", 71.26),
    "portal.online_share": ("today", "%", 55.0),
    "portal.ontime_rate": ("today", "%", 96.5),
    "payments.cashless_share": ("today", "%", 48.04),
    "coverage.usable_share": ("today", "%", 62.5),
    "portal.overdue_open": ("now", "dossiers", 12.0),
}
TILES = """[...document.querySelectorAll('.tile')].map((t) => [t.dataset.kpi, t.querySelector('.number').textContent,
  [...t.classList].find((c) => c.startsWith('state-')), t.querySelector('.badge')?.textContent ?? null])"""
CELLS = "[...document.querySelectorAll('.cell')].map((c) => [c.dataset.area, c.className])"


def frame(
    kpi: str, value: float, seq: int, *, area: str = "67", event_at: datetime = NOW, window: str | None = None
) -> KpiFrame:
    overview_window, unit, _ = OVERVIEW[kpi]
    at = event_at.isoformat()
    return KpiFrame(kpi, area, window or overview_window, value, None, None, unit, None, at, NOW.isoformat(), "e1", seq)


def overview_frames() -> list[KpiFrame]:
    return [frame(kpi, value, seq) for seq, (kpi, (_, _, value)) in enumerate(OVERVIEW.items(), 1)]


def shown_in_vietnamese(value: float, unit: str) -> str:
    return f"{value:.1f}".replace(".", ",") if unit == "%" else f"{value:.0f}"


def test_the_wall_shows_what_the_api_reports_follows_new_frames_and_says_stale_when_a_source_stops(
    pages: Pages,
) -> None:
    pages.sink.write(overview_frames(), new_epoch="e1")
    with pages.db.cursor() as cur:  # the last hour of e-certification, for the sparkline
        cur.executemany(
            "INSERT INTO kpi_snapshots VALUES (%s, 'portal.e_cert_rate', '67', 'today', %s, NULL, NULL, 90)",
            [(NOW - timedelta(minutes=m), 60 + m / 6) for m in range(1, 60)],
        )
        minutes = [(NOW - timedelta(minutes=m),) for m in range(1, 60)]
        cur.executemany("INSERT INTO kpi_snapshot_runs VALUES (%s, true, 1, 1)", minutes)  # each a full snapshot
    rule = AlertRule(id="coverage-drop", kpi="coverage.usable_share", window="1h", below=50, severity="major")
    AlertStore(pages.db).apply(
        [
            AlertOpened(
                rule,
                "24611",
                41.0,
                "usable share 41 % in 24611",
                int(NOW.timestamp() * 1_000_000),
                threshold=50,
                unit="%",
                lineage=("24611", "660", "67"),
            )
        ]
    )
    key = pages.keys.create("wall-e2e", Scope.READ)
    with pages.serve() as api:
        current = api.get("/api/v1/kpis/current", params={"area": "67"}, headers=bearer(key)).json()["values"]
        reported = {v["kpi"]: v["value"] for v in current}
        assert reported == {kpi: value for kpi, (_, _, value) in OVERVIEW.items()}
        pages.open("wall", "views=overview&rotate=0", key)
        pages.browser.wait_equal(CONNECTION, "conn live")
        pages.browser.wait_equal(
            TILES,
            [[k, shown_in_vietnamese(reported[k], unit), "state-live", None] for k, (_, unit, _) in OVERVIEW.items()],
        )
        # Nothing covers the wall; the key left the address bar (it was only in the fragment) and is kept.
        assert pages.browser.evaluate("document.elementFromPoint(960, 540).closest('.tiles') !== null")
        assert pages.browser.evaluate("window.location.hash") == ""
        assert pages.browser.evaluate("localStorage.getItem('daknong-ioc.api-key.wall')") == key
        e_cert = '[data-kpi="portal.e_cert_rate"]'
        assert pages.browser.wait_for(f"document.querySelector('{e_cert} .spark path').getAttribute('d')")
        assert pages.browser.evaluate(text(f"{e_cert} .target")) == "Mục tiêu ≥ 90,0 % · hạn 31/12/2022"
        pages.browser.wait_equal(text(".alert.major .where"), "Nghĩa Đức")
        assert pages.browser.evaluate(text(".alert.major .msg")).startswith(
            "Tỷ lệ mẫu đo Internet di động dùng được ở Phường Nghĩa Đức chỉ còn 41,0 % trong 1 giờ, dưới ngưỡng 50,0 %"
        )
        pages.screenshot("wall-overview-live.png")
        fits = (
            "document.documentElement.scrollHeight <= innerHeight && document.documentElement.scrollWidth <= innerWidth"
        )
        assert pages.browser.evaluate(fits)
        pages.browser.resize(3840, 2160)  # the same wall, sharper, on a 4K screen
        pages.browser.wait_equal(f"{fits} && getComputedStyle(document.documentElement).fontSize", "34.56px")
        pages.screenshot("wall-overview-4k.png")
        pages.browser.resize(1920, 1080)

        pages.sink.write([frame("portal.e_cert_rate", 74.0, 7)])
        pages.browser.wait_equal(f"{TILES}[0][1]", "74,0")

        pages.sink.write([frame("coverage.usable_share", 62.5, 8, event_at=NOW - timedelta(minutes=20))])
        pages.browser.wait_equal(f"{TILES}[4]", ["coverage.usable_share", "62,5", "state-stale", "DỮ LIỆU CŨ"])
        pages.browser.evaluate("document.getElementById('lang').click()")
        pages.browser.wait_equal(text('[data-kpi="coverage.usable_share"] .badge'), "STALE")
        assert pages.browser.evaluate(text(f"{e_cert} h3")) == "Dossiers e-certified"
        pages.screenshot("wall-overview-stale-en.png")


def test_the_wall_reconnects_after_the_api_restarts_and_never_shows_old_numbers_as_live(pages: Pages) -> None:
    pages.sink.write(overview_frames(), new_epoch="e1")
    key = pages.keys.create("wall-e2e", Scope.READ)
    with pages.serve():
        pages.open("wall", "views=overview&rotate=0", key)
        pages.browser.wait_for(f"{CONNECTION} === 'conn live' && {TILES}[0][1] === '71,3'")
    pages.browser.wait_equal(CONNECTION, "conn reconnecting", timeout=30)
    offline = "t[2] === 'state-offline' && t[3] === 'MẤT KẾT NỐI'"
    tiles = pages.browser.wait_for(f"{TILES}.every((t) => {offline}) && {TILES}")
    assert [t[1] for t in tiles] == ["71,3", "55,0", "96,5", "48,0", "62,5", "12"]  # still there, marked not live
    pages.screenshot("wall-reconnecting.png")
    pages.sink.write([frame("portal.e_cert_rate", 80.0, 7)])  # while the API is away: to be had by resuming
    with pages.serve():
        pages.browser.wait_equal(
            f"[{CONNECTION}, {TILES}[0]]", ["conn live", [*tiles[0][:1], "80,0", "state-live", None]], 40
        )


def test_a_revoked_key_brings_the_prompt_back_with_a_message_and_a_new_key_works(pages: Pages) -> None:
    pages.sink.write([frame("portal.e_cert_rate", 71.26, 1)], new_epoch="e1")
    revoked = pages.keys.create("wall-old", Scope.READ)
    assert pages.keys.revoke("wall-old")
    with pages.serve():
        pages.open("wall", "views=overview&rotate=0", revoked)
        message = pages.browser.wait_for(f"!document.getElementById('keygate').hidden && {text('.keygate-message')}")
        assert message == "Khóa API của màn hình này không hợp lệ hoặc đã bị thu hồi. Hãy nhập khóa mới."
        assert pages.browser.evaluate(CONNECTION) == "conn unauthorized"
        assert pages.browser.evaluate("localStorage.getItem('daknong-ioc.api-key.wall')") is None
        pages.screenshot("wall-revoked-key.png")
        fresh = pages.keys.create("wall-new", Scope.READ)
        pages.browser.evaluate(f"document.querySelector('.keygate input').value = {json.dumps(fresh)}")
        pages.browser.evaluate("document.querySelector('.keygate button').click()")
        pages.browser.wait_for(f"{CONNECTION} === 'conn live' && {TILES}[0][1] === '71,3'")


def test_a_key_revoked_while_the_wall_is_live_closes_its_socket_and_the_wall_says_so(pages: Pages) -> None:
    pages.sink.write([frame("portal.e_cert_rate", 71.26, 1)], new_epoch="e1")
    key = pages.keys.create("wall-live", Scope.READ)
    admin = pages.keys.create("admin-e2e", Scope.ADMIN)
    with pages.serve() as client:
        pages.open("wall", "views=overview&rotate=0", key)
        pages.browser.wait_for(f"{CONNECTION} === 'conn live' && {TILES}[0][1] === '71,3'")
        assert client.post("/api/v1/apikeys/wall-live/revoke", headers=bearer(admin)).status_code == 204
        pages.browser.wait_equal(CONNECTION, "conn revoked", timeout=10)
        assert pages.browser.evaluate(text("#conn")) == "Khóa API của màn hình này vừa bị thu hồi"
        message = pages.browser.wait_for(f"!document.getElementById('keygate').hidden && {text('.keygate-message')}")
        assert message == "Khóa API của màn hình này không hợp lệ hoặc đã bị thu hồi. Hãy nhập khóa mới."
        assert pages.browser.evaluate("localStorage.getItem('daknong-ioc.api-key.wall')") is None
        pages.screenshot("wall-key-revoked-while-live.png")


def test_the_area_view_colours_sub_areas_against_the_target_and_drills_down(pages: Pages) -> None:
    districts = {"660": 70.0, "661": 55.0, "662": 30.0}  # target 60 %: met, within 10 %, below
    communes = {"24611": 82.0, "24612": 41.0}
    values = {**districts, **communes}.items()
    pages.sink.write(
        [frame("coverage.usable_share", v, seq, area=code, window="1h") for seq, (code, v) in enumerate(values, 1)],
        new_epoch="e1",
    )
    key = pages.keys.create("wall-e2e", Scope.READ)
    with pages.serve():
        pages.open("wall", "views=coverage-map&rotate=0", key)
        pages.browser.wait_for(f"{CONNECTION} === 'conn live' && {CELLS}.length === 8")
        shown = dict(pages.browser.wait_for(f"{CELLS}.find((c) => c[0] === '662' && c[1].includes('live')) && {CELLS}"))
        assert [shown[code] for code in (*districts, "663")] == [
            "cell band-good state-live",
            "cell band-near state-live",
            "cell band-bad state-live",
            "cell band-none state-nodata",
        ]
        pages.screenshot("wall-areas-province.png")
        pages.browser.evaluate("document.querySelector('.cell[data-area=\"660\"]').click()")
        pages.browser.wait_equal(text(".crumbs"), "Đắk Nông › Gia Nghĩa")
        inside = dict(pages.browser.evaluate(CELLS))
        assert (inside["24611"], inside["24612"]) == ("cell band-good state-live", "cell band-bad state-live")
        pages.screenshot("wall-areas-gia-nghia.png")


def test_the_wall_follows_events_published_over_mqtt_through_ingest_and_the_engine(
    pages: Pages,
    redis_url: str,
    start_ingest: Callable[..., RunningIngest],
    start_engine: Callable[..., RunningEngine],
    register_publisher: Callable[..., Publisher],
) -> None:
    start_ingest(stored_events=StoredEventsPublisher(redis_url, producer="ingest-under-test"))
    start_engine()
    counter = register_publisher("payments", "24611")

    def publish(count: int) -> None:
        for _ in range(count):
            body = factories.transaction(seq=next(counter.seq))
            counter.client.publish(counter.topic("transaction"), factories.encode(body))

    publish(3)
    key = pages.keys.create("wall-e2e", Scope.READ)
    transactions = text('[data-kpi="payments.tx_count"] .number')
    with pages.serve():
        pages.open("wall", "views=payments&rotate=0", key)
        pages.browser.wait_equal(f"[{CONNECTION}, {transactions}]", ["conn live", "3"], timeout=30)
        publish(4)
        pages.browser.wait_equal(transactions, "7", timeout=30)
        assert pages.browser.evaluate(text('[data-kpi="payments.cashless_share"] .number')) == "100,0"  # all by QR
        pages.screenshot("wall-payments-from-mqtt.png")


def test_a_wall_whose_address_the_api_does_not_allow_says_so_and_shows_nothing_as_live(pages: Pages) -> None:
    pages.sink.write(overview_frames(), new_epoch="e1")
    key = pages.keys.create("wall-e2e", Scope.READ)
    with pages.serve(api_allowed_origins=["https://wall.example"]):
        pages.open("wall", "views=overview&rotate=0", key)
        pages.browser.wait_equal(CONNECTION, "conn refused")
        assert pages.browser.evaluate(text("#conn")) == (
            "Máy chủ từ chối kết nối trực tiếp từ địa chỉ này (kiểm tra IOC_API_ALLOWED_ORIGINS)"
        )
        assert pages.browser.evaluate(TILES) == [[kpi, "—", "state-offline", "MẤT KẾT NỐI"] for kpi in OVERVIEW]


def test_the_kiosk_rotates_through_the_views_of_the_url(pages: Pages) -> None:
    key = pages.keys.create("wall-e2e", Scope.READ)
    with pages.serve():
        pages.open("wall", "views=coverage-map,overview&rotate=5", key)
        pages.browser.wait_equal(text("#view-title"), "Internet di động dùng được theo địa bàn — 1 giờ")
        pages.browser.wait_equal(text("#view-title"), "Chuyển đổi số toàn tỉnh — hôm nay", timeout=8)
        pages.browser.wait_equal(text("#view-title"), "Internet di động dùng được theo địa bàn — 1 giờ", timeout=8)
