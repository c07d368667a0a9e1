"""The API's Prometheus metrics (counts only): requests by route and status, latency, live clients, records
of the other services refused. Served on the operations listener's `GET /metrics`, never on the public one."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("ioc_api_requests", "HTTP requests", ["method", "route", "status"], registry=r)
        self.seconds = Histogram(
            "ioc_api_request_seconds", "HTTP request time", ["route"], registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )  # fmt: skip
        self.live_clients = Gauge("ioc_api_live_clients", "Websocket clients subscribed to KPI frames", registry=r)
        # Records from the other services of a format version this API does not read, or garbage.
        self.flushes_refused = Counter(
            "ioc_api_flushes_refused", "Live flushes and replay entries of the engine refused", ["reason"], registry=r
        )
        self.records_refused = Counter(
            "ioc_api_records_refused", "Stored-events entries the event tail refused", ["reason"], registry=r
        )


def install_metrics(app: FastAPI, metrics: ApiMetrics) -> None:
    """Counts every request; the operations listener serves what they add up to (`api.http.system.ops`)."""

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        # The route's template, never the raw path: ids in paths would make every request its own series.
        name = getattr(route, "path", "unmatched")
        metrics.requests.labels(request.method, name, str(response.status_code)).inc()
        metrics.seconds.labels(name).observe(time.perf_counter() - started)
        return response
