"""What the publisher asks of its queue (on disk or in memory), and the in-flight window both share.

A message is taken from the queue to be sent and stays the queue's until it is done (acknowledged by
the broker, or refused by it): the queue's acknowledged position only moves over a prefix of done
messages, so that what a restart sends again is exactly what was not yet acknowledged.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    key: tuple[int, int]  # where it is in its queue (segment and end offset on disk; a counter in memory)
    seq: int  # 0 when the message has none (a raw publish)
    topic: str
    payload: bytes


class EventQueue(Protocol):
    """Thread-safe. `dropped`: messages discarded unsent because the bound was reached."""

    @property
    def dropped(self) -> int: ...

    @property
    def pending(self) -> int:
        """Messages appended and not yet done (unsent or in flight)."""
        ...

    def append(self, topic: str, payload: bytes) -> None: ...

    def append_numbered(self, topic: str, build: Callable[[int], bytes]) -> int:
        """Appends the payload `build(seq)` under the next `seq`, and returns that `seq`."""
        ...

    def take(self, limit: int) -> list[QueuedMessage]:
        """Up to `limit` messages not yet taken, oldest first."""
        ...

    def done(self, message: QueuedMessage) -> None:
        """The broker acknowledged or refused the message: it is not to be sent again."""
        ...

    def abandon_in_flight(self) -> None:
        """Counts as dropped the messages handed to the broker whose part of the queue was dropped
        meanwhile and that were never acknowledged: the publisher is stopping, no one will send them."""
        ...

    def maintain(self) -> None:
        """Periodic upkeep (a durable queue syncs, saves its position and removes finished files)."""
        ...

    def close(self) -> None: ...


@dataclass(slots=True)
class _Flight:
    message: QueuedMessage
    done: bool = False


class Window:
    """Messages taken and not yet done, in the order they were taken."""

    def __init__(self) -> None:
        self._flights: deque[_Flight] = deque()
        self._index: dict[tuple[int, int], _Flight] = {}

    def __len__(self) -> int:
        return len(self._flights)

    def add(self, message: QueuedMessage) -> None:
        flight = _Flight(message)
        self._flights.append(flight)
        self._index[message.key] = flight

    def done(self, message: QueuedMessage) -> list[QueuedMessage]:
        """Marks it done; returns the prefix of done messages that leaves the window (maybe empty)."""
        flight = self._index.pop(message.key, None)
        if flight is None:
            return []  # done twice, or its part of the queue was dropped meanwhile
        flight.done = True
        finished: list[QueuedMessage] = []
        while self._flights and self._flights[0].done:
            finished.append(self._flights.popleft().message)
        return finished

    def forget(self, belongs: Callable[[QueuedMessage], bool]) -> tuple[int, list[QueuedMessage]]:
        """Forgets the messages for which `belongs` is true (their part of the queue was dropped):
        how many, and those of them not yet done."""
        before = len(self._flights)
        unfinished = [f.message for f in self._flights if belongs(f.message) and not f.done]
        self._flights = deque(f for f in self._flights if not belongs(f.message))
        self._index = {f.message.key: f for f in self._flights if not f.done}
        return before - len(self._flights), unfinished
