"""Every Redis key, stream and channel name of the system, in one place (a leaf module)."""

from __future__ import annotations

# Compact records of the events ingest stored (not duplicates, not dead letters), one stream
# entry per committed batch; the KPI engine consumes it with a consumer group.
STORED_EVENTS_STREAM = "ioc:events:stored"
STREAMS_CONSUMER_GROUP = "streams"
# Each ingest producer's latest published `session:pseq` (":final" after a clean stop), written in
# the same transaction as its stream entry, so a rebuild knows exactly where every producer stood.
STORED_EVENTS_PRODUCERS = "ioc:events:producers"

# KPI frames (see streams.frames): live pub/sub, a capped stream to replay from, the latest per key.
KPI_FRAMES_CHANNEL = "ioc:kpi:frames"
KPI_FRAMES_STREAM = "ioc:kpi:frames:log"
KPI_CURRENT = "ioc:kpi:current"
KPI_EPOCH = "ioc:kpi:epoch"

# Notices of alerts opened or resolved (JSON list); the alerts themselves live in the database.
ALERTS_CHANNEL = "ioc:alerts"
# The KPI engine's heartbeat: its clock (RFC 3339), refreshed every second while it runs (10 s TTL).
KPI_HEARTBEAT = "ioc:kpi:heartbeat"
# The active KPI engine's lease: its lease token, with a time to live; the standby takes it when it lapses.
KPI_ENGINE_LEASE = "ioc:kpi:lease"

# The name of each API key as it is revoked: every API process closes the key's live websockets.
API_KEYS_REVOKED_CHANNEL = "ioc:apikeys:revoked"

# Each API process's live websocket clients (JSON {"kpis": n, "events": n}), one key per process
# (this prefix and its instance id), refreshed every 5 s with a 15 s TTL: the console's status board
# adds them up, whatever the number of replicas.
API_LIVE_CLIENTS_PREFIX = "ioc:api:live_clients:"
