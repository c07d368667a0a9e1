"""Paces the simulated province: how many events each publisher sends when, and the run's summary.

Events are stamped with the real time they are sent: the ingest refuses events from the future and
the wall's windows run on event time. `--speed` compresses the simulated clock instead, which drives
the shapes (office hours, weekdays) and the legal time limits of dossiers, so a day's rhythm and
its deadlines pass in minutes. Each publisher earns credit at its own rate and sends an event per
whole credit: regular like a real counter or probe, never silent by chance.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final, Protocol

from tools.simulator import shapes
from tools.simulator.areas import SimPublisher
from tools.simulator.traffic import Outgoing, Traffic

# Shares of the events at the busiest hour, as the bench's mix: payments, then coverage, then dossiers.
SOURCE_SHARES: Final = {"payments": 0.60, "coverage": 0.25, "portal": 0.15}
_TICK_SECONDS: Final = 0.05
_DEFAULT_QUIET_AFTER_SECONDS: Final = 60.0


class Sender(Protocol):
    """A publisher's connection, as the runner sees it (`PublisherClient` in production)."""

    def publish(self, topic: str, payload: bytes) -> bool: ...


@dataclass(frozen=True)
class Pacing:
    rate: float  # events/s at the busiest hour of a weekday, all publishers together
    duration_seconds: float | None  # None: until stopped
    speed: float  # simulated seconds per real second
    start_local: datetime  # where the simulated clock starts
    silent: Sequence[str] = ()  # publishers that go quiet
    quiet_after_seconds: float = _DEFAULT_QUIET_AFTER_SECONDS
    progress_seconds: float = 1.0


@dataclass
class Summary:
    seed: int
    publishers: int
    elapsed_seconds: float
    sent: int  # messages accepted by the clients: events, duplicates and faults (not status)
    events: dict[str, int]  # distinct valid events by type
    duplicates: int
    late: int
    gaps: dict[str, int]  # seq numbers skipped, by publisher
    dead_letters: dict[str, int]  # faults, by the dead-letter reason they must get
    silent: list[str]
    refused: int
    unacknowledged: int = 0  # still without PUBACK when the clients closed
    simulated_until: str = ""

    @property
    def gap_total(self) -> int:
        return sum(self.gaps.values())

    def to_json(self) -> str:
        return json.dumps(asdict(self) | {"gap_total": self.gap_total}, indent=2, ensure_ascii=False)

    def write(self, path: Path) -> None:
        path.write_text(self.to_json() + "\n", encoding="utf-8")

    def lines(self) -> list[str]:
        bad = ", ".join(f"{reason} {n}" for reason, n in sorted(self.dead_letters.items())) or "none"
        events = ", ".join(f"{t} {n}" for t, n in sorted(self.events.items())) or "none"
        return [
            f"simulated {self.publishers} publishers for {self.elapsed_seconds:.1f} s (seed {self.seed}),"
            f" simulated clock at {self.simulated_until}",
            f"sent {self.sent} messages: events {events}",
            f"injected: duplicates {self.duplicates}, late {self.late}, seq gaps {self.gap_total},"
            f" silent publishers {len(self.silent)}",
            f"invalid (dead letters expected): {bad}",
            f"refused by a full queue {self.refused}, unacknowledged at exit {self.unacknowledged}",
        ]


def choose_silent(publishers: Sequence[SimPublisher], count: int, rng: random.Random) -> list[str]:
    """Counters and probes that will go quiet (the portal is one system: its silence is an outage)."""
    candidates = [p.id for p in publishers if p.source != "portal"]
    return sorted(rng.sample(candidates, min(count, len(candidates))))


class Simulation:
    def __init__(
        self,
        publishers: Sequence[SimPublisher],
        senders: dict[str, Sender],
        traffic: Traffic,
        pacing: Pacing,
        rng: random.Random,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._publishers = list(publishers)
        self._senders = senders
        self._traffic = traffic
        self._pacing = pacing
        self._wall_clock = wall_clock
        self._stop = threading.Event()
        self._credit = {p.id: rng.random() for p in publishers}  # a random phase, so they do not send in step
        self._sent = 0
        self._weights = _weights(self._publishers)
        self.simulated_now = pacing.start_local

    def stop(self) -> None:
        """Ends the run at the next tick; safe from a signal handler."""
        self._stop.set()

    def run(self, progress: Callable[[str], None] = lambda line: None) -> float:
        """Sends until the duration has passed or `stop()`; returns the seconds it ran."""
        pacing = self._pacing
        started = last = time.monotonic()
        next_progress = started + pacing.progress_seconds
        silent = set(pacing.silent)
        while not self._stop.is_set():
            now_mono = time.monotonic()
            elapsed = now_mono - started
            if pacing.duration_seconds is not None and elapsed >= pacing.duration_seconds:
                break
            self.simulated_now = pacing.start_local + timedelta(seconds=elapsed * pacing.speed)
            quiet = silent if elapsed >= pacing.quiet_after_seconds else set()
            self._tick(now_mono - last, quiet)
            last = now_mono
            if now_mono >= next_progress:
                next_progress = now_mono + pacing.progress_seconds
                progress(self.progress_line(elapsed))
            self._stop.wait(_TICK_SECONDS)
        return time.monotonic() - started

    def progress_line(self, elapsed: float) -> str:
        t = self._traffic.tally
        rate = self._sent / elapsed if elapsed > 0 else 0.0
        local = self.simulated_now.astimezone(shapes.LOCAL_TIME)
        return (
            f"{local:%a %Y-%m-%d %H:%M} (simulated) | sent {self._sent} ({rate:.1f}/s)"
            f" | faults {sum(t.dead_letters.values())} dup {t.duplicates} late {t.late} gaps {sum(t.gaps.values())}"
            f" | errors {t.refused}"
        )

    @property
    def sent(self) -> int:
        return self._sent

    def _tick(self, dt: float, quiet: set[str]) -> None:
        rate = self._pacing.rate
        now = self._wall_clock()
        local = self.simulated_now.astimezone(shapes.LOCAL_TIME)  # office hours are Đắk Nông's
        for p in self._publishers:
            if p.id in quiet:
                continue
            credit = self._credit[p.id] + rate * self._weights[p.id] * shapes.activity(p.source, local) * dt
            while credit >= 1:
                credit -= 1
                self._send(p, self._traffic.next_messages(p, now))
            self._credit[p.id] = credit

    def _send(self, publisher: SimPublisher, messages: list[Outgoing]) -> None:
        sender = self._senders[publisher.id]
        for message in messages:
            if sender.publish(message.topic, message.payload):
                self._traffic.accepted(publisher, message)
                self._sent += 1
            else:
                self._traffic.refused()


def _weights(publishers: Sequence[SimPublisher]) -> dict[str, float]:
    """Each publisher's share of the total rate at the busiest hour."""
    totals: dict[str, float] = {}
    for p in publishers:
        totals[p.source] = totals.get(p.source, 0.0) + p.weight
    present = sum(SOURCE_SHARES[s] for s in totals)
    return {p.id: SOURCE_SHARES[p.source] / present * p.weight / totals[p.source] for p in publishers}
