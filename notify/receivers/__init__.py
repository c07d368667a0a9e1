"""Receivers: what a notification is posted to. Each says whether an attempt delivered, may be retried, or
never will (`Outcome`); the dispatcher records that in the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import httpx

from notify.notification import ClaimedRow, Notification

OutcomeKind = Literal["delivered", "retry", "refused"]


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: OutcomeKind
    detail: str = ""
    # The receiver itself is unreachable (refused, timed out, 5xx): the rest of the batch waits too.
    receiver_down: bool = False


class Receiver(Protocol):
    @property
    def name(self) -> str:
        """Its name in the outbox: `alertmanager` or `webhook:<name>`."""
        ...

    def deliver(self, row: ClaimedRow) -> Outcome: ...

    def refresh(self, firing: list[Notification]) -> None:
        """Tell it again what is still going on (Alertmanager forgets what is not re-posted); may raise
        httpx.HTTPError."""
        ...


# Retrying cannot change a 4xx, except these: the receiver was busy or timed out itself.
_RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})


def outcome_of_status(status: int, body: str) -> Outcome:
    detail = f"HTTP {status}: {' '.join(body.split())[:200]}".rstrip(": ")
    if 200 <= status < 300:
        return Outcome("delivered")
    if status >= 500 or status in _RETRYABLE_CLIENT_ERRORS:
        return Outcome("retry", detail, receiver_down=True)
    # 410 Gone, 404, 400, 401/403 (a wrong secret), and redirects (never followed): fix the configuration.
    return Outcome("refused", detail)


def post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """One POST, its failure turned into an outcome (never an exception)."""
    try:
        response = client.post(url, content=body, headers={"Content-Type": "application/json", **headers})
    except httpx.TimeoutException as exc:
        return Outcome("retry", f"timeout: {type(exc).__name__}", receiver_down=True)
    except httpx.HTTPError as exc:
        return Outcome("retry", f"{type(exc).__name__}: {exc}"[:300], receiver_down=True)
    return outcome_of_status(response.status_code, response.text)
