"""Raw events through the API: filters and keyset pages, newest first (real database)."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from streams.records import MICROS, PaymentRecord, from_micros
from tests.fixtures.api import bearer
from tests.streams.kpi_data import NOW_US
from tests.streams.test_kpi_sql_equivalence import store

pytestmark = pytest.mark.integration


def test_pages_walk_back_through_the_events_and_filters_apply(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    store(db, [
        PaymentRecord("counter-1" if n % 2 else "counter-2", "24611" if n < 4 else "24615",
                      NOW_US - n * 60 * MICROS, n, "water", "qr", 1000 + n, "succeeded")
        for n in range(6)
    ])  # fmt: skip
    key = bearer(ApiKeyRepository(db).create("analyst", Scope.READ))
    window = {"from": from_micros(NOW_US - 3600 * MICROS).isoformat(), "to": from_micros(NOW_US + MICROS).isoformat()}
    amounts, cursor, pages = [], None, 0
    while True:
        params = window | {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/events/payments", params=params, headers=key).json()
        amounts += [e["amount_vnd"] for e in page["events"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert amounts == [1000, 1001, 1002, 1003, 1004, 1005]  # newest first, each once
    assert pages == 4  # the third full page leads to an empty fourth
    only = client.get(
        "/api/v1/events/payments", params=window | {"area": "24611", "publisher": "counter-1"}, headers=key
    ).json()
    assert [(e["seq"], e["publisher_id"], e["area_code"]) for e in only["events"]] == [
        (1, "counter-1", "24611"),
        (3, "counter-1", "24611"),
    ]
    assert client.get("/api/v1/events/coverage", params=window, headers=key).json() == {
        "events": [],
        "next_cursor": None,
    }
    for path, params, message in (
        ("/api/v1/events/payments", {"cursor": "not-a-cursor"}, "cursor is not one this API gave out"),
        ("/api/v1/events/payments", {"from": "2026-11-26T00:00:00"}, "'from' needs a time zone offset (RFC 3339)"),
    ):
        refused = client.get(path, params=params, headers=key)
        assert (refused.status_code, refused.json()["error"]["message"]) == (400, message)
    unknown = client.get("/api/v1/events/weather", headers=key)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "invalid_request")
