"""One simulator run end to end: plan the publishers, register them, connect, send, close, summarise."""

from __future__ import annotations

import logging
import random
import secrets
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from ingest.broker.control import BrokerControlError
from ingest.registry.publishers import BrokerAccounts, PublisherError
from tools.simulator.areas import load_places, plan_publishers, select_scope
from tools.simulator.publishers import PublisherClient, register
from tools.simulator.runner import Pacing, Simulation, Summary, choose_silent
from tools.simulator.shapes import LOCAL_TIME
from tools.simulator.traffic import FaultRates, Traffic

log = logging.getLogger(__name__)
_CONNECT_TIMEOUT_SECONDS = 15.0
_DRAIN_TIMEOUT_SECONDS = 15.0


class SimulationError(RuntimeError):
    """The run could not start (areas, registry or broker); the message is fit for an operator."""


@dataclass(frozen=True)
class SimulationConfig:
    rate: float = 5.0
    duration_seconds: float | None = None
    speed: float = 1.0
    seed: int | None = None
    faults: FaultRates = field(default_factory=FaultRates)
    silent: int = 0
    communes: tuple[str, ...] = ()
    prefix: str = "sim"
    start_local: datetime | None = None  # the simulated clock's start; default: now in Đắk Nông
    silent_after_seconds: int | None = None  # the publishers' silence threshold; None: the engine's default
    quiet_after_seconds: float | None = None  # when the silent ones stop; default a third of the run, at most 60 s
    clear_status: bool = False  # remove the retained statuses at the end (tests)
    progress_seconds: float = 1.0


class SimulationSession:
    def __init__(
        self,
        connect: Callable[[], psycopg.Connection[tuple[object, ...]]],
        accounts: BrokerAccounts,
        mqtt_host: str,
        mqtt_port: int,
        config: SimulationConfig,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._config = config
        self.seed = config.seed if config.seed is not None else secrets.randbelow(2**31)
        rng = random.Random(self.seed)
        with connect() as conn:
            try:
                scope = select_scope(load_places(conn), config.communes)
            except (ValueError, StopIteration) as exc:
                raise SimulationError(
                    f"cannot simulate these areas: {exc or 'no province in the areas table'}"
                ) from None
            self.publishers = plan_publishers(scope, config.prefix)
            try:
                registered = register(conn, accounts, self.publishers, config.silent_after_seconds)
            except (PublisherError, BrokerControlError, ValueError) as exc:
                raise SimulationError(f"cannot register the simulated publishers: {exc}") from None
        self._clients = {
            p.id: PublisherClient(p, registered[p.id][0], mqtt_host, mqtt_port, tls) for p in self.publishers
        }
        last_seq = {pid: seq for pid, (_, seq) in registered.items()}
        self._traffic = Traffic(scope, rng, config.faults, config.speed, last_seq)
        duration = config.duration_seconds
        quiet_after = config.quiet_after_seconds
        if quiet_after is None:
            quiet_after = min(60.0, duration / 3) if duration else 60.0
        pacing = Pacing(
            rate=config.rate,
            duration_seconds=duration,
            speed=config.speed,
            start_local=config.start_local or datetime.now(LOCAL_TIME),
            silent=choose_silent(self.publishers, config.silent, rng),
            quiet_after_seconds=quiet_after,
            progress_seconds=config.progress_seconds,
        )
        self.silent = list(pacing.silent)
        self.simulation = Simulation(self.publishers, dict(self._clients), self._traffic, pacing, rng)

    def stop(self) -> None:
        self.simulation.stop()

    def run(self, progress: Callable[[str], None] = lambda line: None) -> Summary:
        clients = list(self._clients.values())
        for client in clients:
            client.start()
        try:
            # One deadline for all: a broker that is down costs the timeout once, not once per publisher.
            deadline = time.monotonic() + _CONNECT_TIMEOUT_SECONDS
            for client in clients:
                if not client.wait_connected(deadline):
                    raise SimulationError(f"publisher {client.publisher.id} could not connect to the broker")
            progress(f"{len(clients)} publishers connected")
            elapsed = self.simulation.run(progress)
        finally:
            for client in clients:
                client.announce_offline(self._config.clear_status)
            deadline = time.monotonic() + _DRAIN_TIMEOUT_SECONDS
            undelivered = sum(0 if c.wait_drained(deadline) else c.pending for c in clients)
            for client in clients:
                client.disconnect()
        t = self._traffic.tally
        return Summary(
            seed=self.seed,
            publishers=len(self.publishers),
            elapsed_seconds=round(elapsed, 3),
            sent=self.simulation.sent,
            events=dict(t.events),
            duplicates=t.duplicates,
            late=t.late,
            gaps=dict(t.gaps),
            dead_letters=dict(t.dead_letters),
            silent=self.silent,
            refused=t.refused,
            unacknowledged=undelivered,
            simulated_until=f"{self.simulation.simulated_now.astimezone(LOCAL_TIME):%Y-%m-%d %H:%M %z}",
        )
