"""A PostgreSQL proxy that resets the connection exactly around COMMIT.

psycopg ends a transaction with the simple-query message `Q` "COMMIT". Every `every`-th time the
proxy sees it, it cuts the connection (both ways, with a TCP reset), alternating two moments:
- before: the COMMIT never reaches the server, which rolls the transaction back;
- after: the COMMIT reaches the server and its answer arrives, but the client never gets it: the
  transaction committed and the client cannot know.
The client sees the same error in both cases, so a client that acknowledged on either would lose
messages in the first; the accounting shows it.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading

from tests.fixtures.proxy import TcpProxy

_COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"
_ANSWER_TIMEOUT_SECONDS = 5.0


class CommitCutter(TcpProxy):
    def __init__(self, target_port: int, every: int, cuts: int) -> None:
        self._every = every
        self._cuts_left = cuts
        self._tails: dict[socket.socket, bytes] = {}
        self._lock = threading.Lock()
        self.commits_seen = 0
        self.cut_before = 0
        self.cut_after = 0
        super().__init__(target_port)

    @property
    def cuts(self) -> int:
        with self._lock:
            return self.cut_before + self.cut_after

    def _relay(self, selector: selectors.BaseSelector, source: socket.socket, sink: socket.socket, data: bytes) -> None:
        if source not in self._clients:
            super()._relay(selector, source, sink, data)
            return
        # The message may arrive split across reads: look at the last bytes of the previous read too.
        tail = self._tails.get(source, b"")
        at = (tail + data).find(_COMMIT)
        self._tails[source] = data[-(len(_COMMIT) - 1) :]
        if at < 0:
            super()._relay(selector, source, sink, data)
            return
        self.commits_seen += 1
        if self._cuts_left == 0 or self.commits_seen % self._every:
            super()._relay(selector, source, sink, data)
            return
        self._cuts_left -= 1
        pair = (source, sink)
        if (self.cut_before + self.cut_after) % 2 == 0:
            super()._relay(selector, source, sink, data[: max(0, at - len(tail))])
            with self._lock:
                self.cut_before += 1
        else:
            super()._relay(selector, source, sink, data)
            self._await_answer(sink)
            with self._lock:
                self.cut_after += 1
        self._tails.pop(source, None)
        self._reset_pair(selector, pair)
        self._pairs = [p for p in self._pairs if source not in p]

    @staticmethod
    def _await_answer(upstream: socket.socket) -> None:
        """Wait until the server answered the COMMIT (its answer is dropped with the connection)."""
        upstream.settimeout(_ANSWER_TIMEOUT_SECONDS)
        with contextlib.suppress(OSError):
            upstream.recv(65536)
