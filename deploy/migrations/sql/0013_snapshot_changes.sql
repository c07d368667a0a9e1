-- Minute snapshots hold what changed since the previous one: a value that changed or appeared, and
-- a row with `held = false` for a value the engine no longer holds. The first snapshot of each hour
-- and the first after an engine start are full (every value held). `kpi_snapshot_runs` records every
-- minute a snapshot was taken, so that a reader can tell "unchanged" (carry the last row forward)
-- from "not taken" (the engine was down: no value for that minute, as before).
ALTER TABLE kpi_snapshots ADD COLUMN held boolean NOT NULL DEFAULT true;

CREATE TABLE kpi_snapshot_runs (
    at              timestamptz PRIMARY KEY,
    full_snapshot   boolean     NOT NULL,
    rows_written    integer     NOT NULL,
    values_held     integer     NOT NULL  -- what a full snapshot writes: the saving is the difference
);
CREATE INDEX kpi_snapshot_runs_full ON kpi_snapshot_runs (at) WHERE full_snapshot;

-- Every snapshot taken before this migration was full.
INSERT INTO kpi_snapshot_runs (at, full_snapshot, rows_written, values_held)
SELECT at, true, count(*), count(*) FROM kpi_snapshots GROUP BY at;

-- A key's value at each snapshot taken in [p_from, p_to): its latest row since the last full snapshot
-- at or before that minute, if that row holds a value; then the last of them per bucket. The API's
-- history and the Grafana panels read through this function (streams/history_reads.py).
CREATE FUNCTION kpi_history(
    p_kpi text, p_area text, p_window text, p_from timestamptz, p_to timestamptz, p_bucket interval
) RETURNS TABLE (
    bucket timestamptz, value double precision, numerator double precision,
    denominator double precision, target double precision
) LANGUAGE sql STABLE AS $$
    SELECT time_bucket(p_bucket, taken.at), last(s.value, taken.at), last(s.numerator, taken.at),
           last(s.denominator, taken.at), last(s.target, taken.at)
    FROM kpi_snapshot_runs AS taken
    CROSS JOIN LATERAL (
        SELECT max(f.at) AS at FROM kpi_snapshot_runs AS f WHERE f.full_snapshot AND f.at <= taken.at
    ) AS full_run
    CROSS JOIN LATERAL (
        SELECT k.value, k.numerator, k.denominator, k.target, k.held FROM kpi_snapshots AS k
        WHERE k.kpi = p_kpi AND k.area_code = p_area AND k.window_name = p_window
          AND k.at <= taken.at AND k.at >= full_run.at
        ORDER BY k.at DESC LIMIT 1
    ) AS s
    WHERE taken.at >= p_from AND taken.at < p_to AND s.held
    GROUP BY 1 ORDER BY 1
$$;
