"""A publisher as the API shows it: its state, and whether it is silent, by the engine's silence rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from api.http.publishers.schemas import MaintenanceOut, PublisherOut
from ingest.registry.publishers import Publisher, PublisherNotFound, PublisherRepository
from ingest.registry.states import PublisherState, state_of
from streams.history import read_latest_statuses
from streams.records import StatusRecord, from_micros
from streams.seq_gaps import Delivery, deliveries
from streams.silence_settings import SilenceSettings

_DELIVERY_WINDOW = timedelta(hours=1)  # as ops.completeness in its 1h window
_REGISTRY_FIELDS = (
    "id", "source", "area_code", "description", "created_at", "disabled_at", "retained_cleared",
    "retained_cleared_at", "first_message_at", "last_message_at",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SilenceRules:
    silent_after: timedelta
    onboarding_grace: timedelta

    @classmethod
    def of(cls, settings: SilenceSettings) -> SilenceRules:
        return cls(
            timedelta(seconds=settings.streams_silent_after_seconds),
            timedelta(seconds=settings.streams_onboarding_grace_seconds),
        )


class PublisherView:
    """Reads what the list and one publisher need: the registry, the latest statuses, the last hour's deliveries."""

    def __init__(self, conn: psycopg.Connection[tuple[object, ...]], rules: SilenceRules, now: datetime) -> None:
        self._conn = conn
        self._rules = rules
        self._now = now

    def all(self) -> list[PublisherOut]:
        registered = PublisherRepository(self._conn).list()
        statuses = self._statuses()
        delivered = deliveries(self._conn, self._now - _DELIVERY_WINDOW, self._now)
        return [self.out(p, statuses.get(p.id), delivered.get(p.id)) for p in registered]

    def one(self, publisher_id: str) -> PublisherOut:
        publisher = self.registered(publisher_id)
        delivered = deliveries(self._conn, self._now - _DELIVERY_WINDOW, self._now)
        return self.out(publisher, self._statuses().get(publisher_id), delivered.get(publisher_id))

    def registered(self, publisher_id: str) -> Publisher:
        found = PublisherRepository(self._conn).get(publisher_id)
        if found is None:
            raise PublisherNotFound(publisher_id)
        return found

    def out(self, p: Publisher, status: tuple[str, datetime] | None, delivery: Delivery | None = None) -> PublisherOut:
        state = state_of(p, self._now)
        status_at = None if status is None else status[1]
        received = None if delivery is None else delivery.last_received_at
        heard = max((t for t in (p.last_message_at, status_at, received) if t is not None), default=None)
        threshold = (
            self._rules.silent_after if p.silent_after_seconds is None else timedelta(seconds=p.silent_after_seconds)
        )
        silent = state is not PublisherState.DISABLED and (heard is None or heard < self._now - threshold)
        maintenance = None
        if state is PublisherState.MAINTENANCE:
            maintenance = MaintenanceOut.model_validate(
                {"until": p.maintenance_until, "reason": p.maintenance_reason, "by": p.maintenance_by,
                 "set_at": p.maintenance_set_at}
            )  # fmt: skip
        onboarding = state is PublisherState.ONBOARDING
        return PublisherOut.model_validate(
            {**{f: getattr(p, f) for f in _REGISTRY_FIELDS},
             "state": state.value, "maintenance": maintenance,
             "onboarding_until": p.created_at + self._rules.onboarding_grace if onboarding else None,
             "silent_after_seconds": threshold.total_seconds(), "silent_after_default": p.silent_after_seconds is None,
             "silent": silent, "status": "silent" if silent else None if status is None else status[0],
             "last_status": None if status is None else status[0], "status_at": status_at,
             "last_seen_at": heard,
             "completeness": None if delivery is None else delivery.completeness}
        )  # fmt: skip

    def _statuses(self) -> dict[str, tuple[str, datetime]]:
        return {
            r.publisher_id: (r.state, from_micros(r.at_us))
            for r in read_latest_statuses(self._conn)
            if isinstance(r, StatusRecord)
        }
