"""When alerts open and resolve: rules judged on the engine's frames and clock (pure logic, time passed in).

A condition must hold for the rule's `for_seconds` before its alert opens; it resolves as soon as
a frame shows the condition cleared. A flapping condition opens at most once per `flap_interval`:
one that returns sooner after its alert opened waits until the interval has passed (and opens then
if it still holds), so a value dancing around its threshold raises one alert per interval, not one
per swing. A value that cannot be judged (no value, too few events, no
target) neither opens nor resolves anything. Staleness rules are judged by `tick`, from the last
frame seen for the area. At most one alert is open per rule and area.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from streams.alerts.rules import AlertRule
from streams.frames import KpiFrame
from streams.hierarchy import AreaHierarchy
from streams.records import MICROS, to_micros

AlertKey = tuple[str, str]  # (rule id, area)
LastEvent = Callable[[str, str, str], int | None]


@dataclass(frozen=True, slots=True)
class AlertOpened:
    rule: AlertRule
    area: str
    value: float | None
    message: str
    at_us: int
    threshold: float | None = None
    unit: str = ""
    since_us: int | None = None  # the condition held since (its for-duration before `at_us`)
    lineage: tuple[str, ...] = ()  # the area and every area above it
    publishers: tuple[str, ...] = ()  # the publishers that are the cause, when known


@dataclass(frozen=True, slots=True)
class AlertResolved:
    rule_id: str
    area: str
    detail: str
    at_us: int


AlertAction = AlertOpened | AlertResolved


class AlertEvaluator:
    def __init__(self, rules: Iterable[AlertRule], hierarchy: AreaHierarchy, *, flap_interval_us: int = 0) -> None:
        self._hierarchy = hierarchy
        self._flap_interval_us = flap_interval_us
        self._last_opened: dict[AlertKey, int] = {}  # within the flap interval only
        self._rules = _by_kpi_window(rules)
        self._pending: dict[AlertKey, int] = {}  # condition holding since (µs)
        self._open: set[AlertKey] = set()
        self._last: dict[AlertKey, tuple[AlertRule, KpiFrame]] = {}

    def restore_open(self, keys: Iterable[AlertKey], now_us: int) -> list[AlertAction]:
        """Alerts still unresolved in the database (after a restart), so that they can resolve; those
        whose rule is gone, or no longer covers their area, are resolved now (returned). Set the
        hierarchy first."""
        rules = {rule.id: rule for rules in self._rules.values() for rule in rules}
        orphans: list[AlertAction] = []
        for rule_id, area in keys:
            rule = rules.get(rule_id)
            if rule is None:
                orphans.append(AlertResolved(rule_id, area, "the rule was removed", now_us))
            elif not rule.covers(area, self._hierarchy):
                orphans.append(AlertResolved(rule_id, area, "the rule no longer covers this area", now_us))
            else:
                self._open.add((rule_id, area))
        return orphans

    def take_over(self, unresolved: Iterable[AlertKey], now_us: int) -> list[AlertAction]:
        """A standby judged the same frames without writing; now it writes: the database's unresolved
        alerts are the open ones (they resolve on the next frames if cleared). One it judged open that
        the database lacks (the last active engine died before writing it) opens at its next frame
        still holding, without waiting its `for_seconds` again. Returns the orphans, as `restore_open`."""
        judged_open = set(self._open)
        self._open = set()
        orphans = self.restore_open(unresolved, now_us)
        for key in judged_open - self._open:
            self._pending[key] = 0  # held since long ago: opens at once if it still holds
            # The standby's own judgement wrote nothing: it is no opening for the flap limit to wait on.
            self._last_opened.pop(key, None)
        return orphans

    def replace_rules(self, rules: Iterable[AlertRule], now_us: int) -> list[AlertAction]:
        """Judge by new rules from now on. The open alerts of a rule that is gone, or that no longer
        covers their area, resolve now (returned); a changed rule starts its `for_seconds` afresh and
        waits for the next frames (the caller has every value published again)."""
        old = {rule.id: rule for rules_ in self._rules.values() for rule in rules_}
        self._rules = _by_kpi_window(rules)
        new = {rule.id: rule for rules_ in self._rules.values() for rule in rules_}
        changed = {rule_id for rule_id, rule in old.items() if new.get(rule_id) != rule}
        actions: list[AlertAction] = []
        for key in sorted(k for k in self._open if k[0] in changed):
            rule = new.get(key[0])
            if rule is None or not rule.covers(key[1], self._hierarchy):
                self._open.discard(key)
                why = "the rule was removed" if rule is None else "the rule no longer covers this area"
                actions.append(AlertResolved(key[0], key[1], why, now_us))
        self._pending = {k: since for k, since in self._pending.items() if k[0] not in changed}
        self._last = {k: last for k, last in self._last.items() if k[0] not in changed}
        return actions

    def set_hierarchy(self, hierarchy: AreaHierarchy) -> None:
        self._hierarchy = hierarchy

    def observe(self, frames: Iterable[KpiFrame], now_us: int) -> list[AlertAction]:
        actions: list[AlertAction] = []
        for frame in frames:
            for rule in self._rules.get((frame.kpi, frame.window), ()):
                if not rule.covers(frame.area, self._hierarchy):
                    continue
                key = (rule.id, frame.area)
                self._last[key] = (rule, frame)
                if rule.stale_after_seconds is None:
                    self._judge(rule, key, rule.value_condition(frame), frame, now_us, actions)
        return actions

    def tick(self, now_us: int, last_event_us: LastEvent | None = None) -> list[AlertAction]:
        """`last_event_us(kpi, window, area)`, when given, is the live latest event time for staleness
        rules (a frame's `last_event_at` is only as recent as the last change of its numbers)."""
        actions: list[AlertAction] = []
        self._last_opened = {k: t for k, t in self._last_opened.items() if now_us - t < self._flap_interval_us}
        for key, (rule, frame) in list(self._last.items()):
            if rule.stale_after_seconds is not None:
                if last_event_us is not None:
                    last = last_event_us(rule.kpi, rule.window, key[1])
                else:
                    last = None if frame.last_event_at is None else to_micros(frame.last_event_at)
                stale = last is None or now_us - last >= rule.stale_after_seconds * MICROS
                self._judge(rule, key, stale, frame, now_us, actions)
            elif key in self._pending:
                self._judge(rule, key, True, frame, now_us, actions)  # still holding: maybe long enough now
        return actions

    def _judge(
        self,
        rule: AlertRule,
        key: AlertKey,
        holds: bool | None,
        frame: KpiFrame,
        now_us: int,
        actions: list[AlertAction],
    ) -> None:
        if holds is None:
            return
        if not holds:
            self._pending.pop(key, None)
            if key in self._open:
                self._open.discard(key)
                detail = f"{frame.kpi} ({frame.window}) is {frame.value}" if frame.value is not None else "cleared"
                actions.append(AlertResolved(rule.id, key[1], detail, now_us))
            return
        if key in self._open:
            return
        since = self._pending.setdefault(key, now_us)
        flapping = now_us - self._last_opened.get(key, now_us - self._flap_interval_us) < self._flap_interval_us
        if now_us - since >= rule.for_seconds * MICROS and not flapping:
            del self._pending[key]
            self._open.add(key)
            if self._flap_interval_us:
                self._last_opened[key] = now_us
            actions.append(
                AlertOpened(
                    rule, key[1], frame.value, rule.describe(frame), now_us, threshold=rule.threshold(frame),
                    unit=frame.unit, since_us=since, lineage=self._hierarchy.counted_in(key[1]),
                )
            )  # fmt: skip


def _by_kpi_window(rules: Iterable[AlertRule]) -> dict[tuple[str, str], list[AlertRule]]:
    indexed: dict[tuple[str, str], list[AlertRule]] = {}
    for rule in rules:
        indexed.setdefault((rule.kpi, rule.window), []).append(rule)
    return indexed
