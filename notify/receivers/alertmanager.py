"""Prometheus Alertmanager, through its v2 API (`POST /api/v2/alerts`, a JSON list of alerts).

Alertmanager knows an alert by its labels. Each post says until when it holds (`endsAt`): four repost
intervals ahead while the alert is open (as Prometheus does), its resolution time once resolved. An
alert not posted again by then resolves by itself, so a notifier that dies cannot leave alerts firing
forever, and Alertmanager's own `resolve_timeout` (for alerts posted without `endsAt`) never applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from notify.notification import ClaimedRow, Notification, canonical_json
from notify.receivers import Outcome, post
from notify.receivers.signature import IDEMPOTENCY_HEADER

RECEIVER_NAME = "alertmanager"
VALIDITY_INTERVALS = 4


class AlertmanagerReceiver:
    def __init__(
        self, base_url: str, client: httpx.Client, extra_labels: Mapping[str, str], repost_seconds: float
    ) -> None:
        self._url = base_url.rstrip("/") + "/api/v2/alerts"
        self._client = client
        self._extra_labels = dict(extra_labels)
        self._validity = timedelta(seconds=VALIDITY_INTERVALS * repost_seconds)

    @property
    def name(self) -> str:
        return RECEIVER_NAME

    def deliver(self, row: ClaimedRow) -> Outcome:
        body = canonical_json([self.alert(row.payload, datetime.now(UTC))])
        return post(self._client, self._url, body, {IDEMPOTENCY_HEADER: row.key})

    def refresh(self, firing: list[Notification]) -> None:
        if not firing:
            return
        now = datetime.now(UTC)
        outcome = post(self._client, self._url, canonical_json([self.alert(n.payload, now) for n in firing]), {})
        if outcome.kind != "delivered":
            raise httpx.HTTPError(f"Alertmanager refused the re-post: {outcome.detail}")

    def alert(self, payload: Mapping[str, Any], now: datetime) -> dict[str, object]:
        """The v2 API's alert for a notification's payload."""
        ends_at = payload.get("ends_at") or (now + self._validity).isoformat()
        alert = payload.get("alert", {})
        return {
            "labels": {**self._extra_labels, **payload["labels"]},
            "annotations": {
                "summary": payload["text_vi"],
                "description": str(alert.get("message", "")),
                "console_url": payload["url"],
                "state": str(alert.get("state", "")),
            },
            "startsAt": payload["starts_at"],
            "endsAt": ends_at,
            "generatorURL": payload["url"],
        }
