-- History of the KPIs, written by the KPI engine (`ioc streams`): minute snapshots of every value
-- it publishes, and 1-minute rollups of the raw hypertables (the Apache edition of TimescaleDB has
-- no continuous aggregates, so the engine maintains them). History queries over months read these,
-- never the raw events.

-- Every KPI value of every area and window, once a minute (rows only for values the engine holds).
CREATE TABLE kpi_snapshots (
    at              timestamptz NOT NULL,
    kpi             text        NOT NULL,
    area_code       text        NOT NULL,
    window_name     text        NOT NULL,
    value           double precision,
    numerator       double precision,
    denominator     double precision,
    target          double precision,
    UNIQUE (kpi, area_code, window_name, at)
);
SELECT create_hypertable('kpi_snapshots', by_range('at', INTERVAL '1 day'));

-- Additive counts per minute of event time; rebuilt minute by minute from the raw events, so a
-- late event only re-rolls its own minute.
CREATE TABLE payment_rollup_1m (
    bucket          timestamptz NOT NULL,
    area_code       text        NOT NULL,
    sector          text        NOT NULL,
    method          text        NOT NULL,
    outcome         text        NOT NULL,
    transactions    bigint      NOT NULL,
    amount_vnd      bigint      NOT NULL,
    UNIQUE (area_code, sector, method, outcome, bucket)
);
SELECT create_hypertable('payment_rollup_1m', by_range('bucket', INTERVAL '30 days'));

CREATE TABLE coverage_rollup_1m (
    bucket          timestamptz NOT NULL,
    area_code       text        NOT NULL,
    operator        text        NOT NULL,
    technology      text        NOT NULL,
    samples         bigint      NOT NULL,
    usable          bigint      NOT NULL,  -- download ≥ 5 Mbit/s, latency ≤ 150 ms, loss ≤ 2 %
    download_mbps_sum double precision NOT NULL,
    latency_ms_sum  double precision NOT NULL,
    UNIQUE (area_code, operator, technology, bucket)
);
SELECT create_hypertable('coverage_rollup_1m', by_range('bucket', INTERVAL '30 days'));

-- Dossier events (not distinct dossiers: distinct counts do not add up across minutes).
CREATE TABLE dossier_rollup_1m (
    bucket          timestamptz NOT NULL,
    area_code       text        NOT NULL,
    status          text        NOT NULL,
    channel         text        NOT NULL,
    e_certified     boolean     NOT NULL,
    deadline        text        NOT NULL CHECK (deadline IN ('none', 'on_time', 'late')),
    events          bigint      NOT NULL,
    UNIQUE (area_code, status, channel, e_certified, deadline, bucket)
);
SELECT create_hypertable('dossier_rollup_1m', by_range('bucket', INTERVAL '30 days'));
