-- The audit trail of the console's bulk replays (POST /api/v1/dead-letters/replay, scope admin): who
-- replayed which filter, how many it matched, and what came of them. A row is written before the first
-- replay and completed after the last, so a replay that failed halfway still says who started it.
CREATE TABLE dead_letter_bulk_replays (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    actor text NOT NULL,
    filter jsonb NOT NULL,
    matched integer NOT NULL CHECK (matched >= 0),
    stored integer NOT NULL DEFAULT 0 CHECK (stored >= 0),
    duplicate integer NOT NULL DEFAULT 0 CHECK (duplicate >= 0),
    rejected integer NOT NULL DEFAULT 0 CHECK (rejected >= 0)
);
