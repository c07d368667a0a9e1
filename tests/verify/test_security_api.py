"""Security of the API against a real uvicorn: every route's scope, SQL metacharacters in every filter,
and the websockets' Origin check and tickets (unknown, reused, expired)."""

from __future__ import annotations

import json
import re
import time

import httpx
import psycopg
import pytest
import redis
from websockets.exceptions import ConnectionClosed, InvalidStatus

from api.http.app import create_app
from api.http.auth.keys import ApiKeyRepository, Scope
from api.http.live.tickets import TICKET_SECONDS
from deploy.settings import Settings
from tests.api.test_live_kpis import open_socket, receive, ticket
from tests.fixtures.api import bearer
from tests.fixtures.verify import VerifyProfile
from tests.verify.api_routes import (
    HTTP_SCOPES,
    WEBSOCKETS,
    HttpRoute,
    http_routes,
    lower_scopes,
    required_scope,
    websocket_paths,
)
from tests.verify.report import ScenarioResult

pytestmark = pytest.mark.integration


def test_every_route_refuses_a_missing_key_and_every_lower_scope(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]], scenario: ScenarioResult
) -> None:
    app = create_app(Settings())
    routes = http_routes(app)
    scenario.scenario = "Security: every API route's scope (no key 401, unknown key 401, lower scopes 403)"
    assert {(r.method, r.path) for r in routes} == set(HTTP_SCOPES), "a route without an entry in api_routes.py"
    assert websocket_paths(app) == WEBSOCKETS
    keys = {scope: bearer(ApiKeyRepository(db).create(f"scope-{scope.label}", scope)) for scope in Scope}
    refusals = 0
    for route in sorted(routes, key=lambda r: (r.path, r.method)):
        scope = required_scope(route)
        if scope is None:
            status = _call(client, route).status_code
            assert status not in (401, 403), (route, status)
            assert status < 500 or route.path == "/api/v1/health", (route, status)
            continue
        assert _call(client, route).status_code == 401, route
        assert _call(client, route, bearer("ioc_not-a-key")).status_code == 401, route
        refusals += 2
        for lower in lower_scopes(scope):
            assert _call(client, route, keys[lower]).status_code == 403, (route, lower)
            refusals += 1
        allowed = _call(client, route, keys[scope]).status_code
        assert allowed not in (401, 403), (route, allowed)
        assert allowed < 500, (route, allowed)
    protected = sum(1 for r in routes if required_scope(r) is not None)
    scenario.load = f"{len(routes)} HTTP routes ({protected} protected), {len(WEBSOCKETS)} websockets"
    scenario.measure("refusals checked", refusals)
    scenario.measure("public routes", len(routes) - protected)


def _call(client: httpx.Client, route: HttpRoute, headers: dict[str, str] | None = None) -> httpx.Response:
    return client.request(route.method, route.url(), headers=headers)


# Each filter: its route, the other parameters it needs, and what its values may look like (None:
# one of a closed list, so no metacharacter is ever a valid value).
FILTERS: list[tuple[str, dict[str, str], str, str | None]] = [
    ("/api/v1/events/payments", {}, "area", r"[0-9A-Za-z._-]{1,32}"),
    ("/api/v1/events/payments", {}, "publisher", r"[a-z0-9][a-z0-9-]{0,63}"),
    ("/api/v1/events/payments", {}, "from", None),
    ("/api/v1/events/payments", {}, "to", None),
    ("/api/v1/events/payments", {}, "limit", None),
    ("/api/v1/events/payments", {}, "cursor", None),
    ("/api/v1/kpis/current", {}, "kpi", None),
    ("/api/v1/kpis/current", {}, "area", r"[0-9A-Za-z._-]{1,32}"),
    ("/api/v1/kpis/current", {}, "window", None),
    ("/api/v1/kpis/history", {"kpi": "payments.tx_count", "area": "67"}, "kpi", None),
    ("/api/v1/kpis/history", {"kpi": "payments.tx_count"}, "area", r"[0-9A-Za-z._-]{1,32}"),
    ("/api/v1/kpis/history", {"kpi": "payments.tx_count", "area": "67"}, "window", None),
    ("/api/v1/kpis/history", {"kpi": "payments.tx_count", "area": "67"}, "bucket", None),
    ("/api/v1/kpis/history", {"kpi": "payments.tx_count", "area": "67"}, "from", None),
    ("/api/v1/dead-letters", {}, "reason", None),
    ("/api/v1/dead-letters", {}, "publisher", r"[a-z0-9][a-z0-9-]{0,63}"),
    ("/api/v1/dead-letters", {}, "include_resolved", None),
    ("/api/v1/dead-letters", {}, "before_id", None),
    ("/api/v1/alerts", {}, "state", None),
    ("/api/v1/publishers/nobody/gaps", {}, "hours", None),
]
BASE_VALUES = {
    "area": "67", "publisher": "pub-1", "kpi": "payments.tx_count", "reason": "not_json", "state": "open",
    "window": "5m", "bucket": "1h", "from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z",
    "limit": "10", "cursor": "MjAyNQ==", "include_resolved": "true", "before_id": "10", "hours": "24",
}  # fmt: skip
METACHARACTERS = [
    "'",
    '"',
    ";",
    "--",
    "/*",
    "*/",
    "\\",
    "%",
    "_",
    "\x00",
    ")",
    "$$",
    "' OR '1'='1",
    "1; DROP TABLE areas; --",
]


