"""C publishers (`mosquitto_pub -l`) fed at a set rate: the load generator costs little CPU of its own.

Each feeder owns one `mosquitto_pub` process (QoS 1, MQTT 5) and the lines to write to its stdin:
at `rate` lines per second, or as fast as the pipe takes them when the rate is 0. Every line is
stamped with the time it is handed over (its `occurred_at`). The password reaches mosquitto_pub
through its options file, never its command line.

`feed` hands the lines over. One thread paces every feeder that has a rate: with a thread each, the
500 publishers of `ioc bench streams` woke 2,000 times a second between them and took CPU that the
measured processes then lacked (docs/performance.md#design-figures). A feeder without a rate gets a
thread of its own, because its writes block whenever mosquitto_pub falls behind, and that must not hold up the others.
"""

from __future__ import annotations

import heapq
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from tools.bench.workload import BenchPublisher, PayloadTemplate, stamp_now

_TICK_SECONDS = 0.005
_FLOOD_LINES = 500  # per write when the rate is 0


class PublisherFeeder:
    def __init__(
        self, publisher: BenchPublisher, password: str, port: int, lines: list[PayloadTemplate], rate: float
    ) -> None:
        self.publisher = publisher
        self.rate = rate
        self._lines = lines
        self._sent = 0
        self._config_dir = tempfile.TemporaryDirectory(prefix="ioc-bench-")
        options = Path(self._config_dir.name) / "mosquitto_pub"
        options.touch(mode=0o600)
        options.write_text(f"-u {publisher.id}\n-P {password}\n")
        self._process = subprocess.Popen(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-V", "mqttv5", "-M", "1000",
             "-l", "-t", publisher.topic],
            stdin=subprocess.PIPE, env={"XDG_CONFIG_HOME": self._config_dir.name, "PATH": "/usr/bin:/bin"},
        )  # fmt: skip

    @property
    def line_count(self) -> int:
        return len(self._lines)

    @property
    def sent(self) -> int:
        return self._sent

    @property
    def done(self) -> bool:
        return self._sent == len(self._lines)

    def write_until(self, due: int) -> None:
        """Hand over the lines up to `due` (a count from the first line), stamped now."""
        due = min(due, len(self._lines))
        if due > self._sent:
            assert self._process.stdin is not None
            stamp = stamp_now()
            self._process.stdin.write(b"".join(t.render(stamp) + b"\n" for t in self._lines[self._sent : due]))
            self._process.stdin.flush()
            self._sent = due
        if self.done:
            self._process.stdin.close()  # type: ignore[union-attr]

    def next_due(self, started_at: float) -> float:
        """When the next line is due, for a feeder with a rate whose first line was due at `started_at`."""
        return started_at + self._sent / self.rate

    def wait(self, timeout_seconds: float) -> int:
        """Wait until mosquitto_pub exited (every line acknowledged by the broker)."""
        code = self._process.wait(timeout_seconds)
        self._config_dir.cleanup()
        return code


def feed(feeders: list[PublisherFeeder], timeout_seconds: float) -> None:
    """Hand every feeder's lines over and wait until every mosquitto_pub exited."""
    paced = [f for f in feeders if f.rate > 0]
    threads = [threading.Thread(target=_pace, args=(paced,), name="feed-paced", daemon=True)]
    threads += [
        threading.Thread(target=_flood, args=(f,), name=f"feed-{f.publisher.id}", daemon=True)
        for f in feeders
        if f.rate <= 0
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout_seconds)
    for f in feeders:
        f.wait(timeout_seconds)


def _pace(feeders: list[PublisherFeeder]) -> None:
    # Each feeder's first line is due a little after the previous feeder's, spread over one interval
    # between lines: publishers that all published at the same instants would send the load in
    # bursts (500 events at once, four times a second), which no real set of publishers does.
    now = time.monotonic()
    starts = [now + i / (len(feeders) * f.rate) for i, f in enumerate(feeders)]
    queue = [(start, i) for i, start in enumerate(starts)]  # (when its next line is due, feeder)
    heapq.heapify(queue)
    while queue:
        now = time.monotonic()
        if queue[0][0] > now:
            # Sleep until the next line is due, but at least a tick: lines due within it go together.
            time.sleep(max(_TICK_SECONDS, queue[0][0] - now))
            now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, i = heapq.heappop(queue)
            feeder = feeders[i]
            feeder.write_until(int((now - starts[i]) * feeder.rate) + 1)
            if not feeder.done:
                heapq.heappush(queue, (feeder.next_due(starts[i]), i))


def _flood(feeder: PublisherFeeder) -> None:
    feeder.write_until(_FLOOD_LINES)  # closes the pipe at once when there are no lines
    while not feeder.done:
        feeder.write_until(feeder.sent + _FLOOD_LINES)
