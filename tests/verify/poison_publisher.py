"""Publishes generated bad messages from one broker account at a steady rate, and writes their ledger.

In the test's process (a few hundred messages a second at most, beside the load publishers' valid
stream): each message's line says the reason it must be dead-lettered with, and whether the broker
acknowledged it, in the accounting's format (`accounting.py`). A scripted message may be valid (no
reason: it must be stored once) and may name the event id the accounting joins it on.
"""

from __future__ import annotations

import csv
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ingest.contract import RejectReason
from tests.verify.bad_input import BadMessage


@dataclass(frozen=True)
class ScriptedMessage:
    """A message of a scenario: valid (`reason` None) or not. `event_id` is what the accounting joins
    the stored rows on: empty for a message that must not become a row although its id is stored
    (a conflicting re-send), the payload's own otherwise."""

    topic: str
    payload: bytes
    reason: RejectReason | None
    event_id: str


def unique_by_payload(messages: Iterable[BadMessage]) -> list[BadMessage]:
    """The first of each payload: the accounting matches dead letters by the sender and the payload's hash."""
    seen: set[bytes] = set()
    unique = []
    for message in messages:
        if message.payload not in seen:
            seen.add(message.payload)
            unique.append(message)
    return unique


def event_id_of(payload: bytes) -> str:
    """The event id a payload carries, if it can be read: an invalid message stored by mistake then shows."""
    try:
        body = json.loads(payload)
        return str(uuid.UUID(str(body["event_id"]))) if isinstance(body, dict) else ""
    except (ValueError, KeyError, TypeError, RecursionError):
        return ""


class PoisonPublisher:
    def __init__(
        self, port: int, account: str, password: str, messages: Sequence[BadMessage | ScriptedMessage]
    ) -> None:
        self.account = account
        self.messages = list(messages)
        self._acknowledged = [False] * len(self.messages)
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=account, protocol=mqtt.MQTTv311)
        self._client.username_pw_set(account, password)
        self._client.max_inflight_messages_set(100)
        self._port = port
        self._thread: threading.Thread | None = None
        self.failure: str | None = None

    def start(self, seconds: float) -> PoisonPublisher:
        """Spreads the messages evenly over `seconds`, in a thread of its own."""
        self._client.connect("127.0.0.1", self._port, keepalive=10)
        self._client.loop_start()
        self._thread = threading.Thread(target=self._run, args=(seconds,), name=f"poison-{self.account}", daemon=True)
        self._thread.start()
        return self

    def _run(self, seconds: float) -> None:
        started = time.monotonic()
        infos = []
        try:
            for i, message in enumerate(self.messages):
                ahead = started + seconds * i / len(self.messages) - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
                infos.append(self._client.publish(message.topic, message.payload, qos=1))
            for i, info in enumerate(infos):
                info.wait_for_publish(30)
                self._acknowledged[i] = info.is_published()
        except (RuntimeError, ValueError) as exc:
            self.failure = f"{type(exc).__name__}: {exc}"
        finally:
            self._client.disconnect()
            self._client.loop_stop()

    def join(self, timeout: float = 120.0) -> None:
        assert self._thread is not None
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"{self.account} did not finish publishing"
        assert self.failure is None, self.failure

    def write_ledger(self, path: Path) -> Path:
        with path.open("w", newline="") as out:
            writer = csv.writer(out)
            for i, message in enumerate(self.messages):
                digest = "\\x" + hashlib.sha256(message.payload).hexdigest()
                event_id = message.event_id if isinstance(message, ScriptedMessage) else event_id_of(message.payload)
                reason = "" if message.reason is None else message.reason.value
                writer.writerow((self.account, i + 1, event_id, digest, self._acknowledged[i], reason))
        return path
