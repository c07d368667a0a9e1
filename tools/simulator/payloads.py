"""Contract v1 bodies (the contract's examples, with the shapes' draws as their values), and the
portal's open dossiers waiting for a decision."""

from __future__ import annotations

import heapq
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ingest.contract import examples
from tools.simulator.areas import SimPublisher
from tools.simulator.shapes import CoverageDraw, DossierDraw, PaymentDraw

Body = dict[str, object]


def stamp(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


def encode(body: object) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def envelope(occurred_at: datetime, area_code: str, seq: int) -> Body:
    # No event_id: the examples, given no generator, make a fresh one even when a seed replays a run.
    # An id is the deduplication key, and a replayed run is new events, not repeats of the old ones.
    return {"occurred_at": stamp(occurred_at), "area_code": area_code, "seq": seq}


def _given(**fields: object) -> Body:
    """The optional fields that have a value (the others stay out of the payload)."""
    return {name: value for name, value in fields.items() if value is not None}


def transaction_body(envelope: Body, sector: str, draw: PaymentDraw) -> Body:
    return examples.transaction(
        **envelope, sector=sector, method=draw.method, amount_vnd=draw.amount_vnd, outcome=draw.outcome
    )


def sample_body(envelope: Body, publisher: SimPublisher, draw: CoverageDraw) -> Body:
    return examples.sample(
        **envelope, operator=draw.operator, technology=draw.technology, download_mbps=draw.download_mbps,
        upload_mbps=draw.upload_mbps, latency_ms=draw.latency_ms, packet_loss_pct=draw.packet_loss_pct,
        **_given(rsrp_dbm=draw.rsrp_dbm, village=publisher.village),
    )  # fmt: skip


@dataclass(order=True)
class OpenDossier:
    decide_at: datetime
    dossier_id: str = field(compare=False)
    area_code: str = field(compare=False)
    draw: DossierDraw = field(compare=False)
    due_at: datetime = field(compare=False)


def dossier_body(envelope: Body, dossier: OpenDossier, status: str) -> Body:
    d = dossier.draw
    return examples.dossier(
        **envelope, dossier_id=dossier.dossier_id, procedure_code=d.procedure_code, domain=d.domain,
        status=status, channel=d.channel, service_level=d.service_level, e_certified=d.e_certified,
        due_at=stamp(dossier.due_at), **_given(paid_online=d.paid_online),
    )  # fmt: skip


class DossierBook:
    """Submitted dossiers waiting for their decision, earliest first; bounded: when full, the earliest
    is decided now (a busy desk clears its oldest files), so memory never grows with the run."""

    def __init__(self, capacity: int = 5000) -> None:
        self._heap: list[OpenDossier] = []
        self._capacity = capacity
        self._next_number = 0

    def __len__(self) -> int:
        return len(self._heap)

    def new_id(self, area_code: str, rng: random.Random) -> str:
        self._next_number += 1
        return f"H20.67-{area_code}-{rng.getrandbits(24):06x}{self._next_number:06d}"

    def open(self, dossier: OpenDossier) -> None:
        heapq.heappush(self._heap, dossier)

    def decide(self, now: datetime) -> OpenDossier | None:
        """The earliest dossier whose decision is due (or the earliest at all, when the book is full)."""
        if self._heap and (self._heap[0].decide_at <= now or len(self._heap) >= self._capacity):
            return heapq.heappop(self._heap)
        return None


def decision_time(submitted_at: datetime, due: timedelta, fraction: float) -> datetime:
    return submitted_at + due * fraction
