"""The notifier's composition root (`ioc notify`): alerts out to Alertmanager and signed webhooks."""

from __future__ import annotations

import logging
import threading

import httpx

from notify.backoff import RetryPolicy
from notify.dispatcher import Dispatcher
from notify.metrics import NotifyMetrics
from notify.receivers import Receiver
from notify.receivers.alertmanager import AlertmanagerReceiver
from notify.receivers.webhook import WebhookReceiver
from notify.service import Notifier
from notify.settings import NotifySettings
from notify.sources import AlertSource, EscalationSource, NotificationSource
from runtime.database import service_connector
from runtime.health import HealthServer
from runtime.process import stop_on_signals

log = logging.getLogger("ioc.notify")


def run(settings: NotifySettings) -> int:
    """Runs until SIGTERM or SIGINT; `settings` has its connections and the console's URL resolved."""
    assert settings.notify_console_url is not None
    connect = service_connector(settings)
    # Incident escalations (issue 22, item 2) become a second source here.
    sources: list[NotificationSource] = [
        AlertSource(settings.notify_console_url, settings.notify_lookback_seconds),
        EscalationSource(settings.notify_console_url, settings.notify_lookback_seconds),
    ]
    metrics = NotifyMetrics()
    timeout = settings.notify_request_timeout_seconds
    # A client per receiver: one that hangs holds only its own connections.
    clients: list[httpx.Client] = []

    def client() -> httpx.Client:
        clients.append(httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False))
        return clients[-1]

    receivers: list[tuple[Receiver, bool]] = []
    if settings.notify_alertmanager_url:
        alertmanager = AlertmanagerReceiver(
            settings.notify_alertmanager_url,
            client(),
            settings.notify_alertmanager_labels,
            settings.notify_alertmanager_repost_seconds,
        )
        receivers.append((alertmanager, True))
    receivers += [(WebhookReceiver(target, client()), False) for target in settings.notify_webhooks]
    if not receivers:
        log.warning("notify: no receiver configured (IOC_NOTIFY_ALERTMANAGER_URL, IOC_NOTIFY_WEBHOOKS)")
    retry = RetryPolicy(
        settings.notify_retry_initial_seconds,
        settings.notify_retry_max_delay_seconds,
        settings.notify_retry_for_seconds,
    )

    def dispatchers(stopping: threading.Event) -> list[Dispatcher]:
        return [
            Dispatcher(
                connect,
                receiver,
                retry=retry,
                batch_size=settings.notify_batch_size,
                poll_seconds=settings.notify_poll_seconds,
                request_timeout_seconds=timeout,
                metrics=metrics,
                stopping=stopping,
                refresh_from=sources if reposts else None,
                refresh_seconds=settings.notify_alertmanager_repost_seconds,
            )
            for receiver, reposts in receivers
        ]

    notifier = Notifier(
        connect,
        sources,
        dispatchers,
        poll_seconds=settings.notify_poll_seconds,
        batch_size=settings.notify_batch_size,
        metrics=metrics,
    )
    health = HealthServer(
        settings.notify_health_port, notifier.health, metrics.registry, host=settings.notify_health_host,
        name="notify-health",
    )  # fmt: skip
    stop_on_signals(notifier.stop, log)
    health.start()
    log.info(
        "notify: %d receiver(s) %s; health on http://127.0.0.1:%d/health",
        len(receivers), ", ".join(r.name for r, _ in receivers), health.port,
    )  # fmt: skip
    try:
        notifier.run()
    finally:
        health.stop()
        for each in clients:
            each.close()
    return 0
