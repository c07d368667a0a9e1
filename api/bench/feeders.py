"""C publishers (`mosquitto_pub -l`) fed at a set rate: the load generator costs little CPU of its own.

Each feeder owns one `mosquitto_pub` process (QoS 1, MQTT 5) and a thread that writes its lines
to the process's stdin: at `rate` lines per second, or as fast as the pipe takes them when the
rate is 0. Every line is stamped with the time it is handed over (its `occurred_at`). The
password reaches mosquitto_pub through its options file, never its command line.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from pathlib import Path

from api.bench.workload import BenchPublisher, PayloadTemplate, stamp_now

_TICK_SECONDS = 0.005


class PublisherFeeder:
    def __init__(
        self, publisher: BenchPublisher, password: str, port: int, lines: list[PayloadTemplate], rate: float
    ) -> None:
        self.publisher = publisher
        self._lines = lines
        self._rate = rate
        self._config_dir = tempfile.TemporaryDirectory(prefix="ioc-bench-")
        options = Path(self._config_dir.name) / "mosquitto_pub"
        options.touch(mode=0o600)
        options.write_text(f"-u {publisher.id}\n-P {password}\n")
        self._process = subprocess.Popen(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-V", "mqttv5", "-M", "1000",
             "-l", "-t", publisher.topic],
            stdin=subprocess.PIPE, env={"XDG_CONFIG_HOME": self._config_dir.name, "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        self._thread = threading.Thread(target=self._feed, name=f"feed-{publisher.id}", daemon=True)
        self.started_at = 0.0
        self.finished_at = 0.0

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def start(self) -> None:
        self._thread.start()

    def wait(self, timeout_seconds: float) -> int:
        """Wait until every line was handed over and mosquitto_pub exited (all acknowledged)."""
        self._thread.join(timeout_seconds)
        code = self._process.wait(timeout_seconds)
        self._config_dir.cleanup()
        return code

    def _feed(self) -> None:
        assert self._process.stdin is not None
        pipe = self._process.stdin
        total = len(self._lines)
        sent = 0
        self.started_at = time.monotonic()
        while sent < total:
            if self._rate > 0:
                due = min(total, int((time.monotonic() - self.started_at) * self._rate) + 1)
            else:
                due = min(total, sent + 500)
            if due > sent:
                stamp = stamp_now()
                pipe.write(b"".join(t.render(stamp) + b"\n" for t in self._lines[sent:due]))
                pipe.flush()
                sent = due
            elif self._rate > 0:
                # Sleep until the next line is due: hundreds of slow feeders must not wake every tick.
                next_due = self.started_at + sent / self._rate
                time.sleep(max(_TICK_SECONDS, next_due - time.monotonic()))
            else:
                time.sleep(_TICK_SECONDS)
        self.finished_at = time.monotonic()
        pipe.close()
