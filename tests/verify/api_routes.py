"""Every route `create_app()` serves, and the scope each one needs: the security scenarios check the
table against the app, so that a route added without an entry here fails them until someone says
who may call it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIWebSocketRoute
from starlette.routing import BaseRoute

from api.http.auth.keys import Scope

READ, OPERATE, ADMIN = Scope.READ, Scope.OPERATE, Scope.ADMIN

# (method, path) -> the scope it needs; None: public on purpose.
HTTP_SCOPES: dict[tuple[str, str], Scope | None] = {
    ("GET", "/openapi.json"): None, ("GET", "/docs"): None, ("GET", "/docs/assets/{name}"): None,
    ("GET", "/api/v1/health"): None,
    ("GET", "/wall"): None, ("GET", "/console"): None, ("GET", "/ui/{path:path}"): None,
    ("GET", "/api/v1/kpis"): READ, ("GET", "/api/v1/kpis/current"): READ, ("GET", "/api/v1/kpis/history"): READ,
    ("GET", "/api/v1/areas"): READ, ("GET", "/api/v1/events/{source}"): READ,
    ("GET", "/api/v1/alerts"): READ, ("GET", "/api/v1/alerts/{alert_id}/history"): READ,
    ("POST", "/api/v1/alerts/{alert_id}/ack"): OPERATE, ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): OPERATE,
    ("GET", "/api/v1/incidents"): READ, ("GET", "/api/v1/incidents/{incident_id}"): READ,
    ("POST", "/api/v1/incidents/{incident_id}/acknowledge"): OPERATE,
    ("GET", "/api/v1/dead-letters"): READ, ("POST", "/api/v1/dead-letters/{dead_letter_id}/replay"): OPERATE,
    ("GET", "/api/v1/publishers"): READ, ("GET", "/api/v1/publishers/{publisher_id}/gaps"): READ,
    ("POST", "/api/v1/publishers"): ADMIN, ("POST", "/api/v1/publishers/{publisher_id}/disable"): ADMIN,
    ("GET", "/api/v1/apikeys"): ADMIN, ("POST", "/api/v1/apikeys"): ADMIN,
    ("POST", "/api/v1/apikeys/{name}/revoke"): ADMIN,
    ("GET", "/api/v1/targets"): READ, ("POST", "/api/v1/targets"): ADMIN, ("PUT", "/api/v1/targets/{target_id}"): ADMIN,
    ("DELETE", "/api/v1/targets/{target_id}"): ADMIN,
    ("GET", "/api/v1/alert-rules"): READ, ("POST", "/api/v1/alert-rules"): ADMIN,
    ("PUT", "/api/v1/alert-rules/{rule_id}"): ADMIN, ("DELETE", "/api/v1/alert-rules/{rule_id}"): ADMIN,
    ("POST", "/api/v1/ws-tickets"): READ, ("POST", "/api/v1/contract/validate"): READ,
    ("GET", "/api/v1/notifications/deliveries"): ADMIN,
    # The publisher states and mutes (issue 22, item 3).
    ("GET", "/api/v1/publishers/{publisher_id}"): READ, ("GET", "/api/v1/publishers/{publisher_id}/actions"): READ,
    ("PUT", "/api/v1/publishers/{publisher_id}/maintenance"): ADMIN,
    ("DELETE", "/api/v1/publishers/{publisher_id}/maintenance"): ADMIN,
    ("POST", "/api/v1/publishers/{publisher_id}/enable"): ADMIN,
    ("PUT", "/api/v1/publishers/{publisher_id}/silent-after"): ADMIN,
    ("GET", "/api/v1/alert-mutes"): READ, ("POST", "/api/v1/alert-mutes"): OPERATE,
    ("DELETE", "/api/v1/alert-mutes/{mute_id}"): OPERATE,
    # The console's status board and dead-letter tools (issue 22, item 5).
    ("GET", "/api/v1/system/status"): READ, ("GET", "/api/v1/dead-letters/count"): READ,
    ("GET", "/api/v1/dead-letters/export.csv"): READ, ("GET", "/api/v1/dead-letters/{dead_letter_id}/payload"): READ,
    ("POST", "/api/v1/dead-letters/replay"): ADMIN,
}  # fmt: skip
# Websockets take a single-use ticket (from POST /api/v1/ws-tickets) in their first message.
WEBSOCKETS = frozenset({"/ws/kpis", "/ws/events"})

# Values for path parameters: well-formed, naming nothing that exists.
_PATH_VALUES = {"source": "payments", "path": "nothing.js", "name": "nobody", "publisher_id": "nobody"}


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str

    def url(self) -> str:
        return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: _PATH_VALUES.get(m.group(1), "1"), self.path)


def _flatten(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)  # FastAPI ≥ 0.16x: included routers
        if contexts is None:
            yield route
        else:
            yield from (context.original_route for context in contexts())


def http_routes(app: FastAPI) -> set[HttpRoute]:
    found = set()
    for route in _flatten(app.routes):
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                found.add(HttpRoute(method, str(getattr(route, "path", ""))))
    return found


def websocket_paths(app: FastAPI) -> set[str]:
    return {route.path for route in _flatten(app.routes) if isinstance(route, APIWebSocketRoute)}


def required_scope(route: HttpRoute) -> Scope | None:
    return HTTP_SCOPES[(route.method, route.path)]


def lower_scopes(scope: Scope) -> list[Scope]:
    return [s for s in Scope if s < scope]
