"""Which of the engine processes is active: a lease in Redis, held by one token and renewed before it lapses.

The lease is a Redis key holding the active engine's lease token, with a time to live (`SET NX PX`). The
holder renews it with a compare-and-set script (only while the key still holds its token); any other
engine tries to take it at every renewal interval and gets it once it has lapsed. The holder counts
itself active only until the time its last successful renewal was sent plus the time to live: Redis
keeps the key at least that long, so two engines never both count themselves active on one clock.
When the active engine cannot reach Redis it stops acting by that time, and what it might still write
is refused by the token checks (Redis scripts in `frame_sink`, the database in `fencing`).

`Lease` is the pure logic (clock and store passed in, tested with an injected clock);
`RedisLeaseStore` the store; `LeaseKeeper` the thread that steps the lease.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Protocol

import redis

from runtime.redis_names import KPI_ENGINE_LEASE

log = logging.getLogger(__name__)

# Renew or delete only while the key still holds our token (a lapsed lease may be someone else's now).
_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class LeaseStore(Protocol):
    def acquire(self, token: str, ttl_ms: int) -> bool:
        """Take the lease if nobody holds it."""

    def renew(self, token: str, ttl_ms: int) -> bool:
        """Extend the lease if `token` still holds it; False when it does not."""

    def release(self, token: str) -> None:
        """Give the lease up if `token` holds it."""


class RedisLeaseStore:
    def __init__(self, client: redis.Redis, key: str = KPI_ENGINE_LEASE) -> None:
        self._redis = client
        self._key = key
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def acquire(self, token: str, ttl_ms: int) -> bool:
        return bool(self._redis.set(self._key, token, nx=True, px=ttl_ms))

    def renew(self, token: str, ttl_ms: int) -> bool:
        return bool(self._renew(keys=[self._key], args=[token, ttl_ms]))

    def release(self, token: str) -> None:
        self._release(keys=[self._key], args=[token])


class Lease:
    """One engine's view of the lease. `step()` at every renewal interval; `token()` from any thread."""

    def __init__(
        self,
        store: LeaseStore,
        holder: str,
        *,
        ttl_seconds: float,
        renew_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if renew_seconds * 2 > ttl_seconds:
            raise ValueError("the lease must be renewed at least twice within its time to live")
        self._store = store
        self.holder = holder
        self._ttl = ttl_seconds
        self.renew_seconds = renew_seconds
        self._clock = clock
        # (token, valid until) as one value: the engine thread reads it while the keeper replaces it.
        self._held: tuple[str, float] | None = None
        self.acquisitions = 0

    def token(self) -> str | None:
        """The lease token while this engine may act on it; None otherwise."""
        held = self._held
        if held is None or self._clock() >= held[1]:
            return None
        return held[0]

    def step(self) -> None:
        """Renew the lease held, or try to take it. Redis errors propagate (the lease then lapses by
        the clock alone)."""
        sent = self._clock()
        held = self._held
        if held is not None and sent >= held[1]:
            log.warning("the engine lease lapsed before it could be renewed")
            held = self._held = None
        if held is not None:
            if self._store.renew(held[0], self._ttl_ms):
                self._held = (held[0], sent + self._ttl)
            else:
                log.warning("the engine lease is held by another engine now")
                self._held = None
            return
        token = f"{self.holder}:{uuid.uuid4().hex[:12]}"
        if self._store.acquire(token, self._ttl_ms):
            self._held = (token, sent + self._ttl)
            self.acquisitions += 1
            log.info("took the engine lease (%s)", token)

    def lost(self, token: str) -> None:
        """Someone else holds the lease (a fenced write was refused): stop acting on `token`."""
        held = self._held
        if held is not None and held[0] == token:
            self._held = None

    def release(self) -> None:
        """At a clean stop: the standby need not wait for the lease to lapse."""
        held, self._held = self._held, None
        if held is not None:
            self._store.release(held[0])

    @property
    def _ttl_ms(self) -> int:
        return max(1, int(self._ttl * 1000))


class LeaseKeeper:
    """Steps the lease in a thread of its own, so that a long rebuild or flush never lets it lapse."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="engine-lease", daemon=True)
        self._problem = ""

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """End the thread, then give the lease up."""
        self._stopping.set()
        self._thread.join(10)
        try:
            self.lease.release()
        except redis.RedisError as exc:
            log.warning("the engine lease was not released (%s): it lapses by itself", type(exc).__name__)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.lease.step()
                self._problem = ""
            except redis.RedisError as exc:
                problem = type(exc).__name__
                if problem != self._problem:
                    log.error("the engine lease could not be renewed or taken (%s)", problem)
                self._problem = problem
            self._stopping.wait(self.lease.renew_seconds)
