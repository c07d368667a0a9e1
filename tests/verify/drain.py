"""Poison for the integration scenario (generated bad messages from two broker accounts), and the
drain of a backlog by ingest, measured two ways.

Wall clock: valid events over the span of `received_at` of the drain. On a machine whose two cores
other jobs share, that span moves by half between two identical runs; so the drain is also measured
in CPU time — the ingest service's thread and its database session — which the neighbours barely
move: valid events stored per CPU-second is the figure the scenario holds to 95 %. Every drain adds
to the tables and their indexes, so later drains are slower: clean and mixed drains alternate as
clean, mixed, mixed, clean (and again), which cancels that drift, and each kind is pooled.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import strategies as st

from deploy.stack.manager import LocalStack
from ingest.contract import RejectReason, Source
from ingest.registry.publishers import add_publisher
from ingest.storage.event_tables import SHIPPED_CHUNK_INTERVALS
from tests import factories
from tests.fixtures.ingest import IngestAccount, run_ingest, wait_for
from tests.fixtures.mqtt import unique_publisher_id
from tests.fixtures.stack import IsolatedDatabase
from tests.verify.bad_input import (
    BadMessage,
    Publisher,
    areas_outside,
    decoder_classes,
    unknown_areas,
    valid_from,
)
from tests.verify.conftest import LoadRun, StartLoad
from tests.verify.poison_publisher import PoisonPublisher, unique_by_payload
from tests.verify.test_bad_input import run_examples

SKEW = timedelta(seconds=300)  # the service's default IOC_INGEST_MAX_FUTURE_SKEW_SECONDS
BACKLOG_RATE = 10_000
_TICKS = os.sysconf("SC_CLK_TCK")


POISON_AREA = "24615"  # the registered poison publisher's commune: its villages are its too


@dataclass
class Poison:
    """Two poison accounts: one registered (payments, every class but the sender's), one unknown."""

    registered: PoisonPublisher
    unregistered: PoisonPublisher

    @property
    def publishers(self) -> tuple[PoisonPublisher, PoisonPublisher]:
        return self.registered, self.unregistered

    def count(self) -> int:
        return len(self.registered.messages) + len(self.unregistered.messages)


def generate(strategies: Sequence[st.SearchStrategy[BadMessage]], count: int) -> list[BadMessage]:
    made: list[BadMessage] = []
    per_class = count // len(strategies) + 1
    for strategy in strategies:
        run_examples(strategy, per_class, lambda m: made.append(m) if isinstance(m, BadMessage) else None)
    return made


def make_poison(
    stack: LocalStack, database: IsolatedDatabase, areas: Sequence[str], count: int, accounts: list[str]
) -> Poison:
    now = datetime.now(UTC)
    registered = Publisher(unique_publisher_id("poison"), Source.PAYMENTS)
    unknown = Publisher(unique_publisher_id("nobody"), Source.COVERAGE)
    accounts += [registered.id, unknown.id]
    with database.connect() as conn:
        password = add_publisher(conn, stack.mosquitto.accounts, registered.id, "payments", POISON_AREA).password
        rows = conn.execute("SELECT code FROM areas WHERE %s IN (code, parent_code)", (POISON_AREA,)).fetchall()
    own = {str(code) for (code,) in rows}
    oldest = min(factories.intake_rules().oldest_kept(now, SHIPPED_CHUNK_INTERVALS).values())
    classes = decoder_classes(registered, now, areas, SKEW, timedelta(days=1), oldest)
    strategies = [
        *classes.values(),
        unknown_areas(registered, now, areas),
        areas_outside(registered, now, [a for a in areas if a not in own]),
    ]
    unknown_password = "pw-" + uuid.uuid4().hex
    stack.mosquitto.accounts.set_publisher(unknown.id, unknown.source.value, unknown_password)  # not registered
    port = stack.settings.mqtt_port
    # The broker refuses (PUBACK 0x87) what is not under the publisher's own source and id: another
    # source (`source_mismatch`), or one that does not exist (part of `topic_invalid`). Never sent here.
    mine = f"ioc/v1/{registered.source.value}/{registered.id}"
    generated = generate(strategies, count - count // 20)
    registered_messages = unique_by_payload([m for m in generated if m.topic == mine or m.topic.startswith(mine + "/")])
    unknown_messages = unique_by_payload(
        generate([valid_from(unknown, now, areas, RejectReason.UNKNOWN_PUBLISHER)], count // 20)
    )
    return Poison(
        PoisonPublisher(port, registered.id, password, registered_messages),
        PoisonPublisher(port, unknown.id, unknown_password, unknown_messages),
    )


def known_areas(database: IsolatedDatabase) -> list[str]:
    with database.connect() as conn:
        return [str(code) for (code,) in conn.execute("SELECT code FROM areas ORDER BY code")]


def dead_letters_of(database: IsolatedDatabase, poison: Poison) -> int:
    with database.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM dead_letters WHERE publisher_id = ANY(%s)", ([p.account for p in poison.publishers],)
        ).fetchone()
    assert row is not None
    return int(str(row[0]))


@dataclass
class Drain:
    valid: LoadRun
    poison: Poison | None
    stored: int  # valid events
    span_seconds: float  # from the first message ingest took to the last
    ingest_cpu_seconds: float  # of the ingest service's thread
    database_cpu_seconds: float  # of its database session

    @property
    def cpu_seconds(self) -> float:
        return self.ingest_cpu_seconds + self.database_cpu_seconds

    @property
    def wall_rate(self) -> float:
        return self.stored / self.span_seconds


def pooled(drains: Sequence[Drain]) -> tuple[float, float]:
    """Valid events stored per CPU-second and per second over several drains."""
    stored = sum(d.stored for d in drains)
    return stored / sum(d.cpu_seconds for d in drains), stored / sum(d.span_seconds for d in drains)


def drain_backlog(
    stack: LocalStack,
    database: IsolatedDatabase,
    account: IngestAccount,
    start_load: StartLoad,
    backlog: int,
    poison: Poison | None,
) -> Drain:
    """Queues `backlog` valid events (and the poison) on the broker while ingest is away, then lets the
    ingest service (in a thread of this process, to read its CPU time) store them all."""
    seconds = backlog / BACKLOG_RATE
    for publisher in poison.publishers if poison else ():
        publisher.start(seconds)
    valid = start_load(BACKLOG_RATE, seconds)
    valid.wait()
    for publisher in poison.publishers if poison else ():
        publisher.join()
    ingest = run_ingest(stack, database, account)
    try:
        assert wait_for(lambda: valid.stored_rows(database) >= valid.sent(), timeout=120, interval=0.2)
        if poison:
            assert wait_for(lambda: dead_letters_of(database, poison) >= poison.count(), timeout=60, interval=0.2)
        session_cpu = _session_cpu_seconds(database)
    finally:
        ingest.stop()
    stored = valid.stored_rows(database)
    return Drain(valid, poison, stored, _span_seconds(database, valid, poison), ingest.cpu_seconds, session_cpu)


def _span_seconds(database: IsolatedDatabase, valid: LoadRun, poison: Poison | None) -> float:
    """From the first message ingest took to the last (`received_at` of event rows and dead letters)."""
    senders = valid.publisher_ids + ([p.account for p in poison.publishers] if poison else [])
    with database.connect() as conn:
        row = conn.execute(
            "SELECT extract(epoch FROM max(t) - min(t)) FROM ("
            " SELECT received_at AS t FROM payment_transactions WHERE publisher_id = ANY(%(p)s)"
            " UNION ALL SELECT received_at FROM coverage_samples WHERE publisher_id = ANY(%(p)s)"
            " UNION ALL SELECT received_at FROM dead_letters WHERE publisher_id = ANY(%(p)s)) received",
            {"p": senders},
        ).fetchone()
    assert row is not None
    assert row[0] is not None
    return float(str(row[0]))


def _session_cpu_seconds(database: IsolatedDatabase) -> float:
    """CPU time of the database's other client sessions (the ingest service's), from /proc."""
    with database.connect() as conn:
        pids = [int(str(pid)) for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )]  # fmt: skip
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    return total
