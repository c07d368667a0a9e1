"""The contract every local service follows, and the health record that `ioc stack status` prints."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from deploy.stack.ports import PortTaken, port_holder, port_is_free

HealthState = Literal["ok", "down"]


@dataclass(frozen=True, slots=True)
class ServiceHealth:
    name: str
    state: HealthState
    address: str
    detail: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class ServiceStartError(RuntimeError):
    """A service did not come up; the message names its log file."""

    def __init__(self, name: str, reason: str, log_file: Path) -> None:
        super().__init__(f"{name} failed to start: {reason} (see {log_file})")
        self.name = name
        self.log_file = log_file


class LocalService(ABC):
    """A service the stack owns. `start` is idempotent and returns only once the service answers."""

    name: str
    log_file: Path

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...

    @abstractmethod
    def health(self) -> ServiceHealth: ...

    def start_daemon(self, argv: list[str], pid_file: Path, port: int, port_setting: str) -> None:
        """Run a command that daemonises the service, unless the process in `pid_file` is alive."""
        if read_pid(pid_file, Path(argv[0]).name) is not None:
            return
        self.ensure_port_free(port, port_setting)
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ServiceStartError(self.name, (result.stderr or result.stdout).strip(), self.log_file)

    def ensure_port_free(self, port: int, port_setting: str, own_pid: int | None = None) -> None:
        """Refuse to start on a port another process holds, naming that process (a bare "Address
        already in use" in a log file sent people hunting)."""
        if port_is_free(port):
            return
        holder = port_holder(port)
        if holder is None or (own_pid is not None and holder.pid == own_pid):
            return
        raise ServiceStartError(self.name, str(PortTaken(holder, port_setting)), self.log_file)

    def wait_healthy(self, timeout_seconds: float) -> None:
        deadline = time.monotonic() + timeout_seconds
        last = self.health()
        while last.state != "ok":
            if time.monotonic() > deadline:
                raise ServiceStartError(self.name, last.detail or "no answer", self.log_file)
            time.sleep(0.1)
            last = self.health()


def read_pid(pid_file: Path, program: str | None = None) -> int | None:
    """The live process in `pid_file`; None when there is none, or (with `program`) when the pid
    now belongs to another program — a stale file after a reboot must never get a kill."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None
    if program is not None:
        try:
            # Redis rewrites its title ("redis-server 127.0.0.1:6379"): the first word is the program.
            words = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
        except OSError:
            return None
        if not words or Path(words[0].decode(errors="replace")).name != program:
            return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by a service user
    return pid


def terminate(pid_file: Path, program: str, timeout_seconds: float = 15.0) -> None:
    """SIGTERM the `program` process in `pid_file` and wait for it to exit (SIGKILL after the timeout)."""
    pid = read_pid(pid_file, program)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
