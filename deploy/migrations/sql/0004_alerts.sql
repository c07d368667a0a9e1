-- Alerts raised by the KPI engine from the rules in streams/alert_rules.yaml, and their history.
-- Lifecycle: open -> acknowledged (who, when) -> resolved (by the engine, when the condition clears).
CREATE TABLE alerts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id         text        NOT NULL,
    kpi             text        NOT NULL,
    area_code       text        NOT NULL,
    window_name     text        NOT NULL,
    severity        text        NOT NULL CHECK (severity IN ('info', 'warning', 'major', 'critical')),
    state           text        NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    message         text        NOT NULL,
    value           double precision,
    opened_at       timestamptz NOT NULL,
    acknowledged_at timestamptz,
    acknowledged_by text,
    resolved_at     timestamptz,
    CHECK ((state = 'acknowledged') <= (acknowledged_at IS NOT NULL)),
    CHECK ((state = 'resolved') = (resolved_at IS NOT NULL))
);
-- At most one unresolved alert per rule and area: a condition that persists is one alert.
CREATE UNIQUE INDEX alerts_one_unresolved_idx ON alerts (rule_id, area_code) WHERE state <> 'resolved';
CREATE INDEX alerts_state_opened_idx ON alerts (state, opened_at DESC);

CREATE TABLE alert_history (
    alert_id        bigint      NOT NULL REFERENCES alerts (id),
    at              timestamptz NOT NULL,
    state           text        NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    actor           text        NOT NULL,  -- 'engine', or who acknowledged
    detail          text        NOT NULL DEFAULT ''
);
CREATE INDEX alert_history_alert_idx ON alert_history (alert_id, at);
