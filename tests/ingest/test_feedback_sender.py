"""Feedback to publishers (pure): one message per dead letter, bounded per publisher, dropped and counted beyond."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ingest.records import DeadLetter
from ingest.service.feedback import FeedbackSender
from ingest.service.metrics import IngestMetrics

AT = datetime(2026, 1, 31, 1, 30, tzinfo=UTC)


def _letter(publisher: str | None, payload: bytes = b"{}", reason: str = "not_json") -> DeadLetter:
    topic = f"ioc/v1/payments/{publisher}/transaction" if publisher else "weird/topic"
    return DeadLetter(AT, topic, publisher, reason, "what was wrong", payload)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_message_per_dead_letter_on_the_publishers_own_topic() -> None:
    sent: list[tuple[str, bytes]] = []
    metrics = IngestMetrics()
    sender = FeedbackSender(lambda topic, body: sent.append((topic, body)) is None, metrics, 20)
    payload = b'{"event_id": "8b6f2c1e-4a3d-4f7b-8e29-5d1c0a9b7e42", "amount_vnd": 0}'

    sender.send([_letter("counter-1", payload, "invalid_value"), _letter(None), _letter("counter-2", b"\xff")])

    assert [topic for topic, _ in sent] == ["ioc/feedback/v1/counter-1", "ioc/feedback/v1/counter-2"]
    assert json.loads(sent[0][1]) == {
        "event_id": "8b6f2c1e-4a3d-4f7b-8e29-5d1c0a9b7e42",
        "reason": "invalid_value",
        "detail": "what was wrong",
        "topic": "ioc/v1/payments/counter-1/transaction",
        "received_at": "2026-01-31T01:30:00Z",
    }
    assert json.loads(sent[1][1])["event_id"] is None
    assert metrics.registry.get_sample_value("ioc_ingest_feedback_sent_total") == 2


def test_a_sprayer_gets_its_rate_and_its_neighbour_is_not_starved() -> None:
    sent: list[str] = []
    clock = Clock()
    metrics = IngestMetrics()
    sender = FeedbackSender(lambda topic, body: sent.append(topic) is None, metrics, 5, clock)

    sender.send([_letter("sprayer")] * 100 + [_letter("neighbour")])
    clock.now += 1.0
    sender.send([_letter("sprayer")] * 100)

    assert (sent.count("ioc/feedback/v1/sprayer"), sent.count("ioc/feedback/v1/neighbour")) == (10, 1)
    assert metrics.registry.get_sample_value("ioc_ingest_feedback_dropped_total", {"why": "rate"}) == 190


def test_a_full_queue_drops_and_counts_instead_of_waiting() -> None:
    metrics = IngestMetrics()
    sender = FeedbackSender(lambda topic, body: False, metrics, 20)

    sender.send([_letter("counter-1")] * 3)

    assert metrics.registry.get_sample_value("ioc_ingest_feedback_dropped_total", {"why": "queue"}) == 3


def test_rate_zero_turns_feedback_off() -> None:
    sent: list[str] = []
    FeedbackSender(lambda topic, body: sent.append(topic) is None, IngestMetrics(), 0).send([_letter("c")])

    assert sent == []
