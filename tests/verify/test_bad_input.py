"""Bad input, pure: the ingest classifier (decoder plus registry checks) against generated input.

Never an exception but the contract's refusal, whatever the topic and bytes; and every class of
invalid message the contract names gets exactly its reason. The same path as the running service
(`MessageClassifier`), with a registry held in memory and the clock passed in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.contract import RejectReason, Source
from ingest.records import AcceptedEvent, DeadLetter, RawMessage
from ingest.registry.snapshot import PublisherEntry, RegistryCache, RegistrySnapshot
from ingest.service.classify import MessageClassifier
from tests import factories
from tests.fixtures.verify import VerifyProfile
from tests.verify.bad_input import (
    PAYLOAD_CLASSES,
    BadMessage,
    Publisher,
    areas_outside,
    bad_payloads,
    decoder_classes,
    foreign_sources,
    unknown_areas,
    valid_from,
)
from tests.verify.report import ScenarioResult

NOW = datetime(2025, 1, 31, 3, 0, tzinfo=UTC)
SKEW = timedelta(minutes=5)
RULES = factories.intake_rules()
AREA_TREE = {"67": None, "660": "67", "661": "67", "24611": "660", "24616": "661", "67.660": "660"}
AREAS = tuple(AREA_TREE)
OUTSIDE_24611 = ("67", "660", "661", "24616", "67.660")  # above it, or in another branch
SENDERS = tuple(Publisher(f"pub-{source.value}", source) for source in Source)  # at the province
LOCAL = Publisher("pub-ward", Source.PAYMENTS)  # a counter of commune 24611
DISABLED = Publisher("pub-off", Source.PAYMENTS)
UNREGISTERED = Publisher("pub-nobody", Source.COVERAGE)
REGISTRY = RegistrySnapshot(
    areas=AREA_TREE,
    publishers={p.id: PublisherEntry(p.source.value, False, "67") for p in SENDERS}
    | {LOCAL.id: PublisherEntry(LOCAL.source.value, False, "24611")}
    | {DISABLED.id: PublisherEntry(DISABLED.source.value, True, "67")},
)
# Older than this, an event of any type is too old at NOW.
OLDEST = min(RULES.oldest_kept(NOW, REGISTRY.chunk_intervals).values())
CLOSED_SET = frozenset(RejectReason)
# Decided against the events already stored, not by the classifier: the integration suites
# (tests/verify/test_trust_ingest.py) send them through the real stack.
DECIDED_BY_STORAGE = frozenset({RejectReason.STORAGE_REJECTED, RejectReason.CONFLICTING_DUPLICATE})


def classifier() -> MessageClassifier:
    return MessageClassifier(RegistryCache(lambda: REGISTRY, time.monotonic, 3600), RULES)


def classify(topic: str, payload: bytes) -> AcceptedEvent | DeadLetter:
    raw = RawMessage(topic, payload, mid=1, qos=1, received_at=NOW, received_monotonic=0.0, generation=1)
    return classifier().classify(raw)


def every_class() -> dict[str, st.SearchStrategy[BadMessage]]:
    """Each class of bad input by name, from whichever registered publisher (and the registry's own)."""
    sender = st.sampled_from(SENDERS)
    classes: dict[str, st.SearchStrategy[BadMessage]] = {
        name: sender.flatmap(
            lambda p, n=name: decoder_classes(p, NOW, AREAS, SKEW, timedelta(microseconds=1), OLDEST)[n]
        )
        for name in ("topic", *PAYLOAD_CLASSES, "future event", "too old")
    }
    classes["unknown area"] = sender.flatmap(lambda p: unknown_areas(p, NOW, AREAS))
    classes["area not allowed"] = areas_outside(LOCAL, NOW, OUTSIDE_24611)
    classes["unknown publisher"] = valid_from(UNREGISTERED, NOW, AREAS, RejectReason.UNKNOWN_PUBLISHER)
    classes["publisher disabled"] = valid_from(DISABLED, NOW, AREAS, RejectReason.PUBLISHER_DISABLED)
    classes["source mismatch"] = sender.flatmap(lambda p: foreign_sources(p, NOW, AREAS))
    return classes


def run_examples(strategy: st.SearchStrategy[object], examples: int, check: Callable[[object], None]) -> int:
    """Runs `check` on `examples` generated values (no shrinking budget saved between runs); how many ran."""
    ran = 0

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(value: object) -> None:
        nonlocal ran
        ran += 1
        check(value)

    run()
    return ran


def test_every_class_of_bad_input_gets_exactly_its_reason(scenario: ScenarioResult, profile: VerifyProfile) -> None:
    per_class = profile.pick(fast=100, full=2_000)
    classes = every_class()
    scenario.scenario = f"Bad input: each of {len(classes)} classes of invalid message gets its reason (hypothesis)"
    scenario.load = f"{per_class:,} generated messages per class"

    def check(value: object) -> None:
        assert isinstance(value, BadMessage)
        outcome = classify(value.topic, value.payload)
        assert isinstance(outcome, DeadLetter), f"accepted: {value}"
        assert outcome.reason == value.reason.value, f"{outcome.reason} ({outcome.detail}) for {value}"

    started = time.monotonic()
    total = sum(run_examples(strategy, per_class, check) for strategy in classes.values())
    scenario.measure("classes", len(classes))
    scenario.measure("messages", total)
    scenario.measure("wrong reasons", 0)
    scenario.measure("messages/s", total / (time.monotonic() - started))
    assert {m.reason for m in _one_of_each(classes)} == CLOSED_SET - DECIDED_BY_STORAGE


def _one_of_each(classes: dict[str, st.SearchStrategy[BadMessage]]) -> list[BadMessage]:
    found: list[BadMessage] = []
    for strategy in classes.values():
        run_examples(strategy, 1, lambda value: found.append(value) if isinstance(value, BadMessage) else None)
    return found


# Arbitrary topics (surrogates included, as a topic that is not UTF-8 reaches ingest) and bytes:
# raw binary, JSON of any shape, and every class of bad payload on a valid topic.
_TOPICS = st.one_of(
    st.text(st.characters(exclude_categories=())),
    st.sampled_from(SENDERS).map(Publisher.topic),
    st.lists(st.sampled_from(["ioc", "v1", "portal", "payments", "coverage", "status", "pub-portal", "+", ""])).map(
        "/".join
    ),
)
_PAYLOADS = st.one_of(
    st.binary(max_size=2048),
    st.sampled_from(SENDERS)
    .flatmap(
        lambda p: st.sampled_from(list(PAYLOAD_CLASSES.values())).flatmap(lambda b: bad_payloads(p, NOW, AREAS, b))
    )
    .map(lambda m: m.payload),
)


def test_arbitrary_topics_and_bytes_never_raise(scenario: ScenarioResult, profile: VerifyProfile) -> None:
    examples = profile.pick(fast=2_000, full=100_000)
    scenario.scenario = "Bad input: arbitrary topics and bytes never raise, always a reason of the closed set"
    scenario.load = f"{examples:,} generated messages (hypothesis)"
    outcomes = {"stored": 0, "dead-lettered": 0}

    def check(value: object) -> None:
        assert isinstance(value, tuple)
        outcome = classify(*value)  # anything but PayloadRejected inside it would raise here
        if isinstance(outcome, DeadLetter):
            assert RejectReason(outcome.reason) in CLOSED_SET
            outcomes["dead-lettered"] += 1
        else:
            outcomes["stored"] += 1

    started = time.monotonic()
    ran = run_examples(st.tuples(_TOPICS, _PAYLOADS), examples, check)
    scenario.measure("messages", ran)
    scenario.measure("crashes", 0)
    scenario.measure("dead-lettered", outcomes["dead-lettered"])
    scenario.measure("messages/s", ran / (time.monotonic() - started))
    assert ran == examples
