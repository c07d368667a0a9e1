"""A queue in memory with the disk queue's interface: for tests and for simulators that need no
durability (nothing survives the process). Bounded by bytes of unsent messages; the oldest unsent
are dropped, and counted, when a new message would pass the bound."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from publisher.queue_base import QueuedMessage, Window


class MemoryQueue:
    def __init__(self, max_bytes: int = 100 * 2**20, first_seq: int = 1) -> None:
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._unsent: deque[QueuedMessage] = deque()
        self._unsent_bytes = 0
        self._window = Window()
        self._next_seq = first_seq
        self._counter = 0
        self._dropped = 0

    @property
    def dropped(self) -> int:
        with self._lock:
            return self._dropped

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._unsent) + len(self._window)

    def append(self, topic: str, payload: bytes) -> None:
        with self._lock:
            self._push(0, topic, payload)

    def append_numbered(self, topic: str, build: Callable[[int], bytes]) -> int:
        with self._lock:
            seq = self._next_seq
            self._push(seq, topic, build(seq))
            self._next_seq += 1
            return seq

    def take(self, limit: int) -> list[QueuedMessage]:
        with self._lock:
            taken: list[QueuedMessage] = []
            while self._unsent and len(taken) < limit:
                message = self._unsent.popleft()
                self._unsent_bytes -= _size(message)
                self._window.add(message)
                taken.append(message)
            return taken

    def done(self, message: QueuedMessage) -> None:
        with self._lock:
            self._window.done(message)

    def abandon_in_flight(self) -> None:
        """Only unsent messages are ever dropped here: none is in flight without its place."""

    def maintain(self) -> None:
        """Nothing to keep up in memory."""

    def close(self) -> None:
        """Nothing to save: what is unsent is lost with the process."""

    def _push(self, seq: int, topic: str, payload: bytes) -> None:
        self._counter += 1
        message = QueuedMessage((0, self._counter), seq, topic, payload)
        size = _size(message)
        if size > self._max_bytes:
            raise ValueError(f"a message of {size} bytes cannot fit a queue of {self._max_bytes}")
        while self._unsent and self._unsent_bytes + size > self._max_bytes:
            self._unsent_bytes -= _size(self._unsent.popleft())
            self._dropped += 1
        self._unsent.append(message)
        self._unsent_bytes += size


def _size(message: QueuedMessage) -> int:
    return len(message.payload) + len(message.topic)
