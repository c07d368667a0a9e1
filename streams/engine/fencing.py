"""Fencing of the engine's database writes by a monotonically increasing token (`engine_lease`, migration 0018).

The engine that takes the lease raises the token by one (`raise_token`) before it writes anything.
Every transaction that writes history or alerts first calls `WriteFence.check` in the same
transaction: it reads the row FOR SHARE and refuses (`FencedOut`) unless the token is still the
writer's own. The row lock makes the raise wait for the writes under way, so no write of an engine
that has lost the lease commits after the next engine took over, even one cut off from Redis that has
not noticed yet.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

LEASE_NAME = "kpi-engine"
_RAISE = "UPDATE engine_lease SET token = token + 1, holder = %s, acquired_at = now() WHERE name = %s RETURNING token"
_CHECK = "SELECT token FROM engine_lease WHERE name = %s FOR SHARE"


class FencedOut(RuntimeError):
    """A write refused: another engine holds the lease now (or this one holds none)."""


def raise_token(connect: Callable[[], psycopg.Connection[tuple[object, ...]]], holder: str) -> int:
    """The new fencing token, raised for `holder` (waits for writes under the old token to end)."""
    with connect() as conn, conn.transaction():
        conn.execute("SET LOCAL lock_timeout = '2s'")  # a writer stuck on a dead link: retried
        row = conn.execute(_RAISE, (holder, LEASE_NAME)).fetchone()
    if row is None:
        raise FencedOut("no engine_lease row: run `ioc db migrate`")
    return int(str(row[0]))


class WriteFence:
    """The fencing token this engine writes under; None while it is standby (it writes nothing then)."""

    def __init__(self) -> None:
        self.token: int | None = None

    def check(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        """Call inside the writing transaction, before its writes."""
        token = self.token
        if token is None:
            raise FencedOut("standby: it writes nothing")
        row = conn.execute(_CHECK, (LEASE_NAME,)).fetchone()
        if row is None or int(str(row[0])) != token:
            raise FencedOut(f"fencing token {token} is no longer current ({None if row is None else row[0]})")
