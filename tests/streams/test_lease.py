"""The engine lease's logic with an injected clock: one holder at a time, renewal, lapse, takeover.

The store here keeps the lease key as Redis would (a value with an expiry on the same clock), so that
the logic is tested alone; `test_failover.py` runs the real Redis store and two real engines.
"""

from __future__ import annotations

import contextlib

import pytest
import redis

from streams.engine.lease import Lease


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class KeyWithExpiry:
    """The lease key as Redis keeps it: a token and the time it expires; `reachable` False: Redis is cut off."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.value: str | None = None
        self.expires = 0.0
        self.reachable = True

    def _current(self) -> str | None:
        if not self.reachable:
            raise redis.ConnectionError("cut off")
        return self.value if self._clock() < self.expires else None

    def acquire(self, token: str, ttl_ms: int) -> bool:
        if self._current() is not None:
            return False
        self.value, self.expires = token, self._clock() + ttl_ms / 1000
        return True

    def renew(self, token: str, ttl_ms: int) -> bool:
        if self._current() != token:
            return False
        self.expires = self._clock() + ttl_ms / 1000
        return True

    def release(self, token: str) -> None:
        if self._current() == token:
            self.value = None


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def key(clock: Clock) -> KeyWithExpiry:
    return KeyWithExpiry(clock)


def _lease(key: KeyWithExpiry, clock: Clock, holder: str) -> Lease:
    return Lease(key, holder, ttl_seconds=2.0, renew_seconds=0.5, clock=clock)


def _step(lease: Lease) -> None:
    # What the keeper thread does on a Redis error: log, and try again at the next interval.
    with contextlib.suppress(redis.ConnectionError):
        lease.step()


def test_one_holder_and_renewal_keeps_it(key: KeyWithExpiry, clock: Clock) -> None:
    a, b = _lease(key, clock, "a"), _lease(key, clock, "b")
    a.step()
    b.step()
    token = a.token()
    assert token is not None
    assert token.startswith("a:")
    assert b.token() is None
    for _ in range(20):  # 10 s of renewals every 0.5 s: a keeps the same token, b never gets it
        clock.now += 0.5
        a.step()
        b.step()
        assert a.token() == token
        assert b.token() is None
    assert (a.acquisitions, b.acquisitions) == (1, 0)


def test_the_standby_takes_over_once_the_lease_lapses(key: KeyWithExpiry, clock: Clock) -> None:
    a, b = _lease(key, clock, "a"), _lease(key, clock, "b")
    a.step()
    clock.now += 0.5
    a.step()  # last renewal at 1000.5: valid until 1002.5
    # a dies. b keeps trying every 0.5 s; it may not have the lease before it lapsed in Redis.
    took_at = None
    while took_at is None:
        clock.now += 0.5
        b.step()
        if b.token() is not None:
            took_at = clock.now
    assert took_at == pytest.approx(1002.5)
    assert b.token() is not None
    assert b.token() != a.token()


def test_a_holder_cut_off_stops_acting_before_the_standby_can_take_over(key: KeyWithExpiry, clock: Clock) -> None:
    a, b = _lease(key, clock, "a"), _lease(key, clock, "b")
    a.step()
    first = a.token()
    key.reachable = False
    stopped_acting = None
    while stopped_acting is None:
        clock.now += 0.1
        _step(a)  # renewals fail: a keeps acting only until its last successful renewal plus the TTL
        if a.token() is None:
            stopped_acting = clock.now
    assert stopped_acting == pytest.approx(1002.0)
    key.reachable = True
    b.step()
    assert b.token() is not None  # the key lapsed at 1002.0 too: never two holders at one instant
    a.step()  # a reconnects: its old token is gone, and it cannot take the lease back
    assert a.token() is None
    assert key.value == b.token()
    assert key.value != first


def test_a_renewal_answered_no_ends_the_lease_at_once(key: KeyWithExpiry, clock: Clock) -> None:
    a = _lease(key, clock, "a")
    a.step()
    key.value = "someone-else:0"  # e.g. Redis restarted empty and another engine took the lease
    clock.now += 0.5
    a.step()
    assert a.token() is None


def test_lost_and_release(key: KeyWithExpiry, clock: Clock) -> None:
    a, b = _lease(key, clock, "a"), _lease(key, clock, "b")
    a.step()
    token = a.token()
    assert token is not None
    a.lost("not-this-one")
    assert a.token() == token  # only its own token counts
    a.release()
    assert a.token() is None
    assert key.value is None
    b.step()  # no TTL to wait after a clean stop
    assert b.token() is not None


@pytest.mark.parametrize(("ttl", "renew"), [(2.0, 1.5), (1.0, 0.6)])
def test_refuses_a_renewal_interval_longer_than_half_the_ttl(
    key: KeyWithExpiry, clock: Clock, ttl: float, renew: float
) -> None:
    with pytest.raises(ValueError, match="renewed at least twice"):
        Lease(key, "a", ttl_seconds=ttl, renew_seconds=renew, clock=clock)
