"""`create_app(settings)`: the FastAPI application, its routers, its error handling and its lifespan."""

from __future__ import annotations

from fastapi import FastAPI

from api.http.admin.endpoints import router as admin
from api.http.alerts.endpoints import router as alerts
from api.http.alerts.incidents import router as incidents
from api.http.api_docs.endpoints import router as api_docs
from api.http.areas.endpoints import router as areas
from api.http.contract.endpoints import router as contract
from api.http.dead_letters.bulk_endpoints import router as dead_letters_bulk
from api.http.dead_letters.endpoints import router as dead_letters
from api.http.dead_letters.export_endpoints import router as dead_letters_export
from api.http.errors import install_error_handlers
from api.http.events.endpoints import router as raw_events
from api.http.kpis.endpoints import router as kpis
from api.http.live.endpoints import router as live
from api.http.live.events import router as events
from api.http.mutes.endpoints import router as mutes
from api.http.notifications.endpoints import router as notifications
from api.http.pages.endpoints import router as pages
from api.http.publishers.endpoints import router as publishers
from api.http.rulebook.endpoints import router as rulebook
from api.http.settings import ApiSettings
from api.http.state import lifespan_for
from api.http.status.endpoints import router as system_status
from api.http.system.health import router as health
from api.http.system.metrics import ApiMetrics, install_metrics


def create_app(settings: ApiSettings) -> FastAPI:
    metrics = ApiMetrics()
    app = FastAPI(
        title="Đắk Nông IOC API",
        version="1",
        description="History and operations of the province's digital-transformation indicators. Every route but"
        " /api/v1/health needs `Authorization: Bearer <API key>` (scopes read ⊂ operate ⊂ admin).",
        lifespan=lifespan_for(settings, metrics),
        # Served by api_docs from a pinned package instead: FastAPI's own load them from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    install_metrics(app, metrics)
    routers = (
        health, system_status, kpis, areas, alerts, incidents, mutes, dead_letters, dead_letters_bulk,
        dead_letters_export, publishers, contract, admin, notifications, rulebook, raw_events, live, events, pages,
        api_docs,
    )  # fmt: skip
    for router in routers:
        app.include_router(router)
    return app
