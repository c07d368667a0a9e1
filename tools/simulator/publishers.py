"""The simulated publishers on the broker: registered like real ones, each on the reference publisher
library (`publisher/`), the one integrators use.

Each connects with its own broker credentials (QoS 1, MQTT 5) and the library does what a real
publisher does: `online` retained on every connect, `offline` as its last will with the same `at`,
`offline` again on a clean stop after what was queued, messages acknowledged one by one. The
`offline` status expires from the broker after `OFFLINE_EXPIRY_SECONDS` (MQTT 5 message expiry): the
ingest, subscribed, has it at once, and a stopped simulator leaves no retained status of publishers
that a later subscriber's registry does not know (the test suite's, on the same local broker as
`make up`). `ioc services stop` therefore stops the simulator before the ingest.
The simulator keeps the library's queue in memory, not on disk: it makes its own `seq` and faults,
and nothing of a simulated run needs to survive it. The queue is bounded: a publish that finds
`QUEUE_LIMIT` messages unacknowledged is refused and counted, never buffered.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable

import psycopg

from ingest.registry.publishers import BrokerAccounts, PublisherRepository, add_publisher, new_password
from publisher import MemoryQueue, Publisher, PublisherConfig
from tools.simulator.areas import SimPublisher

OFFLINE_EXPIRY_SECONDS = 10
QUEUE_LIMIT = 2000  # per client: at the simulator's rates, seconds of a broker outage
_LAST_SEQ = (
    "SELECT coalesce(max(seq), 0) FROM (SELECT max(seq) AS seq FROM portal_dossier_events WHERE publisher_id = %(p)s"
    " UNION ALL SELECT max(seq) FROM payment_transactions WHERE publisher_id = %(p)s"
    " UNION ALL SELECT max(seq) FROM coverage_samples WHERE publisher_id = %(p)s) AS latest"
)


def register(
    conn: psycopg.Connection[tuple[object, ...]],
    accounts: BrokerAccounts,
    planned: Iterable[SimPublisher],
    silent_after_seconds: int | None,
) -> dict[str, tuple[str, int]]:
    """Registers each publisher (or, if it exists from an earlier run, gives it a new broker password)
    and returns its password and the last `seq` stored for it, so a new run carries on counting."""
    repository = PublisherRepository(conn)
    out: dict[str, tuple[str, int]] = {}
    for p in planned:
        existing = repository.get(p.id)
        if existing is None:
            password = add_publisher(conn, accounts, p.id, p.source, p.area_code, "simulated by ioc simulate").password
        else:
            if existing.disabled_at is not None:
                raise ValueError(f"publisher {p.id} is disabled; enable it or choose another --prefix")
            password = new_password(conn, accounts, p.id).password
        repository.set_silent_after(p.id, silent_after_seconds)
        row = conn.execute(_LAST_SEQ, {"p": p.id}).fetchone()
        out[p.id] = (password, int(str(row[0])) if row else 0)
    return out


class PublisherClient:
    def __init__(
        self, publisher: SimPublisher, password: str, host: str, port: int, tls: ssl.SSLContext | None = None
    ) -> None:
        self.publisher = publisher
        config = PublisherConfig(
            publisher.id, password, publisher.source, host=host, port=port, tls_context=tls,
            offline_expiry_seconds=OFFLINE_EXPIRY_SECONDS,
        )  # fmt: skip
        self._library = Publisher(config, MemoryQueue())
        self._clear_status = False

    def start(self) -> None:
        self._library.start()

    def wait_connected(self, deadline: float) -> bool:
        """Until the first CONNACK, or the `time.monotonic()` deadline."""
        return self._library.wait_connected(max(0.0, deadline - time.monotonic()))

    def publish(self, topic: str, payload: bytes) -> bool:
        """Queues a message (QoS 1, sent in order); False when `QUEUE_LIMIT` wait unacknowledged."""
        if self._library.stats.pending >= QUEUE_LIMIT:
            return False
        self._library.publish_raw(topic, payload)
        return True

    @property
    def pending(self) -> int:
        return self._library.stats.pending

    @property
    def acknowledged(self) -> int:
        return self._library.stats.acknowledged

    def announce_offline(self, clear_status: bool = False) -> None:
        """The run is over: `offline` goes out at `disconnect()`, after what is queued; `clear_status`
        then removes the retained status altogether (tests: a later subscriber on the same broker
        must not receive it)."""
        self._clear_status = clear_status

    def wait_drained(self, deadline: float) -> bool:
        """Until the broker acknowledged everything queued, or the `time.monotonic()` deadline; at
        once for a client that is not connected (nothing of it can be acknowledged)."""
        return self._library.wait_drained(max(0.0, deadline - time.monotonic()))

    def disconnect(self) -> None:
        self._library.stop(drain_seconds=0, clear_status=self._clear_status)
