"""A realistic mixed event stream for benchmarks: payments, coverage samples and portal dossiers.

Shares follow the pilot's expected rates (payments ≈ 60 %, coverage ≈ 25 %, dossiers ≈ 15 %);
values are drawn from a seeded generator so that two runs publish the same stream.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SECTORS = ("health", "education", "electricity", "water", "tax", "public_service", "other")
METHODS = ("cash", "card", "qr", "ewallet", "bank_transfer")
OPERATORS = ("vnpt", "viettel", "mobifone", "other")
TECHNOLOGIES = ("2g", "3g", "4g", "5g", "ftth", "wifi")
DOMAINS = ("land", "civil_status", "business", "construction", "social", "justice", "other")
STATUSES = ("submitted", "accepted", "supplement_requested", "resolved", "returned", "rejected", "cancelled")
CHANNELS = ("online", "one_stop_desk", "qr_kiosk", "postal")


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


class EventFactory:
    def __init__(self, area_codes: list[str], seed: int = 9) -> None:
        self._areas = area_codes
        self._random = random.Random(seed)

    def payload(self, publisher: BenchPublisher, seq: int, occurred_at: datetime) -> bytes:
        r = self._random
        body: dict[str, object] = {
            "event_id": str(uuid.UUID(int=r.getrandbits(128), version=4)),
            "occurred_at": occurred_at.isoformat(timespec="microseconds"),
            "area_code": r.choice(self._areas),
            "seq": seq,
        }
        if publisher.event_type == "transaction":
            body |= {
                "sector": r.choice(SECTORS), "method": r.choice(METHODS),
                "amount_vnd": r.randrange(10_000, 5_000_000, 1_000),
                "outcome": "succeeded" if r.random() < 0.97 else "failed",
            }  # fmt: skip
        elif publisher.event_type == "sample":
            body |= {
                "operator": r.choice(OPERATORS), "technology": r.choice(TECHNOLOGIES),
                "download_mbps": round(r.lognormvariate(2.5, 0.9), 2),
                "upload_mbps": round(r.lognormvariate(1.5, 0.8), 2),
                "latency_ms": round(r.uniform(15, 300), 1), "packet_loss_pct": round(r.uniform(0, 5), 2),
                "rsrp_dbm": round(r.uniform(-125, -70), 1),
            }  # fmt: skip
        else:
            body |= {
                "dossier_id": f"H20.67-{seq:09d}", "procedure_code": f"1.00{r.randrange(1000, 9999)}",
                "domain": r.choice(DOMAINS), "status": r.choice(STATUSES), "channel": r.choice(CHANNELS),
                "service_level": "full_online", "e_certified": r.random() < 0.7,
                "due_at": (occurred_at + timedelta(days=r.randrange(3, 30))).isoformat(),
            }  # fmt: skip
        return json.dumps(body, separators=(",", ":")).encode()


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
