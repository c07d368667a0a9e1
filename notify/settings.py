"""The notifier's settings (`ioc notify`): where notifications go, how often, and how long they are retried."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import NoDecode

from runtime.settings import SharedSettings


class WebhookTarget(BaseModel):
    """One plain webhook: its name (in the outbox and the console), its URL and its signing secret."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    url: str = Field(pattern=r"^https?://")
    secret: SecretStr = Field(min_length=16)


class NotifySettings(SharedSettings):
    """Read by the notifier (`ioc notify`)."""

    # Unset: no Alertmanager (the local stack's is filled in by `ioc`, as the database is).
    notify_alertmanager_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="Prometheus Alertmanager's base URL (alerts go to its `/api/v2/alerts`); unset: none, or the"
        " local stack's",
    )
    notify_alertmanager_labels: Annotated[dict[str, str], NoDecode] = Field(
        default={},
        description='labels added to every alert sent to Alertmanager (a JSON object, e.g. `{"env": "prod"}`),'
        " for its routes and silences",
    )
    # Alertmanager resolves an alert whose endsAt has passed: each post says "until 4 intervals from now",
    # so a notifier that stops lets its alerts resolve within four intervals, never at once.
    notify_alertmanager_repost_seconds: float = Field(
        default=60.0,
        gt=0,
        le=600,
        description="every open alert is posted to Alertmanager again this often, each post valid for 4 intervals",
    )
    notify_webhooks: Annotated[list[WebhookTarget], NoDecode] = Field(
        default=[],
        description='signed webhooks (a JSON list of `{"name", "url", "secret"}`, the secret ≥ 16 characters),'
        " [verifying them](notifications.md#verifying-a-webhook)",
    )
    notify_console_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="the console's public address, for the link in every notification; unset: the local API's"
        " `/console`",
    )
    notify_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="how often alerts are read for changes, and the outbox for due rows"
    )
    notify_batch_size: int = Field(
        default=100, ge=1, le=1000, description="outbox rows one receiver claims and delivers at a time"
    )
    notify_request_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="a receiver that has not answered within this long has failed the attempt"
    )
    notify_retry_initial_seconds: float = Field(
        default=1.0, gt=0, le=3600, description="the delay after a first failed attempt, doubled after each failure"
    )
    notify_retry_max_delay_seconds: float = Field(
        default=300.0, gt=0, le=86_400, description="the longest delay between two attempts"
    )
    notify_retry_for_seconds: float = Field(
        default=86_400.0,
        gt=0,
        le=30 * 86_400,
        description="a notification not delivered within this long of being written is kept as `failed`",
    )
    notify_lookback_seconds: float = Field(
        default=3600.0,
        gt=0,
        le=30 * 86_400,
        description="alerts resolved longer ago than this are not read again (a notifier stopped for longer does"
        " not tell of them)",
    )
    notify_health_port: int = Field(default=18084, description="health and metrics of the notifier")
    notify_health_host: str = Field(
        default="127.0.0.1",
        description="where the notifier's health and metrics server listens (0.0.0.0 in the container image)",
    )

    @field_validator("notify_alertmanager_url", "notify_console_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # A compose file passes `${IOC_NOTIFY_ALERTMANAGER_URL:-}`: empty means "none".
        return None if value == "" else value

    @field_validator("notify_alertmanager_labels", "notify_webhooks", mode="before")
    @classmethod
    def _json_or_empty(cls, value: object, info: ValidationInfo) -> object:
        # Read as JSON here rather than by the environment source, so that an empty variable (a compose
        # default, an optional Kubernetes secret left blank) means "none" instead of failing the start.
        if isinstance(value, str):
            empty: object = {} if info.field_name == "notify_alertmanager_labels" else []
            return json.loads(value) if value.strip() else empty
        return value

    @field_validator("notify_webhooks")
    @classmethod
    def _names_unique(cls, value: list[WebhookTarget]) -> list[WebhookTarget]:
        names = [target.name for target in value]
        if len(set(names)) != len(names):
            raise ValueError("each webhook needs a name of its own (the outbox tells them apart by it)")
        return value
