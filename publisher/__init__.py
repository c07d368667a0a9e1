"""The reference publisher of the MQTT contract v1: MQTT 5, TLS, event ids and `seq`, the status
message and last will, and store-and-forward on local disk (docs/publisher-library.md).

Integrators import it without the server: it depends on paho-mqtt and the standard library only.
"""

from publisher.client import Publisher, PublisherConfig, PublisherStats
from publisher.disk_queue import DiskQueue
from publisher.memory_queue import MemoryQueue
from publisher.queue_base import EventQueue, QueuedMessage

__all__ = [
    "DiskQueue",
    "EventQueue",
    "MemoryQueue",
    "Publisher",
    "PublisherConfig",
    "PublisherStats",
    "QueuedMessage",
]
