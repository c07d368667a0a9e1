"""An area missing from the areas table is a 400 on every route that names one, never an empty 200; targets
and alert rules are deleted by admins only, each deletion audited (real services)."""

from __future__ import annotations

import logging

import httpx
import psycopg
import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from tests.fixtures.api import bearer

pytestmark = pytest.mark.integration

# Well-formed (the contract's pattern), but in no areas table: a typo of a real code.
UNKNOWN = "24698"
NO_SUCH_AREA = f"no area '{UNKNOWN}' in the areas table (GET /api/v1/areas lists them)"


def _refused(answer: httpx.Response) -> tuple[int, str, str]:
    return answer.status_code, answer.json()["error"]["code"], answer.json()["error"]["message"]


def test_an_unknown_area_is_a_400_with_its_reason_everywhere(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    admin = bearer(ApiKeyRepository(db).create("ops-admin", Scope.ADMIN))
    reads = (
        f"/api/v1/kpis/current?area={UNKNOWN}",
        f"/api/v1/kpis/history?kpi=payments.cashless_share&area={UNKNOWN}",
        f"/api/v1/events/payments?area={UNKNOWN}",
        f"/api/v1/events/coverage?area={UNKNOWN}",
    )
    for path in reads:
        assert _refused(client.get(path, headers=admin)) == (400, "invalid_request", NO_SUCH_AREA), path
    # A known one still answers, with nothing in it yet.
    assert client.get("/api/v1/kpis/current?area=24611", headers=admin).status_code == 200
    assert client.get("/api/v1/events/payments?area=24611", headers=admin).json()["events"] == []

    rule = {"id": "cash-commune", "kpi": "payments.cashless_share", "window": "5m", "below": 50}
    created = client.post("/api/v1/alert-rules", json={**rule, "areas": ["24611", UNKNOWN]}, headers=admin)
    assert _refused(created) == (400, "invalid_request", NO_SUCH_AREA)
    assert client.post("/api/v1/alert-rules", json={**rule, "areas": ["24611"]}, headers=admin).status_code == 201
    updated = client.put("/api/v1/alert-rules/cash-commune", json={**rule, "areas": [UNKNOWN]}, headers=admin)
    assert _refused(updated) == (400, "invalid_request", NO_SUCH_AREA)
    stored = db.execute("SELECT definition -> 'areas' FROM alert_rules WHERE id = 'cash-commune'").fetchone()
    assert stored == (["24611"],)  # nothing of the refused ones kept


def test_admins_delete_targets_and_rules_audited_others_may_not(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]], caplog: pytest.LogCaptureFixture
) -> None:
    keys = ApiKeyRepository(db)
    admin = bearer(keys.create("ops-admin", Scope.ADMIN))
    operator = bearer(keys.create("on-call", Scope.OPERATE))
    target = {"kpi": "payments.cashless_share", "value": 65, "direction": "at_least", "deadline": "2026-12-31"}
    target_id = client.post("/api/v1/targets", json=target, headers=admin).json()["id"]
    rule = {"id": "cash-heavy", "kpi": "payments.cashless_share", "window": "5m", "levels": ["province"], "below": 50}
    assert client.post("/api/v1/alert-rules", json=rule, headers=admin).status_code == 201

    for path in (f"/api/v1/targets/{target_id}", "/api/v1/alert-rules/cash-heavy"):
        assert _refused(client.delete(path, headers=operator))[:2] == (403, "forbidden")
        assert client.delete(path).status_code == 401
    assert db.execute("SELECT count(*) FROM kpi_targets WHERE id = %s", (target_id,)).fetchone() == (1,)

    with caplog.at_level(logging.INFO, logger="ioc.audit"):
        gone = client.delete(f"/api/v1/targets/{target_id}", headers=admin)
        assert (gone.status_code, gone.content) == (204, b"")
        assert client.delete("/api/v1/alert-rules/cash-heavy", headers=admin).status_code == 204
    audited = [r.getMessage() for r in caplog.records if r.name == "ioc.audit"]
    assert audited == [
        f'target {target_id} deleted by API key ops-admin: {{"kpi":"payments.cashless_share","value":65.0,'
        '"direction":"at_least","deadline":"2026-12-31","source":""}',
        'alert rule cash-heavy deleted by API key ops-admin: {"id": "cash-heavy", "kpi": "payments.cashless_share",'
        ' "window": "5m", "levels": ["province"], "below": 50.0}',
    ]
    assert db.execute("SELECT count(*) FROM kpi_targets WHERE id = %s", (target_id,)).fetchone() == (0,)
    assert "cash-heavy" not in [r["id"] for r in client.get("/api/v1/alert-rules", headers=admin).json()]

    assert _refused(client.delete(f"/api/v1/targets/{target_id}", headers=admin)) == (
        404, "not_found", f"no target with id {target_id}"
    )  # fmt: skip
    assert _refused(client.delete("/api/v1/alert-rules/cash-heavy", headers=admin)) == (
        404, "not_found", "no alert rule with id cash-heavy"
    )  # fmt: skip
    assert _refused(client.delete("/api/v1/targets/not-a-number", headers=admin))[:2] == (400, "invalid_request")
