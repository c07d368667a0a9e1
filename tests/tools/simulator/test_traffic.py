"""What the simulator sends: valid contract events, faults that the ingest's own classifier rejects with
the reason the run counts, and a tally that matches what went out (pure logic, no services)."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from ingest.contract import RejectReason
from ingest.records import AcceptedEvent, DeadLetter, RawMessage
from ingest.registry.areas import parse_areas_csv, pilot_areas_csv
from ingest.registry.snapshot import PublisherEntry, RegistryCache, RegistrySnapshot
from ingest.service.classify import MessageClassifier
from tests import factories
from tools.simulator.areas import Scope, Setting, places_from_rows, plan_publishers, select_scope, setting_of
from tools.simulator.faults import FAULT_REASONS
from tools.simulator.runner import Pacing, Simulation, choose_silent
from tools.simulator.traffic import FaultRates, Outgoing, Traffic

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Monday 10:00 in Đắk Nông


def pilot_scope(*communes: str) -> Scope:
    areas = parse_areas_csv(pilot_areas_csv(), {})
    rows = [(a.code, a.parent_code, a.level, a.unit_type, a.name_vi) for a in areas]
    return select_scope(places_from_rows(rows), communes)


def classifier(scope: Scope, prefix: str) -> MessageClassifier:
    publishers = {p.id: PublisherEntry(p.source, False, p.area_code) for p in plan_publishers(scope, prefix)}
    snapshot = RegistrySnapshot({code: place.parent_code for code, place in scope.places.items()}, publishers)
    registry = RegistryCache(lambda: snapshot, clock=lambda: 0.0, refresh_seconds=60)
    return MessageClassifier(registry, factories.intake_rules())


def classify(c: MessageClassifier, message: Outgoing) -> AcceptedEvent | DeadLetter:
    return c.classify(RawMessage(message.topic, message.payload, 1, 1, NOW, 0.0, 1))


def test_places_know_town_from_village_and_bon() -> None:
    scope = pilot_scope()
    assert scope.setting("24615") is Setting.CITY  # Nghĩa Tân ward, Gia Nghĩa
    assert scope.setting("24664") is Setting.TOWN  # Đắk Mil township
    assert scope.setting("24667") is Setting.RURAL  # Đắk Lao commune
    assert scope.setting("24615-01") is Setting.CITY  # a residential group of Nghĩa Tân
    assert scope.setting("24615-06") is Setting.BON  # Bon Bu Kol
    assert scope.setting("24667-01") is Setting.RURAL  # thôn 1
    assert setting_of(scope.places["24736-01"], scope.places["24736"]) is Setting.BON
    with pytest.raises(ValueError, match="not communes"):
        pilot_scope("660")


def test_publishers_are_planned_per_commune_sector_and_village() -> None:
    planned = plan_publishers(pilot_scope("24615", "24703"), "sim")
    by_source = Counter(p.source for p in planned)
    assert by_source == {"portal": 1, "payments": 8, "coverage": 7 + 3}
    assert {p.area_code for p in planned if p.source == "coverage"} >= {"24615-06", "24703-01"}
    assert all(len(p.id) <= 64 and p.id == p.id.lower() for p in planned)


def test_valid_events_pass_the_ingest_and_faults_get_the_reason_counted_for_them() -> None:
    scope = pilot_scope("24615")
    c = classifier(scope, "sim")
    traffic = Traffic(scope, random.Random(1), FaultRates(bad_ratio=0.5), speed=1440, last_seq={})
    sent: list[Outgoing] = []
    reasons: Counter[str] = Counter()
    sent_ids: set[str] = set()
    for i in range(400):
        publisher = plan_publishers(scope, "sim")[i % 12]
        for message in traffic.next_messages(publisher, NOW):
            outcome = classify(c, message)
            if message.reason == RejectReason.CONFLICTING_DUPLICATE:
                # Decided while storing: a valid event under an id the publisher used, with other fields.
                assert isinstance(outcome, AcceptedEvent), outcome
                assert json.loads(message.payload)["event_id"] in sent_ids
                assert message.payload not in {m.payload for m in sent}
                reasons[message.reason] += 1
            elif message.kind == "fault":
                assert isinstance(outcome, DeadLetter), message.reason
                assert outcome.reason == message.reason
                reasons[message.reason] += 1
            else:
                assert isinstance(outcome, AcceptedEvent), outcome
                sent_ids.add(json.loads(message.payload)["event_id"])
                sent.append(message)
            traffic.accepted(publisher, message)
    assert set(reasons) == {r.value for r in FAULT_REASONS}
    # Every reason a publisher can cause, but a registry change (and a foreign source: the broker refuses it).
    assert len(FAULT_REASONS) == 16
    assert RejectReason.SOURCE_MISMATCH not in FAULT_REASONS
    assert RejectReason.UNKNOWN_PUBLISHER not in FAULT_REASONS
    assert dict(traffic.tally.dead_letters) == dict(reasons)


def test_seq_gaps_duplicates_and_late_events_are_counted_as_sent() -> None:
    scope = pilot_scope("24615")
    publishers = plan_publishers(scope, "sim")
    rates = FaultRates(bad_ratio=0.1, duplicates=0.1, late=0.1, gaps=0.1)
    traffic = Traffic(scope, random.Random(2), rates, speed=1, last_seq={publishers[3].id: 41})
    sent: list[tuple[str, Outgoing]] = []
    for i in range(2000):
        p = publishers[i % len(publishers)]
        for message in traffic.next_messages(p, NOW + timedelta(seconds=i)):
            if i % 97 == 0:  # refused by a full queue: sent nothing, counts nothing
                traffic.refused()
                continue
            traffic.accepted(p, message)
            sent.append((p.id, message))
    tally = traffic.tally
    events = [(pid, m) for pid, m in sent if m.kind == "event"]
    assert sum(tally.events.values()) == len(events) == len({json.loads(m.payload)["event_id"] for _, m in events})
    assert tally.duplicates == sum(m.kind == "duplicate" for _, m in sent) > 0
    assert tally.late == sum(json.loads(m.payload)["occurred_at"] < NOW.isoformat() for _, m in events) > 0
    assert tally.refused > 0
    for p in publishers:
        seqs = [json.loads(m.payload)["seq"] for pid, m in events if pid == p.id]
        first = 42 if p is publishers[3] else 1  # carries on after the last seq stored
        assert seqs[0] == first
        assert seqs[-1] - seqs[0] + 1 - len(seqs) == tally.gaps[p.id]  # exactly what completeness misses


def test_quiet_publishers_stop_and_the_rest_follow_their_rate() -> None:
    scope = pilot_scope("24615")
    publishers = plan_publishers(scope, "sim")
    rng = random.Random(3)
    silent = choose_silent(publishers, 2, rng)
    assert len(silent) == 2
    assert all(not s.endswith("portal") for s in silent)

    class Recorder:
        def __init__(self) -> None:
            self.count = 0

        def publish(self, topic: str, payload: bytes) -> bool:
            self.count += 1
            return True

    senders = {p.id: Recorder() for p in publishers}
    traffic = Traffic(scope, rng, FaultRates(), speed=1, last_seq={})
    pacing = Pacing(rate=200, duration_seconds=1.0, speed=60, start_local=NOW, silent=silent, quiet_after_seconds=0)
    simulation = Simulation(publishers, dict(senders), traffic, pacing, rng, wall_clock=lambda: NOW)
    simulation.run()
    assert all(senders[s].count == 0 for s in silent)
    assert simulation.sent == sum(r.count for r in senders.values())
    # 200/s at the busiest hour less the two quiet ones' share; the machine may lag a tick or two.
    assert 100 < simulation.sent <= 200
