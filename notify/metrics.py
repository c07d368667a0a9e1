"""The notifier's figures on `/metrics`."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class NotifyMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.written = Counter("ioc_notify_written", "outbox rows written", registry=self.registry)
        self.attempts = Counter(
            "ioc_notify_attempts",
            "delivery attempts, per receiver and outcome (delivered, retry, refused)",
            ["receiver", "outcome"],
            registry=self.registry,
        )
        self.failed = Counter(
            "ioc_notify_failed", "notifications given up (kept as failed), per receiver", ["receiver"],
            registry=self.registry,
        )  # fmt: skip
        self.reposted = Counter(
            "ioc_notify_reposted", "open alerts posted again to keep them active", ["receiver"], registry=self.registry
        )
