"""Default ports sit below Linux's ephemeral range, and a taken port is reported with its holder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.settings import Settings
from deploy.stack.manager import LocalStack
from deploy.stack.paths import remove_paths
from deploy.stack.ports import port_holder, port_is_free
from deploy.stack.service import ServiceStartError
from tests.fixtures.ingest import free_port
from tests.fixtures.ports import ephemeral_range, held_by_other_process
from tests.fixtures.stack import cli_environment

_PORT_SETTINGS = (
    "pg_port", "mqtt_port", "redis_port", "api_port", "ingest_health_port", "streams_health_port", "api_ops_port",
)  # fmt: skip


def test_every_default_port_is_below_theephemeral_range() -> None:
    """An outgoing connection may take any port of that range as its own: a restart then fails."""
    low, _ = ephemeral_range()
    defaults = {name: int(Settings.model_fields[name].default) for name in _PORT_SETTINGS}
    assert all(port < min(low, 32768) for port in defaults.values()), defaults
    makefile = Path("Makefile").read_text() + Path(".ci/run").read_text()
    for test_port in ("15482", "11933", "16429", "18130", "15532", "11983", "16479", "18180"):
        assert test_port in makefile


def test_the_holder_of_a_port_is_found_listening_or_as_an_outgoing_connection() -> None:
    port = free_port()
    assert port_holder(port) is None
    assert port_is_free(port)
    with held_by_other_process(port) as holder:
        found = port_holder(port)
        assert found is not None
        assert (found.pid, found.listening) == (holder.pid, True)
        assert found.describe().startswith(f"port {port} is taken: pid {holder.pid} (")
        assert not port_is_free(port)
        # An outgoing connection's local port (the case that broke an API restart): our own socket.
        with socket.create_connection(("127.0.0.1", port)) as client:
            local = client.getsockname()[1]
            outgoing = port_holder(local)
            assert outgoing is not None
            assert (outgoing.pid, outgoing.listening) == (os.getpid(), False)
            assert not port_is_free(local)


@pytest.mark.integration
def test_stack_up_names_the_process_that_holds_its_port(tmp_path: Path) -> None:
    redis_port = free_port()
    settings = Settings(home=tmp_path / "taken", pg_port=free_port(), mqtt_port=free_port(), redis_port=redis_port)
    stack = LocalStack(settings)
    try:
        with held_by_other_process(redis_port) as holder, pytest.raises(ServiceStartError) as failed:
            stack.up()
        assert f"port {redis_port} is taken: pid {holder.pid} (" in str(failed.value)
        assert "IOC_REDIS_PORT" in str(failed.value)
    finally:
        stack.down()
        remove_paths(stack.paths)


@pytest.mark.integration
def test_services_start_names_the_process_that_holds_a_service_port(stack: LocalStack) -> None:
    port = free_port()
    env = cli_environment(stack, IOC_INGEST_HEALTH_PORT=str(port))
    with held_by_other_process(port) as holder:
        started = subprocess.run(
            [sys.executable, "-m", "cli", "services", "start"], env=env, capture_output=True, text=True, timeout=60
        )
    assert started.returncode == 1
    assert f"ingest: not started: port {port} is taken: pid {holder.pid} (" in started.stderr
    assert started.stdout == ""  # nothing after a service that could not start
