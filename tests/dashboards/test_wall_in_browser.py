"""The wall in Debian's headless Chromium against the real API, Redis and database: it shows what the API
reports, follows new frames, says "stale" when a source stops, reconnects after the API restarts and
asks again for a revoked key. Screenshots at 1920×1080 go to `$IOC_HOME/artifacts/dashboards/`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
import redis

from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.settings import Settings
from deploy.stack.manager import LocalStack
from streams.alerts.evaluator import AlertOpened
from streams.alerts.rules import AlertRule
from streams.alerts.store import AlertStore
from streams.engine.frame_sink import FrameSink
from streams.frames import KpiFrame
from tests.dashboards.browser import Browser
from tests.fixtures.api import api_settings, bearer, serve_api
from tests.fixtures.ingest import free_port
from tests.fixtures.stack import IsolatedDatabase

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
CONNECTION = "document.getElementById('conn').className"
TILES = """[...document.querySelectorAll('.tile')].map((t) => [t.dataset.kpi, t.querySelector('.number').textContent,
  [...t.classList].find((c) => c.startsWith('state-')), t.querySelector('.badge')?.textContent ?? null])"""
CELLS = "[...document.querySelectorAll('.cell')].map((c) => [c.dataset.area, c.className])"


def text(selector: str) -> str:
    return f"(document.querySelector({json.dumps(selector)})?.textContent ?? null)"


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


@dataclass
class Wall:
    """A browser, the frames it will be sent, the API keys, and the API serving the pages on a port of its own."""

    browser: Browser
    sink: FrameSink
    keys: ApiKeyRepository
    db: psycopg.Connection[tuple[object, ...]]
    port: int
    artifacts: Path
    settings: Settings

    def serve(self) -> AbstractContextManager[httpx.Client]:
        """The API (again, after a stop) on the same port, allowing the pages it serves to open its websockets."""
        return serve_api(self.settings, self.port)

    def open(self, query: str, key: str) -> None:
        self.browser.open(f"http://127.0.0.1:{self.port}/wall?{query}#key={key}")

    def screenshot(self, name: str) -> None:
        self.browser.screenshot(self.artifacts / name)


@pytest.fixture
def wall(
    stack: LocalStack, database: IsolatedDatabase, db: psycopg.Connection[tuple[object, ...]], redis_url: str
) -> Iterator[Wall]:
    port = free_port()
    settings = api_settings(stack, database, redis_url)
    settings = Settings.model_validate(settings.model_dump() | {"api_allowed_origins": [f"http://127.0.0.1:{port}"]})
    browser = Browser(1920, 1080)
    artifacts = stack.paths.home / "artifacts" / "dashboards"
    yield Wall(browser, FrameSink(redis.Redis.from_url(redis_url)), ApiKeyRepository(db), db, port, artifacts, settings)
    browser.close()
    assert browser.exceptions == []  # no page script failed


def test_the_wall_shows_what_the_api_reports_follows_new_frames_and_says_stale_when_a_source_stops(
    wall: Wall,
) -> None:
    wall.sink.write(overview_frames(), new_epoch="e1")
    with wall.db.cursor() as cur:  # the last hour of e-certification, for the sparkline
        cur.executemany(
            "INSERT INTO kpi_snapshots VALUES (%s, 'portal.e_cert_rate', '67', 'today', %s, NULL, NULL, 90)",
            [(NOW - timedelta(minutes=m), 60 + m / 6) for m in range(1, 60)],
        )
    rule = AlertRule(id="coverage-drop", kpi="coverage.usable_share", window="1h", below=50, severity="major")
    AlertStore(wall.db).apply(
        [AlertOpened(rule, "24611", 41.0, "usable share 41 % in 24611", int(NOW.timestamp() * 1_000_000))]
    )
    key = wall.keys.create("wall-e2e", Scope.READ)
    with wall.serve() as api:
        current = api.get("/api/v1/kpis/current", params={"area": "67"}, headers=bearer(key)).json()["values"]
        reported = {v["kpi"]: v["value"] for v in current}
        assert reported == {kpi: value for kpi, (_, _, value) in OVERVIEW.items()}
        wall.open("views=overview&rotate=0", key)
        wall.browser.wait_equal(CONNECTION, "conn live")
        wall.browser.wait_equal(
            TILES,
            [[k, shown_in_vietnamese(reported[k], unit), "state-live", None] for k, (_, unit, _) in OVERVIEW.items()],
        )
        # Nothing covers the wall; the key left the address bar (it was only in the fragment) and is kept.
        assert wall.browser.evaluate("document.elementFromPoint(960, 540).closest('.tiles') !== null")
        assert wall.browser.evaluate("window.location.hash") == ""
        assert wall.browser.evaluate("localStorage.getItem('daknong-ioc.api-key.wall')") == key
        e_cert = '[data-kpi="portal.e_cert_rate"]'
        assert wall.browser.wait_for(f"document.querySelector('{e_cert} .spark path').getAttribute('d')")
        assert wall.browser.evaluate(text(f"{e_cert} .target")) == "Mục tiêu ≥ 90,0 % · hạn 31/12/2022"
        wall.browser.wait_equal(text(".alert.major .where"), "Nghĩa Đức")
        assert wall.browser.evaluate(text(".alert.major .msg")) == "usable share 41 % in 24611"
        wall.screenshot("wall-overview-live.png")

        wall.sink.write([frame("portal.e_cert_rate", 74.0, 7)])
        wall.browser.wait_equal(f"{TILES}[0][1]", "74,0")

        wall.sink.write([frame("coverage.usable_share", 62.5, 8, event_at=NOW - timedelta(minutes=20))])
        wall.browser.wait_equal(f"{TILES}[4]", ["coverage.usable_share", "62,5", "state-stale", "DỮ LIỆU CŨ"])
        wall.browser.evaluate("document.getElementById('lang').click()")
        wall.browser.wait_equal(text('[data-kpi="coverage.usable_share"] .badge'), "STALE")
        assert wall.browser.evaluate(text(f"{e_cert} h3")) == "Dossiers e-certified"
        wall.screenshot("wall-overview-stale-en.png")


def test_the_wall_reconnects_after_the_api_restarts_and_never_shows_old_numbers_as_live(wall: Wall) -> None:
    wall.sink.write(overview_frames(), new_epoch="e1")
    key = wall.keys.create("wall-e2e", Scope.READ)
    with wall.serve():
        wall.open("views=overview&rotate=0", key)
        wall.browser.wait_for(f"{CONNECTION} === 'conn live' && {TILES}[0][1] === '71,3'")
    wall.browser.wait_equal(CONNECTION, "conn reconnecting", timeout=30)
    offline = "t[2] === 'state-offline' && t[3] === 'MẤT KẾT NỐI'"
    tiles = wall.browser.wait_for(f"{TILES}.every((t) => {offline}) && {TILES}")
    assert [t[1] for t in tiles] == ["71,3", "55,0", "96,5", "48,0", "62,5", "12"]  # still there, marked not live
    wall.screenshot("wall-reconnecting.png")
    wall.sink.write([frame("portal.e_cert_rate", 80.0, 7)])  # while the API is away: to be had by resuming
    with wall.serve():
        wall.browser.wait_equal(
            f"[{CONNECTION}, {TILES}[0]]", ["conn live", [*tiles[0][:1], "80,0", "state-live", None]], 40
        )


def test_a_revoked_key_brings_the_prompt_back_with_a_message_and_a_new_key_works(wall: Wall) -> None:
    wall.sink.write([frame("portal.e_cert_rate", 71.26, 1)], new_epoch="e1")
    revoked = wall.keys.create("wall-old", Scope.READ)
    assert wall.keys.revoke("wall-old")
    with wall.serve():
        wall.open("views=overview&rotate=0", revoked)
        message = wall.browser.wait_for(f"!document.getElementById('keygate').hidden && {text('.keygate-message')}")
        assert message == "Khóa API của màn hình này không hợp lệ hoặc đã bị thu hồi. Hãy nhập khóa mới."
        assert wall.browser.evaluate(CONNECTION) == "conn unauthorized"
        assert wall.browser.evaluate("localStorage.getItem('daknong-ioc.api-key.wall')") is None
        wall.screenshot("wall-revoked-key.png")
        fresh = wall.keys.create("wall-new", Scope.READ)
        wall.browser.evaluate(f"document.querySelector('.keygate input').value = {json.dumps(fresh)}")
        wall.browser.evaluate("document.querySelector('.keygate button').click()")
        wall.browser.wait_for(f"{CONNECTION} === 'conn live' && {TILES}[0][1] === '71,3'")


def test_the_area_view_colours_sub_areas_against_the_target_and_drills_down(wall: Wall) -> None:
    districts = {"660": 70.0, "661": 55.0, "662": 30.0}  # target 60 %: met, within 10 %, below
    communes = {"24611": 82.0, "24612": 41.0}
    values = {**districts, **communes}.items()
    wall.sink.write(
        [frame("coverage.usable_share", v, seq, area=code, window="1h") for seq, (code, v) in enumerate(values, 1)],
        new_epoch="e1",
    )
    key = wall.keys.create("wall-e2e", Scope.READ)
    with wall.serve():
        wall.open("views=coverage-map&rotate=0", key)
        wall.browser.wait_for(f"{CONNECTION} === 'conn live' && {CELLS}.length === 8")
        shown = dict(wall.browser.wait_for(f"{CELLS}.find((c) => c[0] === '662' && c[1].includes('live')) && {CELLS}"))
        assert [shown[code] for code in (*districts, "663")] == [
            "cell band-good state-live", "cell band-near state-live", "cell band-bad state-live",
            "cell band-none state-nodata",
        ]  # fmt: skip
        wall.screenshot("wall-areas-province.png")
        wall.browser.evaluate("document.querySelector('.cell[data-area=\"660\"]').click()")
        wall.browser.wait_equal(text(".crumbs"), "Đắk Nông › Gia Nghĩa")
        inside = dict(wall.browser.evaluate(CELLS))
        assert (inside["24611"], inside["24612"]) == ("cell band-good state-live", "cell band-bad state-live")
        wall.screenshot("wall-areas-gia-nghia.png")
