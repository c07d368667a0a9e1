-- The event tables' unique keys in time order: (occurred_at, event_id, publisher_id) instead of
-- (event_id, publisher_id, occurred_at), and no separate time index.
--
-- Why: with a random UUID first, every batch of inserts lands on as many index pages as it has
-- rows, spread over the whole index; after each checkpoint each of those pages is written to the
-- WAL whole once, and as a chunk's index grows past memory they are read back too. Keyed by time,
-- a batch touches the few pages at the index's right-hand edge. `ioc bench keys` measures the two
-- layouts side by side through ingest's write path: the README's "Event keys" gives the figures.
--
-- The key still holds all three columns, so deduplication and "one publisher cannot suppress
-- another's events" are unchanged. It also serves every time-range read (retention, the engine's
-- rebuilds and rollups, the events API's `ORDER BY occurred_at DESC, event_id DESC` pages), which
-- the default `occurred_at DESC` index served before: one index fewer to write.
--
-- Not additive: each table's key is rebuilt under an exclusive lock, inside this transaction (on a
-- large table, minutes during which ingest waits). A table with native compression switched on
-- (community edition, after `ioc db migrate` enabled it) keeps its old key: older TimescaleDB
-- releases refuse a new unique constraint there, and the old key is correct, only slower to write.
DO $$
DECLARE
    event_table text;
BEGIN
    FOREACH event_table IN ARRAY ARRAY['portal_dossier_events', 'payment_transactions', 'coverage_samples'] LOOP
        IF EXISTS (
            SELECT 1 FROM timescaledb_information.hypertables
            WHERE hypertable_schema = current_schema() AND hypertable_name = event_table AND compression_enabled
        ) THEN
            RAISE NOTICE '%: compression is on, so the key stays (event_id, publisher_id, occurred_at)', event_table;
            CONTINUE;
        END IF;
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', event_table, event_table || '_event_id_publisher_id_occurred_at_key');
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I UNIQUE (occurred_at, event_id, publisher_id)', event_table, event_table || '_key');
        EXECUTE format('DROP INDEX %I', event_table || '_occurred_at_idx');
    END LOOP;
END
$$;
