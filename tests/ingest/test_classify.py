"""Classification against the registry snapshot, and when the snapshot is reloaded (pure logic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ingest.records import AcceptedEvent, DeadLetter, RawMessage
from ingest.registry.snapshot import PublisherEntry, RegistryCache, RegistrySnapshot
from ingest.service.classify import MessageClassifier
from tests import factories

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _raw(topic: str, body: dict[str, object]) -> RawMessage:
    return RawMessage(topic, factories.encode(body), 1, 1, NOW, 0.0, 1)


def _snapshot(publishers: dict[str, PublisherEntry]) -> RegistrySnapshot:
    return RegistrySnapshot(frozenset({"67", "24611"}), publishers)


def test_registry_is_reloaded_on_a_timer_and_at_most_once_per_batch_on_a_miss() -> None:
    clock = Clock()
    loads: list[float] = []
    current = {"pay-1": PublisherEntry("payments", disabled=False)}

    def load() -> RegistrySnapshot:
        loads.append(clock.now)
        return _snapshot(dict(current))

    cache = RegistryCache(load, clock, refresh_seconds=5.0)
    classifier = MessageClassifier(cache, timedelta(minutes=5), 65536)
    body = factories.transaction(at=NOW - timedelta(seconds=1))
    ok = classifier.classify_batch([_raw("ioc/v1/payments/pay-1/transaction", body)])
    assert [type(r) for r in ok] == [AcceptedEvent]
    assert loads == [0.0]

    clock.now = 1.0
    unknown = [_raw(f"ioc/v1/payments/pay-{i}/transaction", body) for i in (2, 3, 4)]
    results = classifier.classify_batch(unknown)
    assert [r.reason for r in results if isinstance(r, DeadLetter)] == ["unknown_publisher"] * 3
    assert loads == [0.0, 1.0]  # one reload for the whole batch, not one per message

    current["pay-2"] = PublisherEntry("payments", disabled=False)
    clock.now = 1.5
    (accepted,) = classifier.classify_batch([_raw("ioc/v1/payments/pay-2/transaction", body)])
    assert isinstance(accepted, AcceptedEvent)
    assert accepted.publisher_id == "pay-2"
    assert loads == [0.0, 1.0, 1.5]

    clock.now = 7.0  # timer: stale after 5 s even without a miss
    classifier.classify_batch([_raw("ioc/v1/payments/pay-1/transaction", body)])
    assert loads == [0.0, 1.0, 1.5, 7.0]


def test_a_malformed_topic_still_names_its_sender() -> None:
    cache = RegistryCache(lambda: _snapshot({}), Clock(), refresh_seconds=5.0)
    classifier = MessageClassifier(cache, timedelta(minutes=5), 65536)
    topics = ["ioc/v1/portal/pay-1/nope", "ioc/v1/x/pay-1/dossier/more", "ioc/v2/portal/pay-1/dossier", "a/b"]
    results = classifier.classify_batch([_raw(t, factories.dossier()) for t in topics])
    assert [(r.reason, r.publisher_id) for r in results if isinstance(r, DeadLetter)] == [
        ("topic_invalid", "pay-1"),
        ("topic_invalid", "pay-1"),
        ("topic_invalid", None),
        ("topic_invalid", None),
    ]
