"""`ioc streams` as a real process, for the faults that kill it."""

from __future__ import annotations

import subprocess
import sys

from deploy.stack.manager import LocalStack
from tests.fixtures.ingest import ServiceProcess, free_port
from tests.fixtures.stack import IsolatedDatabase, cli_environment


def spawn_engine(stack: LocalStack, database: IsolatedDatabase, redis_url: str, **env: str) -> ServiceProcess:
    """Started, and its first rebuild done (its health answers ok)."""
    port = free_port()
    environment = cli_environment(
        stack, IOC_DATABASE_URL=database.url, IOC_REDIS_URL=redis_url, IOC_STREAMS_HEALTH_PORT=str(port), **env
    )
    argv = [sys.executable, "-m", "cli", "streams"]
    process = subprocess.Popen(argv, env=environment, stdout=subprocess.DEVNULL)
    engine = ServiceProcess(process, port)
    try:
        engine.wait_ready(60)
    except AssertionError:
        engine.kill()
        raise
    return engine
