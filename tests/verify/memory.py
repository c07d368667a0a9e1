"""Private memory and CPU of the system's processes over a soak: sampled, memory judged flat or growing."""

from __future__ import annotations

import re
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tools.bench.procstats import cpu_seconds, private_bytes


def listener_pid(port: int) -> int:
    """The process listening on a loopback TCP port (a service of the stack)."""
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"pid=(\d+)", out)
    assert match is not None, f"nothing listens on port {port}"
    return int(match.group(1))


def with_children(pid: int) -> list[int]:
    """The process and its direct children (PostgreSQL: the postmaster and its backends)."""
    family = [pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                family.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return family


def private_total(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += private_bytes(pid)
        except OSError:
            continue  # a backend that ended between the listing and the reading
    return total


@dataclass
class MemoryTrend:
    """Samples of one service's private memory; flat when the end is within `limit` of the start,
    or within `floor_bytes` of it for a service as small as the broker.

    `expected` holds, per sample, the bytes the service is meant to add as its state fills (the KPI
    engine's windows fill for a day: its slots × `SLOT_BYTES_BOUND`); growth beyond that is judged.
    """

    name: str
    samples: list[int] = field(default_factory=list)
    expected: list[int] = field(default_factory=list)

    def growth(self, warm_up_samples: int) -> float:
        """Median of the last 5 samples over the median of the first 5 after warm-up, minus 1, less
        what `expected` grew by in between."""
        start, unexplained = self._start_and_growth(warm_up_samples)
        return unexplained / start

    def flat(self, warm_up_samples: int, limit: float = 0.10, floor_bytes: int = 2**20) -> bool:
        """Grown by less than `limit`, or by less than `floor_bytes`: Mosquitto's private memory is
        about 4 MB, and a soak saw it move by 0.4 MB (10.5 %), noise for a broker with messages in
        flight; a leak that matters grows by more than a megabyte in half an hour."""
        start, unexplained = self._start_and_growth(warm_up_samples)
        return unexplained < limit * start or unexplained < floor_bytes

    def _start_and_growth(self, warm_up_samples: int) -> tuple[float, float]:
        after = self.samples[warm_up_samples:]
        assert len(after) >= 10, f"{self.name}: too few samples after warm-up"
        start, end = statistics.median(after[:5]), statistics.median(after[-5:])
        return start, end - start - max(self.expected_growth(warm_up_samples), 0)

    def expected_growth(self, warm_up_samples: int) -> int:
        expected = self.expected[warm_up_samples:]
        return int(statistics.median(expected[-5:]) - statistics.median(expected[:5])) if expected else 0


@dataclass
class CpuTrend:
    """CPU seconds one service has used, sampled with the time, to compare its load early and late.

    A service of several processes (PostgreSQL's backends, autovacuum workers that come and go)
    counts each process's last reading, so one that ends keeps what it used.
    """

    name: str
    samples: list[tuple[float, float]] = field(default_factory=list)  # (monotonic s, CPU s)
    _last_by_pid: dict[int, float] = field(default_factory=dict)

    def sample(self, pids: list[int], at: float) -> None:
        for pid in pids:
            try:
                self._last_by_pid[pid] = cpu_seconds(pid)
            except OSError:
                continue  # ended between the listing and the reading
        self.samples.append((at, sum(self._last_by_pid.values())))

    def percent(self, first: int, last: int) -> float:
        """Percent of one core used between two samples."""
        (t0, c0), (t1, c1) = self.samples[first], self.samples[last]
        return 100 * (c1 - c0) / (t1 - t0)
