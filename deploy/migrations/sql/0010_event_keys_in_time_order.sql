-- The event tables' unique keys in time order: (occurred_at, event_id, publisher_id) instead of
-- (event_id, publisher_id, occurred_at), and no separate time index.
--
-- Why: with a random UUID first, every batch of inserts lands on as many index pages as it has
-- rows, spread over the whole index; after each checkpoint each of those pages is written to the
-- WAL whole once, and as a chunk's index grows past memory they are read back too. Keyed by time,
-- a batch touches the few pages at the index's right-hand edge. `ioc bench keys` measures the two
-- side by side through ingest's write path: the README's "Event keys" gives the figures.
--
-- The key still holds all three columns, so deduplication and "one publisher cannot suppress
-- another's events" are unchanged. It now also serves every time-range read (retention, the
-- engine's rebuilds and rollups, the events API's `ORDER BY occurred_at DESC, event_id DESC`
-- pages), which the default `occurred_at DESC` index served before: one index fewer to write.
-- On a table with many chunks this rebuilds each chunk's index inside the migration's transaction.

ALTER TABLE portal_dossier_events DROP CONSTRAINT portal_dossier_events_event_id_publisher_id_occurred_at_key;
ALTER TABLE portal_dossier_events ADD CONSTRAINT portal_dossier_events_key UNIQUE (occurred_at, event_id, publisher_id);
DROP INDEX portal_dossier_events_occurred_at_idx;

ALTER TABLE payment_transactions DROP CONSTRAINT payment_transactions_event_id_publisher_id_occurred_at_key;
ALTER TABLE payment_transactions ADD CONSTRAINT payment_transactions_key UNIQUE (occurred_at, event_id, publisher_id);
DROP INDEX payment_transactions_occurred_at_idx;

ALTER TABLE coverage_samples DROP CONSTRAINT coverage_samples_event_id_publisher_id_occurred_at_key;
ALTER TABLE coverage_samples ADD CONSTRAINT coverage_samples_key UNIQUE (occurred_at, event_id, publisher_id);
DROP INDEX coverage_samples_occurred_at_idx;
