-- The last minute snapshot of each hour, per KPI, area and window: history at 1-hour buckets and
-- coarser reads 60 times fewer rows. Rolled by the KPI engine's history writer once an hour has
-- ended (streams/engine/hourly_snapshots.py); the current hour is read from kpi_snapshots.
CREATE TABLE kpi_snapshots_1h (
    at              timestamptz NOT NULL,  -- the hour's start
    kpi             text        NOT NULL,
    area_code       text        NOT NULL,
    window_name     text        NOT NULL,
    value           double precision,
    numerator       double precision,
    denominator     double precision,
    target          double precision,
    UNIQUE (kpi, area_code, window_name, at)
);
SELECT create_hypertable('kpi_snapshots_1h', by_range('at', INTERVAL '30 days'));
