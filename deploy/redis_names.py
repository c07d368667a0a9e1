"""Every Redis key, stream and channel name of the system, in one place (a leaf module)."""

from __future__ import annotations

# Compact records of the events ingest stored (not duplicates, not dead letters), one stream
# entry per committed batch; the KPI engine consumes it with a consumer group.
STORED_EVENTS_STREAM = "ioc:events:stored"
STREAMS_CONSUMER_GROUP = "streams"
