"""Classification against the registry snapshot, and when the snapshot is reloaded (pure logic)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from ingest.contract import EventType
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
    return RegistrySnapshot({"67": None, "660": "67", "24611": "660"}, publishers)


def test_registry_is_reloaded_on_a_timer_and_at_most_once_per_batch_on_a_miss() -> None:
    clock = Clock()
    loads: list[float] = []
    current = {"pay-1": PublisherEntry("payments", disabled=False, area_code="67")}

    def load() -> RegistrySnapshot:
        loads.append(clock.now)
        return _snapshot(dict(current))

    cache = RegistryCache(load, clock, refresh_seconds=5.0)
    classifier = MessageClassifier(cache, factories.intake_rules())
    body = factories.transaction(at=NOW - timedelta(seconds=1))
    ok = classifier.classify_batch([_raw("ioc/v1/payments/pay-1/transaction", body)])
    assert [type(r) for r in ok] == [AcceptedEvent]
    assert loads == [0.0]

    clock.now = 1.0
    unknown = [_raw(f"ioc/v1/payments/pay-{i}/transaction", body) for i in (2, 3, 4)]
    results = classifier.classify_batch(unknown)
    assert [r.reason for r in results if isinstance(r, DeadLetter)] == ["unknown_publisher"] * 3
    assert loads == [0.0, 1.0]  # one reload for the whole batch, not one per message

    current["pay-2"] = PublisherEntry("payments", disabled=False, area_code="67")
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
    classifier = MessageClassifier(cache, factories.intake_rules())
    topics = ["ioc/v1/portal/pay-1/nope", "ioc/v1/x/pay-1/dossier/more", "ioc/v2/portal/pay-1/dossier", "a/b"]
    results = classifier.classify_batch([_raw(t, factories.dossier()) for t in topics])
    assert [(r.reason, r.publisher_id) for r in results if isinstance(r, DeadLetter)] == [
        ("topic_invalid", "pay-1"),
        ("topic_invalid", "pay-1"),
        ("topic_invalid", None),
        ("topic_invalid", None),
    ]


PILOT_TREE = {"67": None, "660": "67", "662": "67", "24611": "660", "24615": "660", "24615-01": "24615",
              "24640": "662"}  # fmt: skip


def _registered(area_code: str, source: str = "portal") -> RegistrySnapshot:
    return RegistrySnapshot(PILOT_TREE, {"p-1": PublisherEntry(source, disabled=False, area_code=area_code)})


def _reasons(snapshot: RegistrySnapshot, topic: str, bodies: list[dict[str, object]]) -> list[str | None]:
    classifier = MessageClassifier(RegistryCache(lambda: snapshot, Clock(), 5.0), factories.intake_rules())
    results = classifier.classify_batch([_raw(topic, body) for body in bodies])
    return [r.reason if isinstance(r, DeadLetter) else None for r in results]


def test_a_publisher_reports_for_its_own_area_and_the_units_below_it_only() -> None:
    # rt-bad-portal: registered for commune 24640, it sent for commune 24615 and for the province.
    portal = "ioc/v1/portal/p-1/dossier"
    bodies = [factories.dossier(area_code=a, at=NOW) for a in ("24640", "24615", "67", "662", "660")]
    assert _reasons(_registered("24640"), portal, bodies) == [None, *["area_not_allowed"] * 4]
    # A probe registered at a commune may report for its villages, not for its district or a neighbour.
    probe = "ioc/v1/coverage/p-1/sample"
    samples = [factories.sample(area_code=a, at=NOW) for a in ("24615", "24615-01", "660", "24611")]
    assert _reasons(_registered("24615", "coverage"), probe, samples) == [None, None, *["area_not_allowed"] * 2]
    # At the province, any unit in it.
    assert _reasons(_registered("67"), portal, bodies) == [None] * 5


def test_an_area_imported_later_is_picked_up_on_the_first_miss() -> None:
    areas = dict(PILOT_TREE)
    cache = RegistryCache(
        lambda: RegistrySnapshot(dict(areas), {"p-1": PublisherEntry("coverage", False, "24615")}), Clock(), 3600
    )
    classifier = MessageClassifier(cache, factories.intake_rules())
    body = factories.sample(area_code="24615-08", at=NOW)
    (refused,) = classifier.classify_batch([_raw("ioc/v1/coverage/p-1/sample", body)])
    assert isinstance(refused, DeadLetter)
    assert refused.reason == "unknown_area"
    areas["24615-08"] = "24615"  # `ioc areas import` added the village
    (accepted,) = classifier.classify_batch([_raw("ioc/v1/coverage/p-1/sample", body)])
    assert isinstance(accepted, AcceptedEvent)


def test_the_oldest_time_kept_is_the_retention_horizon_less_a_chunk_and_a_day() -> None:
    rules = factories.intake_rules()  # 400 days, earliest 2020-01-01
    oldest = rules.oldest_kept(NOW, {EventType.TRANSACTION: timedelta(days=1), EventType.DOSSIER: timedelta(days=7)})
    assert oldest == {EventType.TRANSACTION: NOW - timedelta(days=398), EventType.DOSSIER: NOW - timedelta(days=392)}
    long_kept = replace(rules, retention=timedelta(days=5000))
    assert long_kept.oldest_kept(NOW, {EventType.STATUS: timedelta(days=7)}) == {
        EventType.STATUS: datetime(2020, 1, 1, tzinfo=UTC)
    }


def test_times_the_system_would_never_keep_are_too_old() -> None:
    snapshot = _registered("67", "payments")
    floor = NOW - timedelta(days=398)
    times = ["0001-01-01T00:00:00Z", "1900-01-01T00:00:00+07:00", "1970-01-01T00:00:00Z",
             (NOW - timedelta(days=730)).isoformat(), (floor - timedelta(seconds=1)).isoformat(),
             (floor + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=7))).isoformat()]  # fmt: skip
    bodies = [factories.transaction(area_code="24611") | {"occurred_at": t} for t in times]
    assert _reasons(snapshot, "ioc/v1/payments/p-1/transaction", bodies) == [*["too_old"] * 5, None]
    # The status `at` counts too: a probe whose clock reset announces itself in 1970.
    statuses = [factories.status("online", at=datetime(1970, 1, 1, tzinfo=UTC)), factories.status("online", at=NOW)]
    assert _reasons(snapshot, "ioc/v1/payments/p-1/status", statuses) == ["too_old", None]
