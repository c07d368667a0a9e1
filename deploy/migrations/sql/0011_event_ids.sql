-- The event ids each publisher used in the last days, whatever their occurred_at: how ingest tells a
-- re-sent event (the same fields: stored once) from a different event under a used id (a dead letter
-- `conflicting_duplicate`, the stored row unchanged).
--
-- The event tables cannot say it themselves: TimescaleDB enforces a unique key per chunk, so every
-- key must hold the time column, and `(occurred_at, event_id, publisher_id)` lets the same id in
-- again under another occurred_at. A hypertable partitioned by arrival time would not do either:
-- its unique key must hold the arrival time, which differs at every re-send, a broker's redelivery
-- after a crash included. So a plain table, keyed by `(publisher_id, event_id)` alone:
--   - Ingest inserts a batch's ids here in the batch's transaction, in the statement that inserts
--     its events. An id already here fails it: the transaction rolls back and the batch is written
--     again with `INSERT … ON CONFLICT DO NOTHING`, each id that was not new compared with its
--     stored row (`ingest/storage/resends.py`).
--   - Two ingest processes (`--workers N`) that get the same id at once: the second one's insert
--     waits on the first one's uncommitted key; when the first commits, the second finds the id
--     taken and compares (stored once); when it rolls back, the second takes the id. Ids go in
--     sorted, so two batches never wait on each other crosswise (no deadlock).
--   - A batch that committed but was not acknowledged (a crash) comes again: its ids are all taken,
--     its fields equal, so every event is a duplicate; one that did not commit left nothing here.
--   - Ingest's retention task deletes rows received longer ago than IOC_INGEST_RESEND_HORIZON_DAYS
--     (7 by default, at least 7), hence the index on received_at; past it, a re-send under the same
--     occurred_at is still absorbed by the event table's key, one under another occurred_at is
--     stored again.
-- Status messages have no id (their key is publisher, state and time) and are not listed here.
CREATE TABLE event_ids (
    publisher_id    text        NOT NULL,
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL,
    PRIMARY KEY (publisher_id, event_id)
);
CREATE INDEX event_ids_received_at_idx ON event_ids (received_at);

-- The ids of what was received in the last 7 days, so that the rule holds across the upgrade. Only
-- events of the last 14 days (event time) are read: chunk exclusion keeps this to a few chunks of
-- each table, where reading every chunk of a large table would hold the upgrade for hours.
INSERT INTO event_ids (publisher_id, event_id, event_type, occurred_at, received_at)
SELECT publisher_id, event_id, event_type, occurred_at, received_at FROM (
    SELECT publisher_id, event_id, 'dossier' AS event_type, occurred_at, received_at FROM portal_dossier_events
    WHERE occurred_at > now() - interval '14 days' AND received_at > now() - interval '7 days'
    UNION ALL
    SELECT publisher_id, event_id, 'transaction', occurred_at, received_at FROM payment_transactions
    WHERE occurred_at > now() - interval '14 days' AND received_at > now() - interval '7 days'
    UNION ALL
    SELECT publisher_id, event_id, 'sample', occurred_at, received_at FROM coverage_samples
    WHERE occurred_at > now() - interval '14 days' AND received_at > now() - interval '7 days'
) recent
ORDER BY received_at
ON CONFLICT (publisher_id, event_id) DO NOTHING;
