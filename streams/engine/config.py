"""What the engine is told (its configuration) and what it tells (its health), and its epochs."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from runtime.health import HealthState


@dataclass(frozen=True, slots=True)
class EngineConfig:
    coalesce_seconds: float = 0.1  # 5m, 1h and the gauges
    # 24h and today move slowly: once a second is live enough for them, and it halves the frames.
    long_window_coalesce_seconds: float = 1.0
    read_count: int = 200
    max_backoff_seconds: float = 5.0
    dossier_horizon_days: float = 90
    silent_after_seconds: float = 900
    onboarding_grace_seconds: float = 86_400
    alert_flap_seconds: float = 0.0  # see IOC_STREAMS_ALERT_FLAP_SECONDS


@dataclass(frozen=True, slots=True)
class StreamsHealth:
    status: HealthState
    epoch: str
    reasons: list[str] = field(default_factory=list)
    # "active" (holds the lease and works; always, without a lease) or "standby" (warm, writes nothing).
    role: str = "active"
    lease_token: str | None = None
    fencing_token: int | None = None
    takeovers: int = 0

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def new_epoch() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
