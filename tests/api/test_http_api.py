"""The HTTP API against the real database and Redis: health, keys and scopes, catalog, current values, areas."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest
import redis
import uvicorn

from api.http.app import create_app
from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.settings import Settings
from deploy.stack.manager import LocalStack
from streams.engine.frame_sink import FrameSink
from streams.frames import KpiFrame
from tests.fixtures.ingest import free_port
from tests.fixtures.stack import IsolatedDatabase

pytestmark = pytest.mark.integration


@pytest.fixture
def client(stack: LocalStack, database: IsolatedDatabase, redis_url: str) -> Iterator[httpx.Client]:
    """The app served by a real uvicorn on a free port, as `ioc api` serves it."""
    settings = Settings.model_validate(
        stack.settings.model_dump() | {"database_url": database.url, "redis_url": redis_url}
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="api-under-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the API did not start"
    with httpx.Client(base_url=f"http://127.0.0.1:{server.config.port}", timeout=10) as http:
        yield http
    server.should_exit = True
    thread.join(10)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_health_names_each_dependency(client: httpx.Client, redis_url: str) -> None:
    answer = client.get("/api/v1/health")
    assert answer.status_code == 503  # no KPI engine runs in this test
    assert answer.json() == {
        "status": "down",
        "dependencies": {
            "database": {"state": "ok", "reason": ""},
            "broker": {"state": "ok", "reason": ""},
            "redis": {"state": "ok", "reason": ""},
            "streams": {"state": "down", "reason": "no heartbeat from the KPI engine"},
        },
    }
    FrameSink(redis.Redis.from_url(redis_url)).heartbeat("2026-11-27T03:00:00+00:00")
    stale = client.get("/api/v1/health").json()
    assert stale["status"] == "degraded"
    assert stale["dependencies"]["streams"]["state"] == "degraded"


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
