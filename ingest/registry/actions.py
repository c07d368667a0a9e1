"""Who did what to a publisher, when and why (table `publisher_actions`): the audit trail of operators' changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import psycopg
from psycopg.rows import class_row


class Action(StrEnum):
    MAINTENANCE_SET = "maintenance_set"
    MAINTENANCE_ENDED = "maintenance_ended"
    DISABLED = "disabled"
    ENABLED = "enabled"
    SILENT_AFTER_SET = "silent_after_set"


@dataclass(frozen=True, slots=True)
class PublisherAction:
    at: datetime
    actor: str
    action: str
    detail: str


def record_action(
    conn: psycopg.Connection[tuple[object, ...]], publisher_id: str, actor: str, action: Action, detail: str = ""
) -> None:
    """In the caller's transaction: the change and its record commit together."""
    conn.execute(
        "INSERT INTO publisher_actions (publisher_id, actor, action, detail) VALUES (%s, %s, %s, %s)",
        (publisher_id, actor, action.value, detail),
    )


def recent_actions(
    conn: psycopg.Connection[tuple[object, ...]], publisher_id: str, limit: int = 50
) -> list[PublisherAction]:
    cur = conn.cursor(row_factory=class_row(PublisherAction))
    return cur.execute(
        "SELECT at, actor, action, detail FROM publisher_actions WHERE publisher_id = %s ORDER BY at DESC, id DESC"
        " LIMIT %s",
        (publisher_id, limit),
    ).fetchall()
