-- Targets and alert rules as the operations center edits them (API, scope admin). They start as the
-- files shipped in streams/ (seeded when these tables are empty); the KPI engine follows changes.
CREATE TABLE kpi_targets (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kpi        text             NOT NULL,
    value      double precision NOT NULL,
    direction  text             NOT NULL CHECK (direction IN ('at_least', 'at_most')),
    deadline   date,
    source     text             NOT NULL DEFAULT '',
    updated_at timestamptz      NOT NULL DEFAULT clock_timestamp(),
    -- one target per KPI and deadline (and one without a deadline)
    CONSTRAINT kpi_targets_one_per_deadline UNIQUE NULLS NOT DISTINCT (kpi, deadline)
);

-- A rule is kept as the JSON of streams.alerts.rules.AlertRule: the model validates it, the
-- database keeps it (its id is the key that alerts refer to).
CREATE TABLE alert_rules (
    id         text        PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    definition jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
