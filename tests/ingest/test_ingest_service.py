"""The ingest service against the real broker and database: stored once, or dead-lettered with its reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from tests.fixtures.ingest import Publisher, RunningIngest, count_rows, wait_for
from tests.fixtures.stack import IsolatedDatabase

pytestmark = pytest.mark.integration


def test_each_event_type_is_stored_once_with_its_values(
    database: IsolatedDatabase,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    start_ingest()
    portal = register_publisher("portal", "24611")
    payments = register_publisher("payments", "663")  # a district: its communes and villages too
    coverage = register_publisher("coverage", "24667-01")
    at = (datetime.now(UTC) - timedelta(days=17)).replace(microsecond=0)
    d = factories.dossier(area_code="24611", seq=7, at=at, status="resolved", paid_online=False)
    t = factories.transaction(area_code="663", at=at, sector="water", method="cash", amount_vnd=1_000_000_000_000)
    s = factories.sample(area_code="24667-01", at=at, rsrp_dbm=-101.5, lat=12.45, lon=107.6)
    st = factories.status("offline", at=at)
    portal.client.publish(portal.topic("dossier"), factories.encode(d))
    payments.client.publish(payments.topic("transaction"), factories.encode(t))
    coverage.client.publish(coverage.topic("sample"), factories.encode(s))
    coverage.client.publish(coverage.topic("status"), factories.encode(st))

    tables = ("portal_dossier_events", "payment_transactions", "coverage_samples", "publisher_status")
    assert wait_for(lambda: all(count_rows(database, t) == 1 for t in tables))
    with database.connect() as conn:
        assert conn.execute(
            "SELECT event_id::text, publisher_id, area_code, seq, status, channel, e_certified, paid_online,"
            " occurred_at FROM portal_dossier_events"
        ).fetchall() == [(d["event_id"], portal.id, "24611", 7, "resolved", "online", True, False, at)]
        assert conn.execute(
            "SELECT event_id::text, publisher_id, area_code, sector, method, amount_vnd, outcome"
            " FROM payment_transactions"
        ).fetchall() == [(t["event_id"], payments.id, "663", "water", "cash", 1_000_000_000_000, "succeeded")]
        assert conn.execute(
            "SELECT publisher_id, area_code, download_mbps, rsrp_dbm, village, lat, lon FROM coverage_samples"
        ).fetchall() == [(coverage.id, "24667-01", 18.5, -101.5, "Bon Bu Prăng", 12.45, 107.6)]
        assert conn.execute("SELECT publisher_id, state, at FROM publisher_status").fetchall() == [
            (coverage.id, "offline", at)
        ]
        assert conn.execute("SELECT count(*) FROM dead_letters").fetchone() == (0,)


def test_the_same_event_sent_three_times_is_stored_once(
    database: IsolatedDatabase,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    ingest = start_ingest()
    payments = register_publisher("payments")
    body = factories.encode(factories.transaction())
    for _ in range(3):
        payments.client.publish(payments.topic("transaction"), body)
    other = factories.encode(factories.transaction())
    payments.client.publish(payments.topic("transaction"), other)
    assert wait_for(lambda: ingest.service.metrics.received._value.get() == 4)
    assert wait_for(lambda: count_rows(database, "payment_transactions") == 2)
    metrics = ingest.service.metrics
    assert wait_for(lambda: metrics.duplicates.labels("transaction")._value.get() == 2)
    assert metrics.stored.labels("transaction")._value.get() == 2


def _bad_inputs(publisher_id: str, source: str) -> list[tuple[str, str, bytes]]:
    """(reason, topic, payload) for every class of invalid input the broker lets through."""
    t = f"ioc/v1/{source}/{publisher_id}/transaction"
    good = factories.transaction()
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    return [
        ("topic_invalid", f"ioc/v1/{source}/{publisher_id}/dossier", factories.encode(factories.dossier())),
        ("topic_invalid", f"ioc/v1/{source}/{publisher_id}/transaction/extra", factories.encode(good)),
        ("too_large", t, factories.encode(good | {"pad": "x" * 70_000})),
        ("not_utf8", t, b'{"event_id": "\xff\xfe"}'),
        ("nul_character", t, factories.encode(good | {"sector": "health\u0000"})),
        ("not_json", t, b'{"event_id": '),
        (
            "non_finite_number",
            t,
            factories.encode(good).replace(b'"amount_vnd": 250000', b'"amount_vnd": NaN'),
        ),
        ("too_deep", t, b'{"a": ' + b"[" * 20 + b"]" * 20 + b"}"),
        ("not_object", t, b'["a", "b"]'),
        ("unknown_field", t, factories.encode(good | {"note": "x"})),
        (
            "missing_field",
            t,
            factories.encode({k: v for k, v in factories.transaction().items() if k != "sector"}),
        ),
        ("invalid_value", t, factories.encode(factories.transaction(amount_vnd="250000"))),
        ("invalid_value", t, factories.encode(factories.transaction(method="CASH"))),
        ("unknown_area", t, factories.encode(factories.transaction(area_code="99999"))),
        ("future_event", t, factories.encode(factories.transaction() | {"occurred_at": future})),
    ]


def test_every_class_of_invalid_input_is_dead_lettered_with_its_reason(
    database: IsolatedDatabase,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    ingest = start_ingest()
    payments = register_publisher("payments")
    bad = _bad_inputs(payments.id, "payments")
    for _, topic, payload in bad:
        payments.client.publish(topic, payload)
    valid = factories.transaction()
    payments.client.publish(payments.topic("transaction"), factories.encode(valid))

    assert wait_for(lambda: count_rows(database, "dead_letters") == len(bad))
    assert wait_for(lambda: count_rows(database, "payment_transactions") == 1)
    with database.connect() as conn:
        rows = conn.execute("SELECT reason, topic, publisher_id, payload FROM dead_letters ORDER BY id").fetchall()
    assert sorted((r[0], r[1], bytes(r[3])) for r in rows) == sorted(bad)
    assert {r[2] for r in rows} == {payments.id}
    assert ingest.service.health().status == "ok"


def test_registry_problems_are_dead_lettered(
    stack: object,
    database: IsolatedDatabase,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    start_ingest()
    portal = register_publisher("portal")
    wrong_source = register_publisher("payments")
    disabled = register_publisher("payments")
    with database.connect() as conn:
        conn.execute("UPDATE publishers SET disabled_at = now() WHERE id = %s", (disabled.id,))
        conn.execute("DELETE FROM publishers WHERE id = %s", (portal.id,))  # broker account kept: unregistered
        # The broker lets it write its payments topics; the registry now says otherwise.
        conn.execute("UPDATE publishers SET source = 'coverage' WHERE id = %s", (wrong_source.id,))
    wrong_source.client.publish(wrong_source.topic("transaction"), factories.encode(factories.transaction()))
    disabled.client.publish(disabled.topic("transaction"), factories.encode(factories.transaction()))
    portal.client.publish(portal.topic("dossier"), factories.encode(factories.dossier()))
    assert wait_for(lambda: count_rows(database, "dead_letters") == 3)
    with database.connect() as conn:
        reasons = dict(conn.execute("SELECT publisher_id, reason FROM dead_letters").fetchall())
    assert reasons == {
        wrong_source.id: "source_mismatch",
        disabled.id: "publisher_disabled",
        portal.id: "unknown_publisher",
    }


def test_a_publisher_added_while_running_is_accepted_at_once(
    database: IsolatedDatabase,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    ingest = start_ingest(ingest_registry_refresh_seconds=3600)
    first = register_publisher("payments")
    first.client.publish(first.topic("transaction"), factories.encode(factories.transaction()))
    assert wait_for(lambda: count_rows(database, "payment_transactions") == 1)
    late = register_publisher("payments")  # the registry snapshot is older than this publisher
    late.client.publish(late.topic("transaction"), factories.encode(factories.transaction()))
    assert wait_for(lambda: count_rows(database, "payment_transactions") == 2)
    assert count_rows(database, "dead_letters") == 0
    assert ingest.service.health().status == "ok"


def test_poison_messages_mixed_into_a_stream(
    database: IsolatedDatabase,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    """1 % poison: every poison message dead-lettered, every valid neighbour stored."""
    start_ingest()
    payments = register_publisher("payments")
    valid = poison = 0
    for i in range(3000):
        if i % 100 == 50:
            body = factories.encode(factories.transaction(amount_vnd=0, seq=i))  # out of range
            poison += 1
        else:
            body = factories.encode(factories.transaction(seq=i))
            valid += 1
        payments.client.client.publish(payments.topic("transaction"), body, qos=1)
    assert wait_for(lambda: count_rows(database, "payment_transactions") == valid, timeout=60)
    assert wait_for(lambda: count_rows(database, "dead_letters") == poison)
    with database.connect() as conn:
        assert conn.execute("SELECT DISTINCT reason FROM dead_letters").fetchall() == [("invalid_value",)]
        stored_seqs = {s for (s,) in conn.execute("SELECT seq FROM payment_transactions").fetchall()}
    assert stored_seqs == {i for i in range(3000) if i % 100 != 50}


def test_an_empty_message_deletes_a_retained_one_and_is_neither_stored_nor_a_dead_letter(
    database: IsolatedDatabase,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    """MQTT's way to delete a retained message (the sweeper's, or a publisher clearing its status): an empty
    message reaches every subscriber. It carries no event and is no mistake."""
    ingest = start_ingest()
    desk = register_publisher("portal")
    for topic in (desk.topic("status"), desk.topic("dossier"), f"{desk.topic('dossier')}/x"):
        desk.client.client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
    desk.client.publish(desk.topic("dossier"), factories.encode(factories.dossier()))
    assert wait_for(lambda: count_rows(database, "portal_dossier_events") == 1)
    metrics = ingest.service.metrics
    assert wait_for(lambda: metrics.acknowledged._value.get() == 4)
    assert metrics.empty_messages._value.get() == 3
    assert count_rows(database, "dead_letters") == 0
