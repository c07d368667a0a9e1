"""Prometheus metrics of one ingest process (a registry per process, so tests can read their own)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.received = Counter("ioc_ingest_received", "MQTT messages received", registry=r)
        self.stored = Counter("ioc_ingest_stored", "Events stored", ["event_type"], registry=r)
        self.duplicates = Counter(
            "ioc_ingest_duplicates",
            "Events already stored (redelivered or resent)",
            ["event_type"],
            registry=r,
        )
        self.dead_letters = Counter("ioc_ingest_dead_letters", "Messages dead-lettered", ["reason"], registry=r)
        self.batch_size = Histogram(
            "ioc_ingest_batch_size", "Messages per committed batch", registry=r,
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000),
        )  # fmt: skip
        self.commit_seconds = Histogram(
            "ioc_ingest_commit_seconds", "Time to write and commit one batch", registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )  # fmt: skip
        self.acknowledged = Counter(
            "ioc_ingest_acknowledged", "Messages acknowledged to the broker after their batch committed", registry=r
        )
        self.queue_depth = Gauge("ioc_ingest_queue_depth", "Messages received, not yet committed", registry=r)
        self.oldest_unacked_seconds = Gauge(
            "ioc_ingest_oldest_unacked_seconds", "Age of the oldest message not yet acknowledged", registry=r
        )
        self.storage_failures = Counter(
            "ioc_ingest_storage_failures", "Batches that failed to commit and were retried", registry=r
        )
        self.broker_connected = Gauge("ioc_ingest_broker_connected", "1 when connected to the broker", registry=r)
        self.empty_messages = Counter(
            "ioc_ingest_empty_messages",
            "Empty messages (each deletes a retained message): acknowledged, neither stored nor dead-lettered",
            registry=r,
        )
        self.retained_cleared = Counter(
            "ioc_ingest_retained_cleared", "Retained event messages deleted from the broker by the sweeper", registry=r
        )
        self.retained_sweep_failures = Counter(
            "ioc_ingest_retained_sweep_failures", "Sweeps for retained messages that could not look", registry=r
        )
        self.spooled = Counter(
            "ioc_ingest_spooled_messages",
            "Messages written to the local spool (then acknowledged) while the database could not take them",
            registry=r,
        )
        self.drained = Counter(
            "ioc_ingest_spool_drained_messages", "Spooled messages stored in the database since", registry=r
        )
        self.spool_messages = Gauge("ioc_ingest_spool_messages", "Messages waiting in the spool", registry=r)
        self.spool_bytes = Gauge("ioc_ingest_spool_bytes", "Bytes the spool's files take on disk", registry=r)
        self.spool_set_aside = Gauge(
            "ioc_ingest_spool_set_aside_messages",
            "Spooled messages in files that could not be read back (moved to the spool's corrupt/ folder)",
            registry=r,
        )
        self.feedback_sent = Counter(
            "ioc_ingest_feedback_sent", "Dead letters told to their publisher on its feedback topic", registry=r
        )
        self.feedback_dropped = Counter(
            "ioc_ingest_feedback_dropped",
            "Dead letters not told to their publisher: over its rate (`rate`), or the outgoing queue full or the"
            " broker away (`queue`)",
            ["why"],
            registry=r,
        )
