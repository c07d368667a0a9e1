"""CPU time and memory of processes, read from /proc (Linux), and the metrics a service serves."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _status_bytes(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    return 0


def peak_rss_bytes(pid: int) -> int:
    return _status_bytes(pid, "VmHWM:")


def private_bytes(pid: int) -> int:
    """Anonymous resident memory: what the process itself allocated (not shared memory, not files)."""
    return _status_bytes(pid, "RssAnon:")


class CpuWatch:
    """CPU seconds a process uses between `start()` and `stop()`."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._at_start = 0.0
        self.seconds = 0.0

    def start(self) -> None:
        self._at_start = cpu_seconds(self._pid)

    def stop(self) -> None:
        self.seconds = cpu_seconds(self._pid) - self._at_start


def metric_value(port: int, name: str) -> float:
    """A metric on a service's Prometheus page (served on its health port), summed over its labels."""
    total, found = 0.0, False
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith((name + " ", name + "{")):
                total, found = total + float(line.rsplit(" ", 1)[1]), True
    if not found:
        raise LookupError(f"no metric {name} on port {port}")
    return total