def test_sql_metacharacters_in_every_filter_are_refused_with_400(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]], scenario: ScenarioResult
) -> None:
    key = bearer(ApiKeyRepository(db).create("meta", Scope.READ))
    scenario.scenario = "Security: SQL metacharacters in every filter parameter are refused with 400, never 500"
    scenario.load = f"{len(FILTERS)} filters × {2 * len(METACHARACTERS)} values (no route has a sort parameter)"
    refused = admitted = 0
    for path, others, name, grammar in FILTERS:
        for meta in METACHARACTERS:
            for value in (BASE_VALUES[name] + meta, meta):
                answer = client.get(path, params={**others, name: value}, headers=key)
                if grammar is not None and re.fullmatch(grammar, value):
                    # A character the parameter's grammar admits (an area code may hold '_' and '-'): plain data,
                    # and for an area, a code looked up in the areas table, which holds none such (400 by name).
                    if name == "area":
                        assert (answer.status_code, answer.json()["error"]["message"]) == (
                            400, f"no area {value!r} in the areas table (GET /api/v1/areas lists them)"
                        ), path  # fmt: skip
                    else:
                        assert answer.status_code == 200, (path, name, value, answer.text)
                    admitted += 1
                    continue
                assert answer.status_code == 400, (path, name, value, answer.status_code, answer.text)
                assert answer.json()["error"]["code"] == "invalid_request"
                refused += 1
    scenario.measure("refused with 400", refused)
    scenario.measure("valid by the parameter's grammar, answered as data", admitted)
    scenario.measure("5xx", 0)


def test_websockets_check_origin_and_take_each_ticket_once_before_it_expires(
    client: httpx.Client,
    db: psycopg.Connection[tuple[object, ...]],
    redis_url: str,
    scenario: ScenarioResult,
    profile: VerifyProfile,
) -> None:
    key = ApiKeyRepository(db).create("ws-security", Scope.READ)
    store = redis.Redis.from_url(redis_url)
    real_wait = profile.full
    scenario.scenario = "Security: websockets refuse foreign Origins, unknown, reused and expired tickets"
    scenario.load = f"{len(WEBSOCKETS)} websockets; expiry by " + (
        f"waiting {TICKET_SECONDS + 1} s" if real_wait else "Redis expiring the ticket at once"
    )
    refusals = 0
    for path in sorted(WEBSOCKETS):
        with pytest.raises(InvalidStatus) as foreign:
            open_socket(client, origin="https://evil.example", path=path)
        assert foreign.value.response.status_code == 403, path
        used = ticket(client, key)
        with open_socket(client, path=path) as ws:
            ws.send(json.dumps({"type": "auth", "ticket": used}))
            assert receive(ws)["type"] == "ready", path
        expired = ticket(client, key)
        ttls = [store.ttl(name) for name in store.scan_iter("ioc:ws:ticket:*")]
        assert ttls, "no ticket in Redis"
        assert all(0 < ttl <= TICKET_SECONDS for ttl in ttls), ttls
        if real_wait:
            time.sleep(TICKET_SECONDS + 1)
        else:
            for name in store.scan_iter("ioc:ws:ticket:*"):
                store.pexpire(name, 1)
            time.sleep(0.01)
        for attempt in (used, expired, "made-up", ""):
            assert _refused_ticket(client, path, attempt) == 4401, (path, attempt)
            refusals += 1
        refusals += 1
    scenario.measure("refusals checked", refusals)


def _refused_ticket(client: httpx.Client, path: str, attempt: str) -> int | None:
    with open_socket(client, path=path) as ws:
        ws.send(json.dumps({"type": "auth", "ticket": attempt}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    return None if closed.value.rcvd is None else closed.value.rcvd.code
