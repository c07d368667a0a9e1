"""Registered publishers: one row per external system or device, and its broker credentials.

A row commits only once the broker has the account (and a disabled one only once the broker refuses
it): a broker that cannot be reached leaves the registry as it was, with a `BrokerUnavailable` error.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from ingest.broker.control import BrokerControlError
from ingest.errors import Conflict, IngestError, Invalid, NotFound, Unavailable
from ingest.registry.actions import Action, record_action
from ingest.registry.names import RESERVED_PREFIX, USERNAME_PATTERN
from runtime.operator_input import reason_problem

SOURCES = ("portal", "payments", "coverage")


@dataclass(frozen=True, slots=True)
class Publisher:
    id: str
    source: str
    area_code: str
    description: str
    created_at: datetime
    disabled_at: datetime | None
    # Retained event messages the broker kept for it, deleted by the sweeper (ingest.service.retained_sweeper).
    retained_cleared: int = 0
    retained_cleared_at: datetime | None = None
    silent_after_seconds: int | None = None  # None: the engine's default
    # Written by ingest (ingest.service.heard_from): its first and latest stored message (event or status).
    first_message_at: datetime | None = None
    last_message_at: datetime | None = None
    maintenance_until: datetime | None = None  # kept after it passes; its state says whether it is in force
    maintenance_reason: str = ""
    maintenance_by: str | None = None
    maintenance_set_at: datetime | None = None


class BrokerAccounts(Protocol):
    """What the registry needs from the broker: a publisher's credentials and rights, and their revocation.
    Implementations raise `BrokerControlError` (ingest.broker.control) when the broker cannot do it."""

    def set_publisher(self, publisher_id: str, source: str, password: str) -> None:
        """Create its account (writing only `ioc/v1/<source>/<id>/#`), or give an existing one this password."""
        ...

    def disable_publisher(self, publisher_id: str) -> None:
        """Refuse its password from now on and disconnect it at once."""
        ...

    def enable_publisher(self, publisher_id: str) -> None:
        """Accept its password again (the one it had when it was disabled)."""
        ...


class PublisherError(IngestError):
    """Base of the registry's errors; the message is fit to show an operator."""


class PublisherExists(PublisherError, Conflict):
    def __init__(self, publisher_id: str) -> None:
        super().__init__(f"publisher {publisher_id} already exists", kind="publisher", key=publisher_id)


class PublisherNotFound(PublisherError, NotFound):
    def __init__(self, publisher_id: str) -> None:
        super().__init__(f"publisher {publisher_id} does not exist", kind="publisher", key=publisher_id)


class InvalidPublisher(PublisherError, Invalid):
    """`field`: the publisher's field refused (id, source, area_code, silent_after_seconds, until, reason)."""


class BrokerUnavailable(PublisherError, Unavailable):
    """The broker could not create or revoke the account; the registry is as it was."""

    def __init__(self, message: str) -> None:
        super().__init__(message, service="broker")


@dataclass(frozen=True, slots=True)
class NewPublisher:
    publisher: Publisher
    password: str  # shown once, never stored in clear


# Every column of `Publisher`, in its order: the rows are read as `Publisher` by name.
COLUMNS = sql.SQL(", ").join(map(sql.Identifier, Publisher.__dataclass_fields__))


