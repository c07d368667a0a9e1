"""The HTTP API against the real database and Redis: health, keys and scopes, catalog, current values, areas."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import psycopg
import pytest
import redis

from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.settings import Settings
from streams.engine.frame_sink import FrameSink
from streams.engine.history_writer import HistoryWriter
from streams.engine.hourly_snapshots import roll_hour
from streams.engine.metrics import EngineMetrics
from streams.frames import KpiFrame
from streams.records import from_micros
from streams.windows import MINUTE_US
from tests.fixtures.api import bearer, ops_get
from tests.fixtures.stack import IsolatedDatabase
from tests.streams.kpi_data import NOW_US

pytestmark = pytest.mark.integration


def test_health_names_each_dependency_on_the_operations_listener_and_only_the_status_in_public(
    client: httpx.Client, api_config: Settings, redis_url: str
) -> None:
    answer = ops_get(api_config, "/health")
    assert answer.status_code == 503  # no KPI engine runs in this test
    assert answer.json() == {
        "status": "down",
        "dependencies": {
            "database": {"state": "ok", "reason": ""},
            "broker": {"state": "ok", "reason": ""},
            "redis": {"state": "ok", "reason": ""},
            "streams": {"state": "down", "reason": "no heartbeat from the KPI engine"},
            "event_loop": {"state": "ok", "reason": ""},
        },
    }
    public = client.get("/api/v1/health")
    assert (public.status_code, public.json()) == (503, {"status": "down"})
    FrameSink(redis.Redis.from_url(redis_url)).heartbeat("2026-11-27T03:00:00+00:00")
    time.sleep(1.1)  # a report is kept for a second
    stale = ops_get(api_config, "/health").json()
    assert stale["status"] == "degraded"
    assert stale["dependencies"]["streams"]["state"] == "degraded"
    assert client.get("/api/v1/health").json() == {"status": "degraded"}
    FrameSink(redis.Redis.from_url(redis_url)).heartbeat(datetime.now(UTC).isoformat())
    time.sleep(1.1)
    assert (client.get("/api/v1/health").status_code, ops_get(api_config, "/health").status_code) == (200, 200)
    assert client.get("/metrics").status_code == 404  # only on the operations listener
    assert "ioc_api_requests_total" in ops_get(api_config, "/metrics").text


def test_keys_are_checked_on_every_route_with_clear_errors(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    key = ApiKeyRepository(db).create("wall-1", Scope.READ)
    for path in ("/api/v1/kpis", "/api/v1/kpis/current", "/api/v1/areas"):
        missing = client.get(path)
        assert missing.status_code == 401, path
        assert missing.json() == {
            "error": {"code": "unauthorized", "message": "send an API key as 'Authorization: Bearer <key>'"}
        }
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = client.get(path, headers=bearer(key[:-1] + ("A" if key[-1] != "A" else "B")))
        assert wrong.json() == {"error": {"code": "unauthorized", "message": "unknown or revoked API key"}}
        assert client.get(path, headers=bearer(key)).status_code == 200, path
    assert ApiKeyRepository(db).revoke("wall-1")
    assert client.get("/api/v1/kpis", headers=bearer(key)).status_code == 401


def test_catalog_current_values_and_areas(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]], redis_url: str
) -> None:
    key = bearer(ApiKeyRepository(db).create("console", Scope.OPERATE))  # a higher scope reads too
    catalog = {entry["id"]: entry for entry in client.get("/api/v1/kpis", headers=key).json()}
    e_cert = catalog["portal.e_cert_rate"]
    assert (e_cert["label_vi"], e_cert["unit"], e_cert["windows"]) == (
        "Tỷ lệ hồ sơ chứng thực điện tử",
        "%",
        ["5m", "1h", "24h", "today"],
    )
    assert [t["value"] for t in e_cert["targets"]] == [70, 90]
    assert e_cert["target_in_force"]["value"] == 90
    assert catalog["portal.overdue_open"]["windows"] == ["now"]

    def frame(kpi: str, area: str, window: str, value: float, seq: int) -> KpiFrame:
        return KpiFrame(kpi, area, window, value, None, None, "%", None, None, "2026-11-27T03:00:00+00:00", "e7", seq)

    FrameSink(redis.Redis.from_url(redis_url)).write(
        [frame("coverage.usable_share", "67", "5m", 61.5, 1), frame("coverage.usable_share", "24615", "5m", 40.0, 2),
         frame("payments.tx_count", "67", "today", 12, 3)], new_epoch="e7",
    )  # fmt: skip
    current = client.get("/api/v1/kpis/current", params={"kpi": "coverage.usable_share"}, headers=key).json()
    assert current["epoch"] == "e7"
    assert [(v["area"], v["value"], v["seq"]) for v in current["values"]] == [("24615", 40.0, 2), ("67", 61.5, 1)]
    only = client.get("/api/v1/kpis/current", params={"area": "67", "window": "today"}, headers=key).json()
    assert [(v["kpi"], v["value"]) for v in only["values"]] == [("payments.tx_count", 12)]
    for params, message in (
        ({"kpi": "portal.nope"}, "unknown KPI 'portal.nope'; GET /api/v1/kpis lists them"),
        ({"window": "2h"}, "unknown window '2h'; use one of 5m, 1h, 24h, today, now"),
    ):
        refused = client.get("/api/v1/kpis/current", params=params, headers=key)
        assert (refused.status_code, refused.json()) == (
            400,
            {"error": {"code": "invalid_request", "message": message}},
        )

    [province] = client.get("/api/v1/areas", headers=key).json()
    assert (province["code"], province["level"], len(province["children"])) == ("67", "province", 8)
    gia_nghia = next(d for d in province["children"] if d["code"] == "660")
    assert {c["code"] for c in gia_nghia["children"]} >= {"24611", "24615"}


def test_history_buckets_the_minute_snapshots(
    client: httpx.Client, database: IsolatedDatabase, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    writer = HistoryWriter(database.connect, EngineMetrics())
    base = NOW_US // (60 * MINUTE_US) * (60 * MINUTE_US)  # 02:00 UTC, where an hour bucket starts
    for minute, value in ((0, 50.0), (1, 55.0), (59, 60.0), (60, 70.0), (61, 72.0)):
        writer.offer_snapshot(base + minute * MINUTE_US, [("portal.e_cert_rate", "67", "1h", value, None, None, 90.0)])
        writer.write_pending()
    writer.close()
    key = bearer(ApiKeyRepository(db).create("analyst", Scope.READ))
    start = from_micros(base).isoformat()
    end = from_micros(base + 2 * 60 * MINUTE_US).isoformat()
    params = {"kpi": "portal.e_cert_rate", "area": "67", "window": "1h", "from": start, "to": end, "bucket": "1h"}
    answer = client.get("/api/v1/kpis/history", params=params, headers=key).json()
    assert [(p["at"], p["value"], p["target"]) for p in answer["points"]] == [
        (from_micros(base).isoformat().replace("+00:00", "Z"), 60.0, 90.0),  # the last snapshot of each hour
        (from_micros(base + 60 * MINUTE_US).isoformat().replace("+00:00", "Z"), 72.0, 90.0),
    ]
    # The first hour rolled into kpi_snapshots_1h: it is read from there, the second from the minutes.
    roll_hour(db, from_micros(base))
    db.execute("UPDATE kpi_snapshots SET value = 99 WHERE at = %s", (from_micros(base + 59 * MINUTE_US),))
    rolled = client.get("/api/v1/kpis/history", params=params, headers=key).json()
    assert [p["value"] for p in rolled["points"]] == [60.0, 72.0]  # the hourly row, not the changed minute
    within = client.get("/api/v1/kpis/history", params=params | {"to": from_micros(base + 30 * MINUTE_US).isoformat()},
                        headers=key).json()  # fmt: skip
    assert [p["value"] for p in within["points"]] == [55.0]  # `to` inside a rolled hour: nothing after it counts
    roll_hour(db, from_micros(base))  # rolling again takes the change
    again = client.get("/api/v1/kpis/history", params=params | {"bucket": "6h"}, headers=key).json()
    assert [(p["at"], p["value"]) for p in again["points"]] == [("2026-11-26T00:00:00Z", 72.0)]  # 00:00–06:00
    minutes = client.get("/api/v1/kpis/history", params=params | {"bucket": "5m"}, headers=key).json()
    assert [p["value"] for p in minutes["points"]] == [55.0, 99.0, 72.0]  # 02:00–02:05, 02:55–03:00, 03:00–03:05
    for bad, message in (
        ({"bucket": "2h"}, "unknown bucket '2h'; use one of 1m, 5m, 15m, 1h, 6h, 1d"),
        ({"from": end, "to": start}, "'from' must be before 'to'"),
        (
            {"from": "2026-01-01T00:00:00+00:00", "bucket": "1m"},
            "at most 5000 buckets per query: widen the bucket or narrow the range",
        ),
        ({"from": "2026-11-26T00:00:00"}, "'from' needs a time zone offset (RFC 3339)"),
        ({"to": "0.5"}, "to: Value error, must be an RFC 3339 date-time, such as 2026-11-26T07:00:00+07:00"),
    ):
        refused = client.get("/api/v1/kpis/history", params=params | bad, headers=key)
        assert (refused.status_code, refused.json()["error"]["message"]) == (400, message), bad
