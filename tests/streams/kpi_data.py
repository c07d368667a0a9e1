"""Generated stored events for the KPI tests: late, out of order, ahead of the clock and repeated."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from streams.records import MICROS, DossierRecord, PaymentRecord, Record, SampleRecord
from streams.windows import MINUTE_US

# A small hierarchy shaped like the real one: province > district > commune > village.
PARENTS: dict[str, str | None] = {
    "67": None,
    "660": "67",
    "663": "67",
    "24611": "660",
    "24615": "660",
    "24667": "663",
    "24615-01": "24615",
    "24667-03": "24667",
}
LEAVES = ("24611", "24615", "24667", "24615-01", "24667-03", "663")
# 2026-11-26 09:30 local time (02:30 UTC): mid-morning, so `today` and `24h` differ.
NOW_US = int(datetime(2026, 11, 26, 2, 30, 17, tzinfo=UTC).timestamp()) * MICROS


def generated_records(rng: random.Random, count: int, now_us: int = NOW_US) -> list[Record]:
    """Events spread over the last 30 hours (most in the last hour), a few up to 2 minutes ahead."""
    records: list[Record] = []
    dossiers = [f"D-{n:04d}" for n in range(count // 6 + 1)]
    for n in range(count):
        spread = rng.choice((5 * MINUTE_US, 70 * MINUTE_US, 30 * 60 * MINUTE_US))
        occurred = now_us - rng.randrange(-2 * MINUTE_US, spread)
        area = rng.choice(LEAVES)
        publisher = f"pub-{rng.randrange(4)}"
        kind = rng.randrange(3)
        if kind == 0:
            # Some resolved exactly at their deadline: on time, the boundary the definition names.
            due = occurred + rng.choice((0, rng.randrange(-3600, 3600) * MICROS)) if rng.random() < 0.8 else None
            records.append(
                DossierRecord(
                    publisher,
                    area,
                    occurred,
                    n,
                    rng.choice(dossiers),
                    rng.choice(("submitted", "submitted", "resolved", "accepted", "cancelled")),
                    rng.choice(("online", "one_stop_desk", "qr_kiosk")),
                    rng.random() < 0.7,
                    due,
                )
            )
        elif kind == 1:
            records.append(
                PaymentRecord(
                    publisher,
                    area,
                    occurred,
                    n,
                    rng.choice(("health", "education", "water", "electricity")),
                    rng.choice(("cash", "card", "qr", "ewallet")),
                    rng.randrange(1_000, 5_000_000),
                    rng.choice(("succeeded", "succeeded", "succeeded", "failed", "refunded")),
                )
            )
        else:
            records.append(
                SampleRecord(
                    publisher,
                    area,
                    occurred,
                    n,
                    round(rng.lognormvariate(2, 1), 3),
                    round(rng.lognormvariate(4, 0.7), 2),
                    rng.choice((0.0, 0.5, 1.0, 3.0)),
                )
            )
    return records
