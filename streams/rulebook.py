"""The rulebook: targets and alert rules as the operations center keeps them, in the database.

They start as the files shipped in `streams/` (or the files named in the settings): `seed_rulebook`
copies them in when the tables are empty, so editing a file after that changes nothing. Admins
then list, create and update them through the API; the KPI engine reads them again every few
seconds and takes a changed rulebook without a restart. All SQL of both tables is here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from streams.alerts.rules import DEFAULT_RULES_FILE, AlertRule, load_rules
from streams.errors import Conflict, Invalid
from streams.targets import DEFAULT_TARGETS_FILE, Target, Targets


@dataclass(frozen=True, slots=True)
class Rulebook:
    targets: Targets
    rules: list[AlertRule]


@dataclass(frozen=True, slots=True)
class StoredTarget:
    id: int
    target: Target


class TargetExists(Conflict):
    """A target for this KPI and deadline exists already (update it instead); `key` is the KPI."""

    def __init__(self, message: str, *, kpi: str, deadline: date | None) -> None:
        super().__init__(message, kind="target", key=kpi)
        self.deadline = deadline


class RuleExists(Conflict):
    """An alert rule with this id exists already (update it instead)."""

    def __init__(self, rule_id: str) -> None:
        super().__init__(f"an alert rule with id {rule_id!r} exists already", kind="alert rule", key=rule_id)


class UnknownKpi(Invalid):
    def __init__(self, kpi: str) -> None:
        super().__init__(f"no KPI with id {kpi!r} in the catalog (GET /api/v1/kpis lists them)", field="kpi")
        self.kpi = kpi


def _check_kpi(kpi: str, known_kpis: Iterable[str]) -> None:
    if kpi not in set(known_kpis):
        raise UnknownKpi(kpi)


class TargetRepository:
    def __init__(self, conn: psycopg.Connection[tuple[object, ...]], known_kpis: Iterable[str]) -> None:
        self._conn = conn
        self._known = frozenset(known_kpis)

    def list(self) -> list[StoredTarget]:
        rows = self._conn.execute(
            "SELECT id, kpi, value, direction, deadline, source FROM kpi_targets ORDER BY kpi, deadline NULLS LAST"
        ).fetchall()
        return [
            StoredTarget(_as_int(i), Target.model_validate(dict(zip(_TARGET_FIELDS, rest, strict=True))))
            for i, *rest in rows
        ]

    def create(self, target: Target) -> int:
        _check_kpi(target.kpi, self._known)
        try:
            with self._conn.transaction():
                row = self._conn.execute(
                    "INSERT INTO kpi_targets (kpi, value, direction, deadline, source)"
                    " VALUES (%s, %s, %s, %s, %s) RETURNING id",
                    _target_row(target),
                ).fetchone()
        except psycopg.errors.UniqueViolation:
            when = f"deadline {target.deadline}" if target.deadline else "no deadline"
            raise TargetExists(
                f"{target.kpi} already has a target with {when}", kpi=target.kpi, deadline=target.deadline
            ) from None
        assert row is not None
        return _as_int(row[0])

    def update(self, target_id: int, target: Target) -> bool:
        """Replace target `target_id`; False when there is none."""
        _check_kpi(target.kpi, self._known)
        try:
            with self._conn.transaction():
                cur = self._conn.execute(
                    "UPDATE kpi_targets SET kpi = %s, value = %s, direction = %s, deadline = %s, source = %s,"
                    " updated_at = clock_timestamp() WHERE id = %s",
                    (*_target_row(target), target_id),
                )
        except psycopg.errors.UniqueViolation:
            raise TargetExists(
                f"another target of {target.kpi} has the same deadline", kpi=target.kpi, deadline=target.deadline
            ) from None
        return cur.rowcount == 1

    def delete(self, target_id: int) -> Target | None:
        """Remove target `target_id`; what it was (for the audit), None when there is none."""
        row = self._conn.execute(
            "DELETE FROM kpi_targets WHERE id = %s RETURNING kpi, value, direction, deadline, source", (target_id,)
        ).fetchone()
        return None if row is None else Target.model_validate(dict(zip(_TARGET_FIELDS, row, strict=True)))


class AlertRuleRepository:
    def __init__(self, conn: psycopg.Connection[tuple[object, ...]], known_kpis: Iterable[str]) -> None:
        self._conn = conn
        self._known = frozenset(known_kpis)

    def list(self) -> list[AlertRule]:
        rows = self._conn.execute("SELECT definition FROM alert_rules ORDER BY id").fetchall()
        return [AlertRule.model_validate(definition) for (definition,) in rows]

    def create(self, rule: AlertRule) -> None:
        _check_kpi(rule.kpi, self._known)
        try:
            with self._conn.transaction():
                self._conn.execute(
                    "INSERT INTO alert_rules (id, definition) VALUES (%s, %s)", (rule.id, Jsonb(_rule_json(rule)))
                )
        except psycopg.errors.UniqueViolation:
            raise RuleExists(rule.id) from None

    def update(self, rule: AlertRule) -> bool:
        """Replace the rule with the same id; False when there is none."""
        _check_kpi(rule.kpi, self._known)
        cur = self._conn.execute(
            "UPDATE alert_rules SET definition = %s, updated_at = clock_timestamp() WHERE id = %s",
            (Jsonb(_rule_json(rule)), rule.id),
        )
        return cur.rowcount == 1

    def delete(self, rule_id: str) -> AlertRule | None:
        """Remove the rule; what it was (for the audit), None when there is none."""
        row = self._conn.execute("DELETE FROM alert_rules WHERE id = %s RETURNING definition", (rule_id,)).fetchone()
        return None if row is None else AlertRule.model_validate(row[0])


def seed_rulebook(
    conn: psycopg.Connection[tuple[object, ...]],
    known_kpis: Iterable[str],
    targets_file: Path | None = None,
    rules_file: Path | None = None,
) -> tuple[int, int]:
    """Copy the files (by default those shipped in streams/) into empty tables, each table on its
    own; how many targets and rules were added."""
    known = list(known_kpis)
    targets_file = targets_file or DEFAULT_TARGETS_FILE
    rules_file = rules_file or DEFAULT_RULES_FILE
    added_targets = added_rules = 0
    with conn.transaction():
        # Two `ioc db migrate` at once must not both seed: the first takes the lock, the second sees rows.
        conn.execute("LOCK TABLE kpi_targets, alert_rules IN SHARE ROW EXCLUSIVE MODE")
        if conn.execute("SELECT NOT EXISTS (SELECT FROM kpi_targets)").fetchone() == (True,):
            targets = TargetRepository(conn, known)
            for target in Targets.load(targets_file, known).all():
                targets.create(target)
                added_targets += 1
        if conn.execute("SELECT NOT EXISTS (SELECT FROM alert_rules)").fetchone() == (True,):
            rules = AlertRuleRepository(conn, known)
            for rule in load_rules(rules_file, known):
                rules.create(rule)
                added_rules += 1
    return added_targets, added_rules


def read_rulebook(conn: psycopg.Connection[tuple[object, ...]], known_kpis: Iterable[str]) -> Rulebook:
    known = list(known_kpis)
    targets = [t.target for t in TargetRepository(conn, known).list()]
    return Rulebook(Targets(targets), AlertRuleRepository(conn, known).list())


class RulebookWatch:
    """The rulebook read again at each poll and handed over when it differs from the last one read
    (both tables are a few rows: comparing them is exact, where a version from timestamps could
    miss an edit whose transaction committed late)."""

    def __init__(self, known_kpis: Iterable[str]) -> None:
        self._known = list(known_kpis)
        self._last: tuple[list[Target], list[AlertRule]] | None = None

    def read(self, conn: psycopg.Connection[tuple[object, ...]]) -> Rulebook:
        rulebook = read_rulebook(conn, self._known)
        self._last = (rulebook.targets.all(), rulebook.rules)
        return rulebook

    def poll(self, conn: psycopg.Connection[tuple[object, ...]]) -> Rulebook | None:
        """The rulebook if it changed since the last read, else None."""
        rulebook = read_rulebook(conn, self._known)
        if (rulebook.targets.all(), rulebook.rules) == self._last:
            return None
        self._last = (rulebook.targets.all(), rulebook.rules)
        return rulebook


_TARGET_FIELDS = ("kpi", "value", "direction", "deadline", "source")


def _target_row(target: Target) -> tuple[object, ...]:
    return (target.kpi, target.value, target.direction, target.deadline, target.source)


def _rule_json(rule: AlertRule) -> dict[str, object]:
    return rule.model_dump(mode="json", exclude_defaults=True)


def _as_int(value: object) -> int:
    assert isinstance(value, int)
    return value
