"""Connections that never send a byte, held open against a real `ioc api`, cannot keep others out.

21,200 such connections made `/api/v1/health` fail with resets until they were released: uvicorn has no
timeout for reading a request's head, and accepted connections until the process ran out of file
descriptors. Here helper processes hold 21,000 of them (three source addresses, 7,000 each: one process
may hold about 19,000 sockets on the test machine) while a real KPI engine runs, so that health has
every reason to be ok; `GET /api/v1/health` must still answer 200 within 1 s, the API must never hold
more connections than its bound, and every idle connection must be closed within 10 s.

The fast profile (`make test`) holds 3,000 against a bound of 1,000 connections: the same eviction at
the bound and the same timeout, at a smaller scale.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from deploy.stack.manager import LocalStack
from deploy.stack.ports import port_holder
from tests.fixtures.api import api_process
from tests.fixtures.ingest import wait_for
from tests.fixtures.stack import IsolatedDatabase
from tests.fixtures.verify import VerifyProfile
from tests.verify.engine_process import spawn_engine
from tests.verify.report import ScenarioResult

pytestmark = pytest.mark.integration
HEALTH_WITHIN_SECONDS = 1.0
IDLE_CLOSED_WITHIN_SECONDS = 10.0


class OpenFiles:
    """Samples how many descriptors a process holds, in a thread, until stopped: the highest seen."""

    def __init__(self, pid: int) -> None:
        self._fd_dir = Path(f"/proc/{pid}/fd")
        self.peak = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="open-files", daemon=True)
        self._thread.start()

    def now(self) -> int:
        return len(os.listdir(self._fd_dir))

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, self.now())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def timed_health(base_url: str) -> tuple[int, float]:
    started = time.monotonic()
    status = httpx.get(f"{base_url}/api/v1/health", timeout=10).status_code  # a new connection each time
    return status, time.monotonic() - started


def test_21000_idle_connections_leave_health_answering_within_1_s(
    stack: LocalStack,
    database: IsolatedDatabase,
    redis_url: str,
    scenario: ScenarioResult,
    profile: VerifyProfile,
) -> None:
    count = profile.pick(fast=3_000, full=21_000)
    sources = profile.pick(fast=["127.0.0.11"], full=["127.0.0.11", "127.0.0.12", "127.0.0.13"])
    limits = profile.pick(fast={"IOC_API_MAX_CONNECTIONS": "1000"}, full={})
    scenario.scenario = "Security: idle connections held open cannot keep GET /api/v1/health from answering"
    scenario.load = f"{count:,} connections that never send a byte, from {len(sources)} processes, against 'ioc api'"
    engine = spawn_engine(stack, database, redis_url)
    try:
        with api_process(stack, database, redis_url, **limits) as base_url:
            port = urlsplit(base_url).port
            assert port is not None
            holder = port_holder(port)
            assert holder is not None
            assert holder.pid is not None
            limit = open_files_limit(holder.pid)
            assert wait_for(lambda: timed_health(base_url)[0] == 200, timeout=20), "health was not ok to begin with"
            files = OpenFiles(holder.pid)
            try:
                opened, answers, released_after = _hold(port, count, sources, base_url, files)
            finally:
                files.stop()
    finally:
        engine.terminate()
    connected = sum(o["connected"] for o in opened)
    assert connected + sum(o["failed"] for o in opened) == count
    assert files.peak < limit
    scenario.measure("connections established and held", connected)
    scenario.measure("seconds to open them", max(o["seconds"] for o in opened))
    scenario.measure("health answers (all 200), s", " ".join(f"{seconds:.2f}" for _, seconds in answers))
    scenario.measure("API's peak open files", files.peak)
    scenario.measure("its open-file limit", limit)
    scenario.measure("all idle closed after, s", released_after)


def open_files_limit(pid: int) -> int:
    return int(Path(f"/proc/{pid}/limits").read_text().split("Max open files")[1].split()[0])


def _hold(
    port: int, count: int, sources: list[str], base_url: str, files: OpenFiles
) -> tuple[list[dict[str, float]], list[tuple[int, float]], float]:
    """Holds `count` idle connections from helper processes; health meanwhile, and how long until the
    API had closed every one of them (from the moment they were all open)."""
    before = files.now()
    argv = [sys.executable, "-m", "tests.verify.idle_connections", str(port), str(count // len(sources))]
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE}
    helpers = [subprocess.Popen([*argv, ip], **pipes) for ip in sources]  # type: ignore[call-overload]
    try:
        opened = [json.loads(helper.stdout.readline()) for helper in helpers if helper.stdout is not None]
        held_at = time.monotonic()
        answers = [timed_health(base_url) for _ in range(5)]
        assert [status for status, _ in answers] == [200] * 5, answers
        assert max(seconds for _, seconds in answers) < HEALTH_WITHIN_SECONDS, answers
        released = wait_for(lambda: files.now() <= before + 5, timeout=IDLE_CLOSED_WITHIN_SECONDS + 5)
        assert released, f"{files.now() - before} connections still open"
        return opened, answers, time.monotonic() - held_at
    finally:
        for helper in helpers:
            assert helper.stdin is not None
            helper.stdin.close()
            helper.wait(60)
            if helper.stdout is not None:
                helper.stdout.close()
