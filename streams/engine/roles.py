"""Active or standby: what the engine's reading and writing ends do as the lease comes and goes.

The engine thread calls `follow()` once per round. Taking over, in this order: raise the database
fencing token (which waits for the last writes of the engine before), write under it and under the
lease token in Redis, then read through the consumer group from where this engine's state stands. Any
step that fails leaves the engine standby, to try again at the next round. Losing the lease: stop
writing at once (the tokens stay the old ones, so any write still on its way is refused) and follow
the stream without the group.
"""

from __future__ import annotations

import logging

from streams.engine.fencing import WriteFence, raise_token
from streams.engine.frame_sink import FrameSink
from streams.engine.history_writer import HistoryWriter
from streams.engine.lease import Lease
from streams.engine.metrics import EngineMetrics
from streams.engine.rebuild import Connect
from streams.engine.source import StoredEventsSource

log = logging.getLogger(__name__)
_NOT_HELD = "(no lease)"  # a lease token no lease key ever holds: a standby's stray write is refused


class EngineRole:
    def __init__(
        self,
        lease: Lease | None,
        connect: Connect,
        source: StoredEventsSource,
        sink: FrameSink,
        history: HistoryWriter | None,
        metrics: EngineMetrics,
    ) -> None:
        self.lease = lease
        self._connect = connect
        self._source = source
        self._sink = sink
        self._history = history
        self._metrics = metrics
        self.acting: str | None = None  # the lease token it works under
        self.fencing_token: int | None = None
        self.takeovers = 0
        if lease is not None:
            sink.lease_token = _NOT_HELD
            source.follow()
            if history is not None:
                history.fence = history.fence or WriteFence()
        metrics.active.set(1 if self.active else 0)

    @property
    def active(self) -> bool:
        """Holds the lease and works (always, without a lease)."""
        return self.lease is None or self.acting is not None

    @property
    def name(self) -> str:
        return "active" if self.active else "standby"

    def follow(self) -> bool:
        """Follow the lease; True when this engine has just taken over (the caller starts a new epoch)."""
        if self.lease is None:
            return False
        token = self.lease.token()
        if token == self.acting:
            return False
        if self.acting is not None:
            self._demote()
        if token is None:
            return False
        self._take_over(token)
        return True

    def lost(self) -> None:
        """Redis refused a write under the lease token: another engine has the lease."""
        if self.lease is not None and self.acting is not None:
            self._metrics.fenced_writes.labels("redis").inc()
            self.lease.lost(self.acting)
            self._demote()

    def _take_over(self, token: str) -> None:
        assert self.lease is not None
        fencing = raise_token(self._connect, self.lease.holder)
        if self._history is not None and self._history.fence is not None:
            self._history.fence.token = fencing
        self._sink.lease_token = token
        self._source.join_group()
        self.acting, self.fencing_token = token, fencing
        self.takeovers += 1
        self._metrics.takeovers.inc()
        self._metrics.active.set(1)
        self._metrics.fencing_token.set(fencing)
        log.warning("this engine is the active one now (lease %s, fencing token %d)", token, fencing)

    def _demote(self) -> None:
        log.error("this engine lost the lease (%s): standby, it publishes and writes nothing", self.acting)
        self.acting = None
        if self._history is not None and self._history.fence is not None:
            self._history.fence.token = None
        self._source.follow()
        self._metrics.active.set(0)
