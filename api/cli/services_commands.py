"""`ioc services start | stop | status`: the system's own processes in the background (for `make up`).

Today those are the ingest service, the KPI engine and the HTTP API. Each runs
detached, logs to `$IOC_HOME/logs/<name>.log`, and is remembered by a pid file in `$IOC_HOME/run`.
`stop` sends SIGTERM and waits for the clean shutdown (drain, commit, acknowledge).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from deploy.settings import Settings
from deploy.stack.manager import LocalStack
from ingest.service.health import is_healthy

# name -> its `ioc` sub-command, the setting holding its health port and the health path; started in
# this order (the API reports the engine's heartbeat, so it comes last).
_SERVICES: dict[str, tuple[list[str], str, str]] = {
    "ingest": (["ingest"], "ingest_health_port", "/health"),
    "streams": (["streams"], "streams_health_port", "/health"),
    "api": (["api"], "api_port", "/api/v1/health"),
}


def register(commands: Any) -> None:
    services = commands.add_parser("services", help="run the system's processes in the background")
    actions = services.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("start", help="start what is not running and wait until it is healthy")
    actions.add_parser("stop", help="stop cleanly (SIGTERM, then wait)")
    actions.add_parser("status", help="which are running")
    services.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    home = LocalStack(settings).paths.home
    (home / "run").mkdir(exist_ok=True)
    failures = 0
    for name, (command, port_setting, path) in _SERVICES.items():
        pid_file = home / "run" / f"{name}.pid"
        if args.action == "start":
            port = int(getattr(settings, port_setting))
            failures += not _start(name, command, pid_file, home / "logs" / f"{name}.log", port, path)
        elif args.action == "stop":
            _stop(name, pid_file)
        else:
            pid = _alive(pid_file)
            print(f"{name:<10} {'running (pid ' + str(pid) + ')' if pid else 'stopped'}")
    return 1 if failures else 0


def _alive(pid_file: Path) -> int | None:
    """The pid in the file, if that process is still an `ioc` service (never a stranger's reused pid)."""
    try:
        pid = int(pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if b"api.cli" in cmdline else None


def _start(name: str, command: list[str], pid_file: Path, log_file: Path, health_port: int, path: str) -> bool:
    if (pid := _alive(pid_file)) is not None:
        print(f"{name}: already running (pid {pid})")
        return True
    with open(log_file, "a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", *command], stdout=log, stderr=log, start_new_session=True
        )
    pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            print(f"{name}: exited with {process.returncode}; see {log_file}", file=sys.stderr)
            return False
        if is_healthy(health_port, path=path):
            print(f"{name}: running (pid {process.pid}), health http://127.0.0.1:{health_port}{path}")
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
