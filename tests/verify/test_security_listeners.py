"""What the API's two listeners expose, against a real `ioc api` configured as the container image is.

The image binds the API to 0.0.0.0, and `/metrics` and the health of every dependency (with reasons)
were served on that public listener, to whoever reached it. Now the public listener answers health
with the overall status only and has no `/metrics`; both are on the operations listener
(`IOC_API_OPS_PORT`), which serves nothing else and which neither the proxy nor the Ingress routes.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from deploy.stack.manager import LocalStack
from tests.fixtures.api import api_process
from tests.fixtures.ingest import free_port
from tests.fixtures.stack import IsolatedDatabase
from tests.verify.report import ScenarioResult

pytestmark = pytest.mark.integration
DOCKERFILE = Path(__file__).resolve().parents[2] / "deploy/docker/Dockerfile"
DEPENDENCIES = ("database", "broker", "redis", "streams", "event_loop")
API_PATHS = ("/api/v1/kpis", "/openapi.json", "/docs", "/wall", "/ui/common/base.css", "/api/v1/ws-tickets")


def test_the_public_listener_serves_no_metrics_nor_health_details_and_the_ops_listener_only_those(
    stack: LocalStack, database: IsolatedDatabase, redis_url: str, scenario: ScenarioResult
) -> None:
    scenario.scenario = "Security: metrics and health details only on the API's operations listener, not the public"
    image = dict(re.findall(r"(IOC_\w+_HOST)=(\S+)", DOCKERFILE.read_text()))
    assert image["IOC_API_HOST"] == image["IOC_API_OPS_HOST"] == "0.0.0.0"  # noqa: S104 -- as the image binds
    ops_port = free_port()
    with api_process(stack, database, redis_url, IOC_API_OPS_PORT=str(ops_port)) as public:
        ops = f"http://127.0.0.1:{ops_port}"
        scenario.load = "GET /metrics, /health, /api/v1/health and 6 API paths on each listener"
        assert httpx.get(f"{public}/metrics").status_code == 404
        assert httpx.get(f"{public}/health").status_code == 404
        health = httpx.get(f"{public}/api/v1/health")
        assert health.json() == {"status": health.json()["status"]}, health.text  # nothing but the status
        assert not any(name in health.text for name in DEPENDENCIES)

        detailed = httpx.get(f"{ops}/health").json()
        assert set(detailed["dependencies"]) == set(DEPENDENCIES)
        assert detailed["status"] == health.json()["status"]
        assert "ioc_api_requests_total" in httpx.get(f"{ops}/metrics").text
        served_on_ops = [
            path for path in (*API_PATHS, "/api/v1/health") if httpx.get(f"{ops}{path}").status_code != 404
        ]
        assert served_on_ops == []
        assert all(
            httpx.get(f"{public}{path}").status_code != 404 for path in API_PATHS if path != "/api/v1/ws-tickets"
        )
    scenario.measure("paths of the operations listener on the public one", 0)
    scenario.measure("API paths on the operations listener", len(served_on_ops))
    scenario.measure("dependencies named publicly", 0)
