"""`ioc notify`: alerts out to Alertmanager and to signed webhooks, through the outbox."""

from __future__ import annotations

import argparse
from typing import Any

from cli._context import with_connections
from deploy.settings import Settings
from notify import main


def register(commands: Any) -> None:
    notify = commands.add_parser(
        "notify", help="run the notifier (SIGTERM stops it cleanly)",
        epilog="example: IOC_NOTIFY_ALERTMANAGER_URL=http://127.0.0.1:9093 ioc notify",
    )  # fmt: skip
    notify.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    connected = with_connections(settings)
    return main.run(connected.model_copy(update={"notify_console_url": connected.console_url()}))
