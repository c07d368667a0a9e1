"""The console's dead-letter tools through the API: filters (reason, publisher, time), the payload shown
safely, the preview count and the bulk replay (admin, audited, bounded), the CSV export; hostile filters
are refused with 400 and a reason."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.settings import Settings
from tests import factories
from tests.api.dead_letter_rows import add_dead_letter
from tests.fixtures.api import bearer, serve_api

pytestmark = pytest.mark.integration
TOPIC = "ioc/v1/payments/counter-9/transaction"


def test_payloads_are_shown_as_escaped_text_or_hex_and_only_their_first_64_kib(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    reader = bearer(ApiKeyRepository(db).create("night-shift", Scope.READ))
    now = datetime.now(UTC)
    script = b'{"note": "<script>alert(1)</script>"}'
    binary = bytes(range(256))
    large = b"a" * (200 * 1024)
    ids = [add_dead_letter(db, at=now, topic=TOPIC, payload=p) for p in (script, binary, large)]
    answers = [client.get(f"/api/v1/dead-letters/{i}/payload", headers=reader).json() for i in ids]
    assert answers[0] == {
        "id": ids[0], "payload_bytes": len(script), "shown_bytes": len(script), "truncated": False,
        "encoding": "utf-8", "content": '{"note": "<script>alert(1)</script>"}',
    }  # fmt: skip
    assert (answers[1]["encoding"], answers[1]["truncated"]) == ("hex", False)
    rows = answers[1]["content"].split("\n")
    assert (len(rows), rows[0], rows[4]) == (
        16,
        "00000000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f  |................|",
        "00000040  40 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f  |@ABCDEFGHIJKLMNO|",
    )
    assert (answers[2]["payload_bytes"], answers[2]["shown_bytes"], answers[2]["truncated"]) == (204800, 65536, True)
    assert answers[2]["content"] == "a" * 65536
    missing = client.get("/api/v1/dead-letters/999999/payload", headers=reader)
    assert (missing.status_code, missing.json()["error"]["message"]) == (404, "dead letter 999999 does not exist")
    assert client.get("/api/v1/dead-letters/0/payload", headers=reader).status_code == 400


def test_filters_count_export_and_refuse_hostile_values(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    reader = bearer(ApiKeyRepository(db).create("night-shift", Scope.READ))
    now = datetime.now(UTC).replace(microsecond=0)
    old = add_dead_letter(db, at=now - timedelta(hours=3), topic=TOPIC, payload=b"{}", publisher="counter-9")
    formula = add_dead_letter(
        db, at=now - timedelta(minutes=5), topic="=HYPERLINK(\"http://x\")", payload=b"x", reason="topic_invalid",
        detail='+cmd|" /C calc"!A0, "quoted"\nsecond line',
    )  # fmt: skip
    recent = add_dead_letter(db, at=now - timedelta(minutes=1), topic=TOPIC, payload=b"{}", publisher="counter-9")

    def count(**params: str) -> dict[str, int]:
        answer = client.get("/api/v1/dead-letters/count", params=params, headers=reader)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    assert count() == {"matching": 3, "open": 3}
    assert count(reason="unknown_publisher") == {"matching": 2, "open": 2}
    assert count(publisher="counter-9", since=(now - timedelta(hours=1)).isoformat()) == {"matching": 1, "open": 1}
    assert count(until=(now - timedelta(hours=1)).isoformat()) == {"matching": 1, "open": 1}
    listed = client.get(
        "/api/v1/dead-letters", params={"since": (now - timedelta(hours=1)).isoformat()}, headers=reader
    )
    assert [d["id"] for d in listed.json()] == [recent, formula]

    hostile = {
        "reason=bogus": "reason: Input should be",
        "publisher=x' OR 1=1 --": "publisher: String should match pattern",
        "since=yesterday": "since: Value error, must be an RFC 3339 date-time",
        "since=2026-12-01T00:00:00": "since: give the time with its UTC offset (such as +07:00 or Z)",
        "since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z": "until: must be after since",
        "reason=unknown_publisher;DROP TABLE dead_letters": "reason: Input should be",
    }
    for query, message in hostile.items():
        for path in ("/api/v1/dead-letters", "/api/v1/dead-letters/count", "/api/v1/dead-letters/export.csv"):
            refused = client.get(f"{path}?{query}", headers=reader)
            assert refused.status_code == 400, (path, query)
            assert refused.json()["error"]["message"].startswith(message), (path, refused.json())
    assert count() == {"matching": 3, "open": 3}  # nothing dropped

    exported = client.get("/api/v1/dead-letters/export.csv", headers=reader)
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.headers["content-disposition"].startswith('attachment; filename="dead-letters-')
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["id", "received_at", "topic", "publisher_id", "reason", "detail", "payload_bytes",
                       "resolved_at", "last_replay_at", "last_replay_outcome"]  # fmt: skip
    assert [r[0] for r in rows[1:]] == [str(recent), str(formula), str(old)]
    assert rows[2][2:7] == [
        '\'=HYPERLINK("http://x")',
        "",
        "topic_invalid",
        '\'+cmd|" /C calc"!A0, "quoted"\nsecond line',
        "1",
    ]
    assert rows[1][1] == (now - timedelta(minutes=1)).isoformat()
    only = client.get("/api/v1/dead-letters/export.csv", params={"reason": "topic_invalid"}, headers=reader)
    assert [r[0] for r in list(csv.reader(io.StringIO(only.text)))[1:]] == [str(formula)]


def test_a_bulk_replay_needs_admin_and_the_count_shown_and_is_audited_and_bounded(
    api_config: Settings, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    keys = ApiKeyRepository(db)
    operator, admin = bearer(keys.create("night-shift", Scope.OPERATE)), bearer(keys.create("ops-lead", Scope.ADMIN))
    now = datetime.now(UTC)
    # Refused because counter-9 was not registered; now it is, so a replay stores them.
    ids = [
        add_dead_letter(db, at=now - timedelta(minutes=m), topic=TOPIC, publisher="counter-9",
                        payload=factories.encode(factories.transaction(area_code="24611", amount_vnd=1000 * m)))
        for m in (1, 2, 3)
    ]  # fmt: skip
    other = add_dead_letter(db, at=now, topic=TOPIC, payload=b"not json", reason="not_json", publisher="counter-9")
    db.execute("INSERT INTO publishers (id, source, area_code) VALUES ('counter-9', 'payments', '24611')")
    body = {"reason": "unknown_publisher", "publisher": "counter-9"}
    with serve_api(api_config.model_copy(update={"api_bulk_replay_max": 3})) as client:
        assert (
            client.post("/api/v1/dead-letters/replay", json=body | {"expected": 3}, headers=operator).status_code == 403
        )
        stale = client.post("/api/v1/dead-letters/replay", json=body | {"expected": 2}, headers=admin)
        assert (stale.status_code, stale.json()["error"]["message"]) == (
            409, "3 open dead letters match this filter now, not 2: count again"
        )  # fmt: skip
        too_many = client.post("/api/v1/dead-letters/replay", json={"expected": 4}, headers=admin)
        assert (too_many.status_code, too_many.json()["error"]["message"]) == (
            400, "the filter matches more than 3 open dead letters: narrow it (reason, publisher, time)"
        )  # fmt: skip
        bad = client.post("/api/v1/dead-letters/replay", json=body | {"since": "now", "expected": 3}, headers=admin)
        assert bad.status_code == 400
        done = client.post("/api/v1/dead-letters/replay", json=body | {"expected": 3}, headers=admin)
        assert done.status_code == 200, done.text
        assert {k: v for k, v in done.json().items() if k != "audit_id"} == {
            "matched": 3, "stored": 3, "duplicate": 0, "rejected": 0, "already_resolved": 0
        }  # fmt: skip
        left = client.get("/api/v1/dead-letters/count", params=body, headers=operator).json()
        assert left == {"matching": 0, "open": 0}
    audit = db.execute(
        "SELECT id, actor, filter, matched, stored, rejected, finished_at IS NOT NULL FROM dead_letter_bulk_replays"
    ).fetchall()
    recorded = body | {"since": None, "until": None, "include_resolved": False}
    assert audit == [(done.json()["audit_id"], "ops-lead", recorded, 3, 3, 0, True)]
    resolved = db.execute("SELECT id FROM dead_letters WHERE resolved_at IS NOT NULL ORDER BY id").fetchall()
    assert [r[0] for r in resolved] == sorted(ids)
    assert db.execute("SELECT resolved_at FROM dead_letters WHERE id = %s", (other,)).fetchone() == (None,)
