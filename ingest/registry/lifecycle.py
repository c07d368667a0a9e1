"""An operator's changes to a publisher's lifecycle: maintenance, enable, silent-after; each recorded.

Each change and its record in `publisher_actions` commit in one transaction. Disabling is in
`ingest.registry.publishers` with registering, since both change the broker account.
"""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg import sql

from ingest.registry.actions import Action, record_action
from ingest.registry.publishers import (
    BrokerAccounts,
    Publisher,
    PublisherNotFound,
    PublisherRepository,
    on_broker,
)
from ingest.registry.states import checked_reason, checked_silent_after, checked_until, in_maintenance

Connection = psycopg.Connection[tuple[object, ...]]


def set_maintenance(
    conn: Connection, publisher_id: str, until: datetime, reason: str, *, actor: str, now: datetime
) -> Publisher:
    """In maintenance until `until` (no silent-publisher alert meanwhile); it ends by itself then."""
    until, reason = checked_until(until, now), checked_reason(reason)
    with conn.transaction():
        _update(
            conn, publisher_id,
            {"maintenance_until": until, "maintenance_reason": reason, "maintenance_by": actor,
             "maintenance_set_at": now},
        )  # fmt: skip
        record_action(conn, publisher_id, actor, Action.MAINTENANCE_SET, f"until {until.isoformat()}: {reason}")
    return _get(conn, publisher_id)


def end_maintenance(conn: Connection, publisher_id: str, *, actor: str, now: datetime) -> Publisher:
    """End a maintenance in force now; a publisher not in maintenance is left as it is (and nothing is recorded)."""
    with conn.transaction():
        publisher = _get(conn, publisher_id, lock=True)
        if not in_maintenance(publisher, now):
            return publisher
        _update(conn, publisher_id, {"maintenance_until": now})
        record_action(conn, publisher_id, actor, Action.MAINTENANCE_ENDED, f"set by {publisher.maintenance_by}")
    return _get(conn, publisher_id)


def enable_publisher(
    conn: Connection, accounts: BrokerAccounts, publisher_id: str, *, actor: str, reason: str = ""
) -> Publisher:
    """Enable a disabled publisher and its broker account (its old password); the row commits only
    once the broker accepts the account again."""
    reason = checked_reason(reason, required=False)
    with conn.transaction():
        publisher = _get(conn, publisher_id, lock=True)
        if publisher.disabled_at is None:
            return publisher
        _update(conn, publisher_id, {"disabled_at": None})
        record_action(conn, publisher_id, actor, Action.ENABLED, reason)
        on_broker(lambda: accounts.enable_publisher(publisher_id), f"publisher {publisher_id} is still disabled")
    return _get(conn, publisher_id)


def set_silent_after(conn: Connection, publisher_id: str, seconds: int | None, *, actor: str) -> Publisher:
    """How long it may stay quiet before it counts as silent; None: the engine's default."""
    if seconds is not None:
        checked_silent_after(seconds)
    with conn.transaction():
        _update(conn, publisher_id, {"silent_after_seconds": seconds})
        record_action(
            conn, publisher_id, actor, Action.SILENT_AFTER_SET, "default" if seconds is None else f"{seconds} s"
        )
    return _get(conn, publisher_id)


def _update(conn: Connection, publisher_id: str, assignments: dict[str, object]) -> None:
    query = sql.SQL("UPDATE publishers SET {} WHERE id = %s").format(
        sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(column)) for column in assignments)
    )
    cur = conn.execute(query, (*assignments.values(), publisher_id))
    if cur.rowcount != 1:
        raise PublisherNotFound(publisher_id)


def _get(conn: Connection, publisher_id: str, *, lock: bool = False) -> Publisher:
    found = PublisherRepository(conn).get(publisher_id, lock=lock)
    if found is None:
        raise PublisherNotFound(publisher_id)
    return found
