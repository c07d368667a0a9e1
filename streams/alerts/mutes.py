"""Mute windows for a rule, an area (and every area below it), or a rule in an area; all their SQL.

A muted alert is recorded like any other, with `alerts.muted_by` naming the mute: it needs no
action and is not notified. Which mute covers an alert is decided in one place, the SQL function
`alert_mute_of` (migration 0014), when the engine stores the alert (streams.alerts.store) and by
`refresh_mutes` — after a mute is made or removed, and at every round of the engine's history
thread, so that an alert whose mute expired needs action again. A mute is never deleted: removing
it records who and when, and the rows are the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from runtime.operator_input import reason_problem, until_problem
from streams.errors import Conflict, Invalid, NotFound

# Unresolved alerts take the mute in force now (or none); a resolved alert keeps what it had.
_REFRESH = (
    "UPDATE alerts SET muted_by = x.mute FROM ("
    " SELECT id, alert_mute_of(rule_id, area_code, now()) AS mute FROM alerts WHERE state <> 'resolved') x"
    " WHERE alerts.id = x.id AND alerts.muted_by IS DISTINCT FROM x.mute"
)


@dataclass(frozen=True, slots=True)
class Mute:
    id: int
    rule_id: str | None
    area_code: str | None
    until: datetime
    reason: str
    created_by: str
    created_at: datetime
    removed_by: str | None
    removed_at: datetime | None

    def in_force(self, now: datetime) -> bool:
        return self.removed_at is None and self.until > now


_COLUMNS = sql.SQL(", ").join(map(sql.Identifier, Mute.__dataclass_fields__))
_INSERT = sql.SQL(
    "INSERT INTO alert_mutes (rule_id, area_code, until, reason, created_by, created_at)"
    " VALUES (%s, %s, %s, %s, %s, %s) RETURNING {}"
).format(_COLUMNS)
_LOCK = sql.SQL("SELECT {} FROM alert_mutes WHERE id = %s FOR UPDATE").format(_COLUMNS)
_REMOVE = sql.SQL("UPDATE alert_mutes SET removed_by = %s, removed_at = %s WHERE id = %s RETURNING {}").format(_COLUMNS)
_LIST = sql.SQL(
    "SELECT {} FROM alert_mutes WHERE %(all)s OR (removed_at IS NULL AND until > now())"
    " ORDER BY created_at DESC, id DESC LIMIT %(limit)s"
).format(_COLUMNS)


class InvalidMute(Invalid):
    """`field`: rule_id, area_code, until or reason."""


class MuteNotFound(NotFound):
    def __init__(self, mute_id: int) -> None:
        super().__init__(f"no mute {mute_id}", kind="mute", key=mute_id)


class MuteRemoved(Conflict):
    def __init__(self, mute: Mute) -> None:
        super().__init__(
            f"mute {mute.id} was removed already, by {mute.removed_by} at {mute.removed_at:%Y-%m-%d %H:%M:%S%z}",
            kind="mute",
            key=mute.id,
        )


class MuteRepository:
    def __init__(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        self._conn = conn

    def create(
        self, rule_id: str | None, area_code: str | None, until: datetime, reason: str, *, actor: str, now: datetime
    ) -> Mute:
        """A mute in force from now until `until`; the open alerts it covers are muted at once."""
        reason = reason.strip()
        if rule_id is None and area_code is None:
            raise InvalidMute("a mute needs a rule, an area, or both", field="rule_id")
        for field, problem in (("until", until_problem(until, now)), ("reason", reason_problem(reason))):
            if problem is not None:
                raise InvalidMute(problem, field=field)
        with self._conn.transaction():
            if rule_id is not None and not self._exists("SELECT 1 FROM alert_rules WHERE id = %s", rule_id):
                raise InvalidMute(f"there is no alert rule {rule_id!r}", field="rule_id")
            if area_code is not None and not self._exists("SELECT 1 FROM areas WHERE code = %s", area_code):
                raise InvalidMute(f"area {area_code!r} is not in the areas table", field="area_code")
            cur = self._conn.cursor(row_factory=class_row(Mute))
            mute = cur.execute(_INSERT, (rule_id, area_code, until, reason, actor, now)).fetchone()
            assert mute is not None
            refresh_mutes(self._conn)
        return mute

    def remove(self, mute_id: int, *, actor: str, now: datetime) -> Mute:
        """Removed (kept, with who and when); the alerts it muted need action again at once."""
        with self._conn.transaction():
            cur = self._conn.cursor(row_factory=class_row(Mute))
            found = cur.execute(_LOCK, (mute_id,)).fetchone()
            if found is None:
                raise MuteNotFound(mute_id)
            if found.removed_at is not None:
                raise MuteRemoved(found)
            mute = cur.execute(_REMOVE, (actor, now, mute_id)).fetchone()
            assert mute is not None
            refresh_mutes(self._conn)
        return mute

    def list(self, *, include_ended: bool = False, limit: int = 500) -> list[Mute]:
        """Newest first; by default only those in force now."""
        cur = self._conn.cursor(row_factory=class_row(Mute))
        return cur.execute(_LIST, {"all": include_ended, "limit": limit}).fetchall()

    def _exists(self, query: str, key: str) -> bool:
        return self._conn.execute(query, (key,)).fetchone() is not None


def refresh_mutes(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """Give every unresolved alert the mute in force now (or none); the number of alerts changed."""
    return conn.execute(_REFRESH).rowcount
