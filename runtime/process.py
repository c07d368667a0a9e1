"""What every long-running service does with its process: stop cleanly on a signal, tune the collector."""

from __future__ import annotations

import gc
import logging
import signal
from collections.abc import Callable
from types import FrameType


def tune_garbage_collection() -> None:
    """For a long-running service, once it is built and before it serves.

    Young passes every 10,000 allocations instead of 700: each pass promotes what happens to be alive
    at that moment (in the API, with hundreds of live websockets, thousands of objects a second that
    die a moment later), and promotions are what trigger full passes, which walk every object of the
    process and stop every wall while they run. Measured with `ioc bench ws`, this leaves the API and
    the engine a few short full passes instead of many long ones (docs/performance.md#design-figures).
    What is built at start (modules, routes, models, the metrics registry) never dies: frozen, it
    leaves the passes altogether."""
    gc.set_threshold(10_000, 10, 10)
    gc.freeze()


def stop_on_signals(stop: Callable[[], None], log: logging.Logger) -> None:
    """SIGTERM and SIGINT call `stop` (which must be safe from a signal handler) for a clean shutdown."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