class PublisherRepository:
    def __init__(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        self._conn = conn

    def get(self, publisher_id: str, *, lock: bool = False) -> Publisher | None:
        """`lock`: FOR UPDATE, for a change that depends on what it reads (in the caller's transaction)."""
        cur = self._conn.cursor(row_factory=class_row(Publisher))
        query = sql.SQL("SELECT {} FROM publishers WHERE id = %s{}").format(
            COLUMNS, sql.SQL(" FOR UPDATE" if lock else "")
        )
        return cur.execute(query, (publisher_id,)).fetchone()

    def list(self) -> list[Publisher]:
        cur = self._conn.cursor(row_factory=class_row(Publisher))
        return cur.execute(sql.SQL("SELECT {} FROM publishers ORDER BY id").format(COLUMNS)).fetchall()

    def insert(self, publisher_id: str, source: str, area_code: str, description: str) -> Publisher:
        cur = self._conn.cursor(row_factory=class_row(Publisher))
        row = cur.execute(
            sql.SQL(
                "INSERT INTO publishers (id, source, area_code, description) VALUES (%s, %s, %s, %s) RETURNING {}"
            ).format(COLUMNS),
            (publisher_id, source, area_code, description),
        ).fetchone()
        assert row is not None
        return row

    def set_silent_after(self, publisher_id: str, seconds: int | None) -> bool:
        """How long the publisher may stay quiet before it counts as silent (None: the engine's default)."""
        if seconds is not None and seconds <= 0:
            raise InvalidPublisher(
                "the silence threshold must be a positive number of seconds", field="silent_after_seconds"
            )
        cur = self._conn.execute(
            "UPDATE publishers SET silent_after_seconds = %s WHERE id = %s", (seconds, publisher_id)
        )
        return cur.rowcount == 1

    def count_retained_cleared(self, cleared: dict[str, int]) -> None:
        """Add the retained messages just deleted from the broker to each publisher's record."""
        self._conn.cursor().executemany(
            "UPDATE publishers SET retained_cleared = retained_cleared + %s, retained_cleared_at = now() WHERE id = %s",
            [(count, publisher_id) for publisher_id, count in sorted(cleared.items())],
        )

    def disable(self, publisher_id: str) -> Publisher | None:
        cur = self._conn.cursor(row_factory=class_row(Publisher))
        return cur.execute(
            sql.SQL(
                "UPDATE publishers SET disabled_at = coalesce(disabled_at, now()) WHERE id = %s RETURNING {}"
            ).format(COLUMNS),
            (publisher_id,),
        ).fetchone()


def add_publisher(
    conn: psycopg.Connection[tuple[object, ...]],
    accounts: BrokerAccounts,
    publisher_id: str,
    source: str,
    area_code: str,
    description: str = "",
) -> NewPublisher:
    """Register a publisher and create its broker account; the row commits only if both succeed."""
    if not USERNAME_PATTERN.fullmatch(publisher_id):
        raise InvalidPublisher(f"publisher id {publisher_id!r} must match {USERNAME_PATTERN.pattern}", field="id")
    if publisher_id.startswith(RESERVED_PREFIX):
        raise InvalidPublisher(
            f"publisher ids starting with {RESERVED_PREFIX!r} are reserved for the system", field="id"
        )
    if source not in SOURCES:
        raise InvalidPublisher(f"source {source!r} must be one of {', '.join(SOURCES)}", field="source")
    password = secrets.token_urlsafe(18)
    with conn.transaction():
        if not conn.execute("SELECT 1 FROM areas WHERE code = %s", (area_code,)).fetchone():
            raise InvalidPublisher(f"area {area_code!r} is not in the areas table", field="area_code")
        repository = PublisherRepository(conn)
        if repository.get(publisher_id) is not None:
            raise PublisherExists(publisher_id)
        publisher = repository.insert(publisher_id, source, area_code, description)
        on_broker(lambda: accounts.set_publisher(publisher_id, source, password), "nothing was registered")
    return NewPublisher(publisher, password)


def disable_publisher(
    conn: psycopg.Connection[tuple[object, ...]],
    accounts: BrokerAccounts,
    publisher_id: str,
    *,
    actor: str = "system",
    reason: str = "",
) -> Publisher:
    """Mark the publisher disabled (its events become dead letters) and revoke its broker account;
    recorded with who did it and why."""
    reason = reason.strip()
    problem = reason_problem(reason, required=False)
    if problem is not None:
        raise InvalidPublisher(problem, field="reason")
    with conn.transaction():
        publisher = PublisherRepository(conn).disable(publisher_id)
        if publisher is None:
            raise PublisherNotFound(publisher_id)
        record_action(conn, publisher_id, actor, Action.DISABLED, reason)
        on_broker(lambda: accounts.disable_publisher(publisher_id), f"publisher {publisher_id} is still enabled")
    return publisher


def new_password(
    conn: psycopg.Connection[tuple[object, ...]], accounts: BrokerAccounts, publisher_id: str
) -> NewPublisher:
    """A new broker password for a registered publisher, and its role made again: for one that lost its
    password, or whose account an earlier release made (compose: the shared role that refused it all)."""
    publisher = PublisherRepository(conn).get(publisher_id)
    if publisher is None:
        raise PublisherNotFound(publisher_id)
    if publisher.disabled_at is not None:
        raise InvalidPublisher(f"publisher {publisher_id} is disabled", field="id")
    password = secrets.token_urlsafe(18)
    on_broker(lambda: accounts.set_publisher(publisher_id, publisher.source, password), "the old password stays")
    return NewPublisher(publisher, password)


def on_broker(call: Callable[[], None], unchanged: str) -> None:
    try:
        call()
    except BrokerControlError as exc:
        raise BrokerUnavailable(f"{exc}; {unchanged}") from exc
