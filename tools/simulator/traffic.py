"""What each publisher sends next, and the tally of what was injected: pure apart from the seeded generator.

The runner asks for a publisher's next messages, publishes them and reports back which the broker's
client accepted; only then do `seq`, gaps, duplicates and faults count, so the tally is exactly what
went out. A skipped `seq` (a gap) is never a publisher's first event, whose number would otherwise
just start its range, and a duplicate repeats one of the publisher's recent events byte for byte.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal

from tools.simulator import shapes
from tools.simulator.areas import Scope, SimPublisher
from tools.simulator.faults import FAULT_REASONS, FaultInput, build_fault
from tools.simulator.payloads import (
    Body,
    DossierBook,
    OpenDossier,
    decision_time,
    dossier_body,
    encode,
    envelope,
    sample_body,
    transaction_body,
)

_RECENT: Final = 32  # events a publisher may repeat as duplicates
_LATE_HOURS: Final = (1.0, 12.0)  # a counter or probe that was offline flushes its buffer: inside 24 h


@dataclass(frozen=True)
class FaultRates:
    bad_ratio: float = 0.0  # share of messages replaced by an invalid one
    duplicates: float = 0.0  # share of events sent a second time
    late: float = 0.0  # share of payments and samples stamped hours ago
    gaps: float = 0.0  # share of events whose `seq` skips one


@dataclass(frozen=True, slots=True)
class Outgoing:
    kind: Literal["event", "duplicate", "fault"]
    topic: str
    payload: bytes
    event_type: str = ""
    seq: int = 0
    skipped: int = 0  # seq numbers skipped before this event
    late: bool = False
    reason: str = ""  # a fault's dead-letter reason


@dataclass
class PublisherState:
    next_seq: int
    recent: deque[tuple[str, bytes]] = field(default_factory=lambda: deque(maxlen=_RECENT))


@dataclass
class Tally:
    events: Counter[str] = field(default_factory=Counter)  # distinct valid events, by type
    duplicates: int = 0
    late: int = 0
    gaps: Counter[str] = field(default_factory=Counter)  # seq numbers skipped, by publisher
    dead_letters: Counter[str] = field(default_factory=Counter)  # faults, by the reason they must get
    refused: int = 0  # not accepted by the client (its bounded queue was full)


class Traffic:
    def __init__(
        self, scope: Scope, rng: random.Random, rates: FaultRates, speed: float, last_seq: dict[str, int]
    ) -> None:
        self._scope = scope
        self._rng = rng
        self._rates = rates
        self._speed = speed
        self._last_seq = last_seq
        self._states: dict[str, PublisherState] = {}
        self._book = DossierBook()
        self._faults = 0
        self.tally = Tally()

    def next_messages(self, publisher: SimPublisher, now: datetime) -> list[Outgoing]:
        """One event of the publisher (or a fault in its place), possibly followed by a duplicate."""
        rng, state = self._rng, self._state(publisher)
        if rng.random() < self._rates.bad_ratio:
            fault_input = self._fault_input(publisher, state, now)
            while (fault := build_fault(FAULT_REASONS[self._faults % len(FAULT_REASONS)], fault_input)) is None:
                self._faults += 1  # a reason this publisher cannot cause (now): the next one
            self._faults += 1
            return [Outgoing("fault", fault.topic, fault.payload, reason=fault.reason.value)]
        skipped = (
            1 if state.next_seq > self._last_seq.get(publisher.id, 0) + 1 and rng.random() < self._rates.gaps else 0
        )
        seq = state.next_seq + skipped
        late = publisher.source != "portal" and rng.random() < self._rates.late
        occurred_at = now - timedelta(hours=rng.uniform(*_LATE_HOURS)) if late else now
        body = self._body(publisher, publisher.area_code, seq, occurred_at, now)
        out = [Outgoing("event", publisher.topic, encode(body), publisher.event_type, seq, skipped, late)]
        if state.recent and rng.random() < self._rates.duplicates:
            topic, payload = state.recent[rng.randrange(len(state.recent))]
            out.append(Outgoing("duplicate", topic, payload, publisher.event_type))
        return out

    def accepted(self, publisher: SimPublisher, message: Outgoing) -> None:
        t = self.tally
        if message.kind == "fault":
            t.dead_letters[message.reason] += 1
        elif message.kind == "duplicate":
            t.duplicates += 1
        else:
            state = self._state(publisher)
            state.next_seq = message.seq + 1
            state.recent.append((message.topic, message.payload))
            t.events[message.event_type] += 1
            t.late += message.late
            if message.skipped:
                t.gaps[publisher.id] += message.skipped

    def refused(self) -> None:
        self.tally.refused += 1

    def _state(self, publisher: SimPublisher) -> PublisherState:
        state = self._states.get(publisher.id)
        if state is None:
            state = self._states[publisher.id] = PublisherState(self._last_seq.get(publisher.id, 0) + 1)
        return state

    def _body(
        self, publisher: SimPublisher, area: str, seq: int, occurred_at: datetime, now: datetime, fault: bool = False
    ) -> Body:
        rng = self._rng
        if publisher.source == "payments":
            sector = publisher.sector or "other"
            draw = shapes.draw_payment(rng, sector, publisher.setting)
            return transaction_body(envelope(occurred_at, area, seq), sector, draw)
        if publisher.source == "coverage":
            return sample_body(
                envelope(occurred_at, area, seq), publisher, shapes.draw_coverage(rng, publisher.setting)
            )
        if fault:  # a faulty copy of a submission that never enters the book
            dossier = self._new_dossier(now)
            return dossier_body(envelope(now, dossier.area_code, seq), dossier, "submitted")
        return self._dossier(seq, now)

    def _dossier(self, seq: int, now: datetime) -> Body:
        """A decision on a dossier whose time has come, else a new submission in a commune of the scope."""
        rng = self._rng
        decided = self._book.decide(now)
        if decided is not None:
            status = rng.choices(("resolved", "returned", "rejected"), weights=(95, 3, 2))[0]
            return dossier_body(envelope(now, decided.area_code, seq), decided, status)
        dossier = self._new_dossier(now)
        self._book.open(dossier)
        return dossier_body(envelope(now, dossier.area_code, seq), dossier, "submitted")

    def _new_dossier(self, now: datetime) -> OpenDossier:
        rng = self._rng
        commune = rng.choice(self._scope.communes)
        setting = self._scope.setting(commune.code)
        draw = shapes.draw_dossier(rng, setting)
        due = shapes.due_in(draw.domain, self._speed)
        return OpenDossier(
            decide_at=decision_time(now, due, shapes.resolution_fraction(rng)),
            dossier_id=self._book.new_id(commune.code, rng),
            area_code=commune.code,
            draw=draw,
            due_at=now + due,
        )

    def _fault_input(self, publisher: SimPublisher, state: PublisherState, now: datetime) -> FaultInput:
        area = publisher.area_code if publisher.source != "portal" else self._scope.communes[0].code
        seq = state.next_seq
        return FaultInput(
            publisher=publisher,
            body=self._body(publisher, area, seq, now, now, fault=True),
            now=now,
            outside_area=self._scope.places[publisher.area_code].parent_code,
            recent=state.recent[-1] if state.recent else None,
        )
