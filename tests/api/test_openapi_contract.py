"""Every REST route against its own OpenAPI document, with generated requests (schemathesis, real services).

With an admin key, so that generated requests reach past authentication (scopes have their own
tests): whatever the input, never a 5xx, only documented status codes and content types, and bodies
that match the response schemas.
"""

from __future__ import annotations

import httpx
import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.http.app import create_app
from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.settings import Settings
from tests.fixtures.api import bearer

pytestmark = pytest.mark.integration
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def admin(db: psycopg.Connection[tuple[object, ...]]) -> dict[str, str]:
    return bearer(ApiKeyRepository(db).create("contract-admin", Scope.ADMIN))


# The document as the app builds it (building the app connects to nothing); served by a real
# uvicorn per operation below, against the test's own database.
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_route_keeps_its_contract(case: schemathesis.Case, client: httpx.Client, admin: dict[str, str]) -> None:
    # Health answers 503 by design while a dependency is degraded (no engine runs here): documented,
    # so it is held to its schema and status codes like every other answer.
    checks = CHECKS[1:] if case.operation.label == "GET /api/v1/health" else CHECKS
    case.call_and_validate(base_url=str(client.base_url), headers=admin, checks=checks)


def test_framework_refusals_and_unstorable_values_are_errors_of_the_api(
    client: httpx.Client, admin: dict[str, str]
) -> None:
    not_json = client.post("/api/v1/targets", content=b"{nope", headers=admin | {"content-type": "application/json"})
    assert (not_json.status_code, not_json.json()["error"]["code"]) == (400, "invalid_request")
    assert client.get("/api/v1/nothing-here", headers=admin).json() == {
        "error": {"code": "not_found", "message": "Not Found"}
    }
    assert client.delete("/api/v1/areas", headers=admin).json()["error"]["code"] == "method_not_allowed"
    nul_filter = client.get("/api/v1/events/payments", params={"area": "24611\x00"}, headers=admin)
    assert (nul_filter.status_code, nul_filter.json()["error"]["code"]) == (400, "invalid_request")  # not an area code
    nul = client.post(
        "/api/v1/publishers",
        json={"id": "nul-text", "source": "payments", "area_code": "24611", "description": "a\x00b"},
        headers=admin,
    )
    assert (nul.status_code, nul.json()["error"]) == (
        400,
        {"code": "invalid_request", "message": "a value in the request cannot be used: DataError"},
    )
