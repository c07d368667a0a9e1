"""The API's operations listener (`IOC_API_OPS_HOST`:`IOC_API_OPS_PORT`), apart from the public one:
`GET /health` (every dependency with its reason; 200 when all are ok, else 503) and `GET /metrics`
(Prometheus), for the probes and the scrapes only. The proxy and the ingress never route to it.

It is the same small server as ingest's and the engine's, in a thread of its own, so it also answers
(and says so) when the event loop that serves the public API is stuck.
"""

from __future__ import annotations

from api.http.settings import ApiSettings
from api.http.system.checks import HealthChecks
from api.http.system.metrics import ApiMetrics
from runtime.health import HealthServer


def ops_listener(settings: ApiSettings, checks: HealthChecks, metrics: ApiMetrics) -> HealthServer:
    """Bound (a port that is taken fails the start, loudly), not yet serving: `start()` it."""
    return HealthServer(
        settings.api_ops_port, checks.report, metrics.registry, host=settings.api_ops_host, name="api-ops"
    )
