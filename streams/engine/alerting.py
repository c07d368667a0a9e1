"""The engine's side of alerts: judge each round of frames and the clock, hand the changes to the history writer."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence

from streams.alerts.evaluator import AlertAction, AlertEvaluator, AlertOpened, LastEvent
from streams.alerts.rules import AlertRule
from streams.alerts.store import AlertStore
from streams.engine.history_writer import HistoryWriter
from streams.engine.metrics import EngineMetrics
from streams.engine.rebuild import Connect
from streams.frames import KpiFrame
from streams.hierarchy import AreaHierarchy
from streams.records import MICROS

log = logging.getLogger(__name__)
_TICK_SECONDS = 1.0  # for-durations and staleness: once a second is enough
SILENT_PUBLISHERS_KPI = "ops.publishers_silent"
SilentPublishers = Callable[[str], tuple[str, ...]]  # area -> the silent publishers in or under it


class AlertJudge:
    def __init__(
        self,
        rules: Sequence[AlertRule],
        history: HistoryWriter,
        metrics: EngineMetrics,
        *,
        flap_seconds: float = 0.0,
        silent_publishers: SilentPublishers | None = None,
    ) -> None:
        self._evaluator = AlertEvaluator(rules, AreaHierarchy({}), flap_interval_us=int(flap_seconds * MICROS))
        self._silent_publishers = silent_publishers
        self._history = history
        self._metrics = metrics
        self._restored = not rules
        self._next_tick = 0.0

    def after_rebuild(self, hierarchy: AreaHierarchy, connect: Connect, now_us: int) -> None:
        """The areas as rebuilt; at the first rebuild, the alerts left unresolved by the last run."""
        self._evaluator.set_hierarchy(hierarchy)
        if self._restored:
            return
        with connect() as conn:
            orphans = self._evaluator.restore_open(AlertStore(conn).unresolved_keys(), now_us)
        self._history.offer_alerts(orphans)  # alerts of rules taken out of the rules file
        self._restored = True

    def take_over(self, connect: Connect, now_us: int) -> None:
        """This engine became the active one: the alerts as the database has them (after the fencing
        token was raised, so the engine before it writes no more)."""
        with connect() as conn:
            orphans = self._evaluator.take_over(AlertStore(conn).unresolved_keys(), now_us)
        self._history.offer_alerts(orphans)
        self._restored = True

    def replace_rules(self, rules: Sequence[AlertRule], now_us: int) -> None:
        """The rulebook changed: alerts that no rule keeps any more resolve at once."""
        resolved = self._evaluator.replace_rules(rules, now_us)
        if resolved:
            self._history.offer_alerts(resolved)

    def judge(
        self,
        frames: list[KpiFrame],
        monotonic_now: float,
        now_us: int,
        last_event_us: LastEvent,
        *,
        record: bool = True,
    ) -> list[AlertAction]:
        """The alerts this round opens or resolves (already handed to the history writer, unless not
        `record`: a standby judges to stay warm and writes nothing)."""
        actions = self._evaluator.observe(frames, now_us)
        if monotonic_now >= self._next_tick:
            self._next_tick = monotonic_now + _TICK_SECONDS
            actions += self._evaluator.tick(now_us, last_event_us)
        if not actions or not record:
            return actions
        actions = [self._with_cause(a) for a in actions]
        for action in actions:
            self._metrics.alert_actions.labels("opened" if isinstance(action, AlertOpened) else "resolved").inc()
            log.info("alert %s", action)
        self._history.offer_alerts(actions)
        return actions

    def _with_cause(self, action: AlertAction) -> AlertAction:
        """A silent-publisher alert names the publishers that are silent (the engine knows them)."""
        if not isinstance(action, AlertOpened) or action.rule.kpi != SILENT_PUBLISHERS_KPI:
            return action
        if self._silent_publishers is None:
            return action
        return dataclasses.replace(action, publishers=self._silent_publishers(action.area))
