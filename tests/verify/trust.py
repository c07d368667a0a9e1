"""What the trust scenarios (hostile and careless publishers) share: registered senders, scripted
messages published through the real broker with their ledger, and waiting until ingest has them all."""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from deploy.stack.manager import LocalStack
from ingest.contract import RejectReason
from ingest.registry.publishers import add_publisher
from tests import factories
from tests.fixtures.ingest import wait_for
from tests.fixtures.mqtt import unique_publisher_id
from tests.fixtures.stack import IsolatedDatabase
from tests.verify.accounting import Accounting, account
from tests.verify.poison_publisher import PoisonPublisher, ScriptedMessage

ICT = timezone(timedelta(hours=7))
EVENT_TYPES = {"portal": "dossier", "payments": "transaction", "coverage": "sample"}
BODIES: dict[str, Callable[..., factories.Json]] = {
    "dossier": factories.dossier,
    "transaction": factories.transaction,
    "sample": factories.sample,
}


@dataclass(frozen=True)
class Sender:
    """A registered publisher: its row, its broker account, and the messages it is to send."""

    id: str
    source: str
    password: str
    messages: list[ScriptedMessage]

    @property
    def event_type(self) -> str:
        return EVENT_TYPES[self.source]

    def topic(self, event_type: str | None = None) -> str:
        return f"ioc/v1/{self.source}/{self.id}/{event_type or self.event_type}"

    def body(self, **fields: object) -> factories.Json:
        return BODIES[self.event_type](**fields)

    def add(self, body: factories.Json, reason: RejectReason | None = None, *, joined: bool = True) -> None:
        """Queue `body` (expected to be stored once, or dead-lettered with `reason`). `joined`: the
        accounting joins it to the rows by its id (not for a re-send whose id is rightly stored)."""
        event_id = str(body.get("event_id", "")) if joined else ""
        self.messages.append(ScriptedMessage(self.topic(), factories.encode(body), reason, event_id))

    def add_raw(self, payload: bytes, reason: RejectReason | None, event_id: str, topic: str | None = None) -> None:
        self.messages.append(ScriptedMessage(topic or self.topic(), payload, reason, event_id))

    def expected(self) -> Counter[str | None]:
        return Counter(None if m.reason is None else m.reason.value for m in self.messages)


Register = Callable[[str, str, str], Sender]


def register_sender(stack: LocalStack, database: IsolatedDatabase, prefix: str, source: str, area_code: str) -> Sender:
    publisher_id = unique_publisher_id(prefix)
    with database.connect() as conn:
        password = add_publisher(conn, stack.mosquitto.accounts, publisher_id, source, area_code).password
    return Sender(publisher_id, source, password, [])


def send(stack: LocalStack, senders: Sequence[Sender], seconds: float, ledgers: Path) -> list[Path]:
    """Publishes each sender's queued messages, in order, spread over `seconds` (senders side by
    side), then empties the queues; the ledgers of what the broker acknowledged."""
    publishers = [
        PoisonPublisher(stack.settings.mqtt_port, s.id, s.password, list(s.messages)) for s in senders if s.messages
    ]
    for publisher in publishers:
        publisher.start(seconds)
    for publisher in publishers:
        publisher.join()
    paths = []
    for publisher in publishers:
        ledgers.mkdir(parents=True, exist_ok=True)
        existing = len(list(ledgers.glob(f"{publisher.account}-*.csv")))
        paths.append(publisher.write_ledger(ledgers / f"{publisher.account}-{existing}.csv"))
    for s in senders:
        s.messages.clear()
    return paths


def outcomes(database: IsolatedDatabase, publisher_ids: Sequence[str]) -> tuple[int, int]:
    """Rows in the event tables and dead letters of these publishers."""
    with database.connect() as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM payment_transactions WHERE publisher_id = ANY(%(p)s))"
            " + (SELECT count(*) FROM coverage_samples WHERE publisher_id = ANY(%(p)s))"
            " + (SELECT count(*) FROM portal_dossier_events WHERE publisher_id = ANY(%(p)s)),"
            " (SELECT count(*) FROM dead_letters WHERE publisher_id = ANY(%(p)s))",
            {"p": list(publisher_ids)},
        ).fetchone()
    assert row is not None
    return int(str(row[0])), int(str(row[1]))


def settle(database: IsolatedDatabase, senders: Sequence[Sender], rows: int, letters: int) -> None:
    """Until ingest has stored `rows` events and `letters` dead letters of these senders (or a minute)."""
    ids = [s.id for s in senders]

    def arrived() -> bool:
        stored, dead = outcomes(database, ids)
        return stored >= rows and dead >= letters

    wait_for(arrived, timeout=60, interval=0.2)


def accounted(database: IsolatedDatabase, ledgers: Sequence[Path]) -> Accounting:
    with database.connect() as conn:
        return account(conn, ledgers)


def metric_by_label(port: int, name: str) -> dict[str, float]:
    """A labelled counter on a service's Prometheus page, per value of its one label."""
    values: dict[str, float] = {}
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + "{"):
                labels, value = line.rsplit(" ", 1)
                values[labels.split('"')[1]] = float(value)
    return values


def respelled(body: factories.Json) -> bytes:
    """The same event in other bytes: keys in reverse order, the time in +07:00, other white space."""
    at = datetime.fromisoformat(str(body["occurred_at"])).astimezone(ICT).isoformat()
    return json.dumps(dict(reversed(list((body | {"occurred_at": at}).items()))), indent=1).encode()
