"""A realistic mixed event stream for benchmarks: payments, coverage samples and portal dossiers.

Shares follow the pilot's expected rates (payments ≈ 60 %, coverage ≈ 25 %, dossiers ≈ 15 %);
values are drawn from a seeded generator so that two runs publish the same stream.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ingest.contract import examples


@dataclass(frozen=True, slots=True)
class BenchPublisher:
    id: str
    source: str
    event_type: str

    @property
    def topic(self) -> str:
        return f"ioc/v1/{self.source}/{self.id}/{self.event_type}"


def bench_publishers(count: int, prefix: str = "bench") -> list[BenchPublisher]:
    """`count` publishers in the mix's proportions (at least one of each source)."""
    kinds = [("payments", "transaction")] * 12 + [("coverage", "sample")] * 5 + [("portal", "dossier")] * 3
    chosen = [kinds[0], kinds[12], kinds[17]] + [kinds[i % len(kinds)] for i in range(max(0, count - 3))]
    return [BenchPublisher(f"{prefix}-{source}-{i}", source, et) for i, (source, et) in enumerate(chosen[:count])]


# One encoder for every payload: json.dumps with separators builds a new one per call.
_compact_json = json.JSONEncoder(separators=(",", ":")).encode


class EventFactory:
    """The contract's examples drawn from one seeded generator, with the mix's own shares on top:
    97 % of payments succeed, 70 % of dossiers are e-certified, every probe reports its RSRP."""

    def __init__(self, area_codes: list[str], seed: int = 9) -> None:
        self._areas = area_codes
        self._random = random.Random(seed)

    def payload(self, publisher: BenchPublisher, seq: int, occurred_at: datetime) -> bytes:
        r = self._random
        stamp = occurred_at.isoformat(timespec="microseconds")
        area = r.choice(self._areas)
        if publisher.event_type == "transaction":
            outcome = "succeeded" if r.random() < 0.97 else "failed"
            body = examples.transaction(r, occurred_at=stamp, area_code=area, seq=seq, outcome=outcome)
        elif publisher.event_type == "sample":
            body = examples.sample(
                r, occurred_at=stamp, area_code=area, seq=seq, rsrp_dbm=round(r.uniform(-125, -70), 1)
            )
        else:
            body = examples.dossier(
                r, occurred_at=stamp, area_code=area, seq=seq, dossier_id=f"H20.67-{seq:09d}",
                service_level="full_online", e_certified=r.random() < 0.7,
                due_at=(occurred_at + timedelta(days=r.randrange(3, 30))).isoformat(),
            )  # fmt: skip
        return _compact_json(body).encode()


# occurred_at is stamped when a line is handed to the publisher, so that it is also the publish
# time from which the benchmark measures latency. A fixed-width placeholder is cut out once.
_PLACEHOLDER_TIME = datetime(2000, 1, 1, tzinfo=UTC)
_PLACEHOLDER = _PLACEHOLDER_TIME.isoformat(timespec="microseconds").encode()


@dataclass(frozen=True, slots=True)
class PayloadTemplate:
    prefix: bytes
    suffix: bytes

    def render(self, stamp: bytes) -> bytes:
        return self.prefix + stamp + self.suffix


def templates(factory: EventFactory, publisher: BenchPublisher, count: int) -> list[PayloadTemplate]:
    out = []
    for seq in range(1, count + 1):
        prefix, suffix = factory.payload(publisher, seq, _PLACEHOLDER_TIME).split(_PLACEHOLDER, 1)
        out.append(PayloadTemplate(prefix, suffix))
    return out


def stamp_now() -> bytes:
    """The current time in exactly the placeholder's width."""
    return datetime.now(UTC).isoformat(timespec="microseconds").encode()
