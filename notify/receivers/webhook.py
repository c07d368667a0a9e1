"""A plain webhook (a chat bot, a ticketing system): the notification's JSON, signed with its own secret."""

from __future__ import annotations

import time

import httpx

from notify.notification import ClaimedRow, Notification, canonical_json
from notify.receivers import Outcome, post
from notify.receivers.signature import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from notify.settings import WebhookTarget


class WebhookReceiver:
    def __init__(self, target: WebhookTarget, client: httpx.Client) -> None:
        self._target = target
        self._client = client

    @property
    def name(self) -> str:
        return f"webhook:{self._target.name}"

    def deliver(self, row: ClaimedRow) -> Outcome:
        # The body is the same bytes on every attempt; the timestamp (signed with it) is the attempt's.
        body = canonical_json(row.payload)
        timestamp = int(time.time())
        headers = {
            IDEMPOTENCY_HEADER: row.key,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(self._target.secret.get_secret_value(), timestamp, body),
        }
        return post(self._client, self._target.url, body, headers)

    def refresh(self, firing: list[Notification]) -> None:
        """A webhook is told of changes only."""
