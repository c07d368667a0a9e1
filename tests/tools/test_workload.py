"""The benchmarks' stream: every line a valid event of its publisher's type in the contract's shape,
the same stream for the same seed, and a time placeholder the feeders can stamp (pure, no services)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from ingest.contract import EVENT_MODELS, EventType, decode
from tools.bench.workload import BenchPublisher, EventFactory, bench_publishers, stamp_now, templates

AREAS = ["24611", "24615", "24615-01"]


def test_every_line_is_accepted_in_the_models_field_order_and_the_same_for_the_same_seed() -> None:
    publishers = bench_publishers(3, prefix="b")
    assert [p.event_type for p in publishers] == ["transaction", "sample", "dossier"]
    lines = {p.id: templates(EventFactory(AREAS, seed=4), p, 300) for p in publishers}
    assert lines == {p.id: templates(EventFactory(AREAS, seed=4), p, 300) for p in publishers}
    stamp = stamp_now()
    now = datetime.now(UTC) + timedelta(seconds=1)
    for p in publishers:
        model = EVENT_MODELS[EventType(p.event_type)]
        for seq, line in enumerate(lines[p.id], start=1):
            payload = line.render(stamp)
            decoded = decode(p.topic, payload, now=now, max_future_skew=timedelta(minutes=5)).event
            assert type(decoded) is model
            body = json.loads(payload)
            assert list(body) == [name for name in model.model_fields if name in body]
            assert (body["seq"], body["occurred_at"].encode(), body["area_code"] in AREAS) == (seq, stamp, True)


def test_the_mix_keeps_its_shares_and_its_optional_fields() -> None:
    factory = EventFactory(AREAS, seed=9)
    t = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    payments = [json.loads(factory.payload(BenchPublisher("p", "payments", "transaction"), i, t)) for i in range(2000)]
    samples = [json.loads(factory.payload(BenchPublisher("c", "coverage", "sample"), i, t)) for i in range(200)]
    dossiers = [json.loads(factory.payload(BenchPublisher("d", "portal", "dossier"), i, t)) for i in range(200)]
    failed = sum(p["outcome"] == "failed" for p in payments) / len(payments)
    assert 0.01 < failed < 0.05  # 3 % of payments fail; none is refunded
    assert {p["outcome"] for p in payments} == {"succeeded", "failed"}
    assert all(-125 <= s["rsrp_dbm"] <= -70 for s in samples)
    assert all(d["dossier_id"] == f"H20.67-{i:09d}" and "due_at" in d for i, d in enumerate(dossiers))
