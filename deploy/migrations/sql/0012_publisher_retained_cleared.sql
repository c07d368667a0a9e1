-- Retained event messages the broker kept for a publisher, deleted by the ingest's sweeper (a retained
-- message is re-delivered to every new subscription: it must not stay on the broker). Shown by
-- `ioc publishers list` and GET /api/v1/publishers; 0 and NULL for a publisher that never sent one.
ALTER TABLE publishers
    ADD COLUMN retained_cleared bigint NOT NULL DEFAULT 0 CHECK (retained_cleared >= 0),
    ADD COLUMN retained_cleared_at timestamptz;
