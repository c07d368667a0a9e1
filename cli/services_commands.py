"""`ioc services start | stop | status`: the system's own processes in the background (for `make up`).

Today those are the ingest service, the KPI engine (two of them by default, one active and one
standby: `IOC_STREAMS_LOCAL_REPLICAS`), the HTTP API and the notifier, and for the demo (`ioc up`) the
simulator.
Each runs detached, logs to `$IOC_HOME/logs/<name>.log`, and is remembered by a pid file in
`$IOC_HOME/run`. `stop` sends SIGTERM and waits for the clean shutdown (drain, commit,
acknowledge); it stops the simulator first, so that its last statuses reach a running ingest.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

from cli.home import existing_stack, has_local_stack
from cli.output import json_option, print_json
from deploy.settings import Settings
from deploy.stack.ports import port_holder, port_is_free
from runtime.health import is_healthy

# The KPI engines after the first are `streams-2`, … with their health port this much above the first's.
STREAMS_PORT_STEP = 10


class _Service(NamedTuple):
    name: str
    command: list[str]
    ports: list[int]  # its health port (served on `/health`) first, then any other it listens on
    environment: dict[str, str]


def _services(settings: Settings) -> list[_Service]:
    """In the order they start (the API reports the engine's heartbeat, so it comes last)."""
    engines = []
    for i in range(settings.streams_local_replicas):
        port = settings.streams_health_port + STREAMS_PORT_STEP * i
        name = "streams" if i == 0 else f"streams-{i + 1}"
        engines.append(_Service(name, ["streams"], [port], {"IOC_STREAMS_HEALTH_PORT": str(port)}))
    return [
        _Service("ingest", ["ingest"], [settings.ingest_health_port], {}),
        *engines,
        _Service("api", ["api"], [settings.api_ops_port, settings.api_port], {}),
        _Service("notify", ["notify"], [settings.notify_health_port], {}),
    ]


SIMULATOR = "simulator"
_SIMULATOR_SETTLE_SECONDS = 3.0  # it has no health endpoint: alive after this long means connected


def register(commands: Any) -> None:
    services = commands.add_parser("services", help="run the system's processes in the background")
    actions = services.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser(
        "start", help="start what is not running and wait until it is healthy", epilog="example: ioc services start"
    )
    actions.add_parser("stop", help="stop cleanly (SIGTERM, then wait)", epilog="example: ioc services stop")
    status = actions.add_parser("status", help="which are running", epilog="example: ioc services status --json")
    json_option(status, "ioc services status")
    services.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "start":
        return start(settings)
    if args.action == "stop" and not has_local_stack(settings):
        print(f"no local stack in {settings.resolved_home()}: nothing to stop")
        return 0
    run_dir = _run_dir(settings)
    names = [service.name for service in _services(settings)]
    if args.action == "stop":
        for name in (SIMULATOR, *names):  # the simulator first: its last statuses reach a running ingest
            _stop(name, run_dir / f"{name}.pid")
        return 0
    pids = {name: _alive(run_dir / f"{name}.pid") for name in (*names, SIMULATOR)}
    if args.json:
        print_json({name: {"running": pid is not None, "pid": pid} for name, pid in pids.items()})
        return 0
    for name, pid in pids.items():
        if name != SIMULATOR or pid is not None:  # the simulator only runs in the demo
            print(f"{name:<10} {'running (pid ' + str(pid) + ')' if pid else 'stopped'}")
    return 0


def start(settings: Settings, simulator_args: list[str] | None = None) -> int:
    """Starts what is not running (and the simulator with these arguments, if given), in order; 1 at the
    first that failed, leaving the ones after it unstarted."""
    run_dir = _run_dir(settings)
    logs = run_dir.parent / "logs"
    for name, command, ports, environment in _services(settings):
        if not _start(name, command, run_dir / f"{name}.pid", logs / f"{name}.log", ports, environment):
            return 1  # the later services depend on this one (the API reports the engine's heartbeat)
    if simulator_args is not None:
        pid_file, log_file = run_dir / f"{SIMULATOR}.pid", logs / f"{SIMULATOR}.log"
        if not _start(SIMULATOR, ["simulate", *simulator_args], pid_file, log_file, [], {}):
            return 1
    return 0


def _run_dir(settings: Settings) -> Path:
    run_dir = existing_stack(settings).paths.home / "run"
    run_dir.mkdir(exist_ok=True)
    return run_dir


def _alive(pid_file: Path) -> int | None:
    """The pid in the file, if that process is still an `ioc` service (never a stranger's reused pid)."""
    try:
        pid = int(pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    # `api.cli`: a service started before the command line left the api package (still ours to stop).
    return pid if b"cli" in cmdline or b"api.cli" in cmdline else None


def _start(
    name: str, command: list[str], pid_file: Path, log_file: Path, ports: list[int], environment: dict[str, str]
) -> bool:
    """`ports`: its health port first (none: a process without one, such as the simulator), then the others."""
    if (pid := _alive(pid_file)) is not None:
        print(f"{name}: already running (pid {pid})")
        return True
    for port in ports:
        holder = None if port_is_free(port) else port_holder(port)
        if holder is not None:
            print(f"{name}: not started: {holder.describe()}", file=sys.stderr)
            return False
    health_port = ports[0] if ports else None
    with open(log_file, "a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", *command],
            stdout=log,
            stderr=log,
            start_new_session=True,
            env={**os.environ, **environment},
        )
    pid_file.write_text(str(process.pid))
    started = time.monotonic()
    deadline = started + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            print(f"{name}: exited with {process.returncode}; see {log_file}", file=sys.stderr)
            return False
        if health_port is None:
            if time.monotonic() - started >= _SIMULATOR_SETTLE_SECONDS:
                print(f"{name}: running (pid {process.pid}), log {log_file}")
                return True
        elif is_healthy(health_port):
            print(f"{name}: running (pid {process.pid}), health http://127.0.0.1:{health_port}/health")
            return True
        time.sleep(0.2)
    print(f"{name}: not healthy after 30 s; see {log_file}", file=sys.stderr)
    return False


def _stop(name: str, pid_file: Path) -> None:
    pid = _alive(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(pid_file) is not None:
        time.sleep(0.1)
    if _alive(pid_file) is not None:
        os.kill(pid, signal.SIGKILL)
        print(f"{name}: did not stop within 30 s; killed", file=sys.stderr)
    pid_file.unlink(missing_ok=True)
    print(f"{name}: stopped")
