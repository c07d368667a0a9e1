"""When a failed delivery is tried again: exponential backoff, capped."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    initial_seconds: float
    max_delay_seconds: float
    retry_for_seconds: float

    def delay(self, failed_attempts: int) -> float:
        """The wait after the `failed_attempts`-th failure (1, 2, 4, … times the initial delay, at most the cap)."""
        exponent = min(max(failed_attempts, 1) - 1, 60)  # 2**60 seconds is past any cap
        return min(self.max_delay_seconds, self.initial_seconds * 2.0**exponent)
