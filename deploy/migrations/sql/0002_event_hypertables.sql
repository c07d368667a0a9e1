-- Stored events, one hypertable per event type, and the dead letters.
--
-- Uniqueness: an event is identified by (event_id, publisher_id, occurred_at). The time column is
-- part of the key because TimescaleDB enforces uniqueness per chunk; the publisher is part of it so
-- that one publisher can never suppress another's events by reusing their ids.
--
-- Chunk intervals, for the expected pilot rates (whole province, peak): dossiers ~ 5 events/s,
-- payments ~ 50/s, coverage ~ 20/s. A chunk should hold a few million rows and its indexes fit in
-- memory: 7 days for dossiers and status, 1 day for payments and coverage.

CREATE TABLE portal_dossier_events (
    occurred_at     timestamptz NOT NULL,
    event_id        uuid        NOT NULL,
    publisher_id    text        NOT NULL,
    area_code       text        NOT NULL,
    seq             bigint,
    dossier_id      text        NOT NULL,
    procedure_code  text        NOT NULL,
    domain          text        NOT NULL,
    status          text        NOT NULL,
    channel         text        NOT NULL,
    service_level   text        NOT NULL,
    e_certified     boolean     NOT NULL,
    due_at          timestamptz,
    paid_online     boolean,
    received_at     timestamptz NOT NULL,
    UNIQUE (event_id, publisher_id, occurred_at)
);
SELECT create_hypertable('portal_dossier_events', by_range('occurred_at', INTERVAL '7 days'));

CREATE TABLE payment_transactions (
    occurred_at     timestamptz NOT NULL,
    event_id        uuid        NOT NULL,
    publisher_id    text        NOT NULL,
    area_code       text        NOT NULL,
    seq             bigint,
    sector          text        NOT NULL,
    method          text        NOT NULL,
    amount_vnd      bigint      NOT NULL,
    outcome         text        NOT NULL,
    received_at     timestamptz NOT NULL,
    UNIQUE (event_id, publisher_id, occurred_at)
);
SELECT create_hypertable('payment_transactions', by_range('occurred_at', INTERVAL '1 day'));

CREATE TABLE coverage_samples (
    occurred_at     timestamptz NOT NULL,
    event_id        uuid        NOT NULL,
    publisher_id    text        NOT NULL,
    area_code       text        NOT NULL,
    seq             bigint,
    operator        text        NOT NULL,
    technology      text        NOT NULL,
    download_mbps   double precision NOT NULL,
    upload_mbps     double precision NOT NULL,
    latency_ms      double precision NOT NULL,
    packet_loss_pct double precision NOT NULL,
    rsrp_dbm        double precision,
    village         text,
    lat             double precision,
    lon             double precision,
    received_at     timestamptz NOT NULL,
    UNIQUE (event_id, publisher_id, occurred_at)
);
SELECT create_hypertable('coverage_samples', by_range('occurred_at', INTERVAL '1 day'));

-- Retained last-will status of publishers; a repeat of the same state at the same time is one row.
CREATE TABLE publisher_status (
    at              timestamptz NOT NULL,
    publisher_id    text        NOT NULL,
    state           text        NOT NULL CHECK (state IN ('online', 'offline')),
    received_at     timestamptz NOT NULL,
    UNIQUE (publisher_id, state, at)
);
SELECT create_hypertable('publisher_status', by_range('at', INTERVAL '7 days'));

-- Invalid input, kept whole so that it can be replayed once its cause is fixed. An identical
-- message (same topic, same bytes) is one dead letter, so a redelivery after a crash adds nothing.
CREATE TABLE dead_letters (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at     timestamptz NOT NULL,
    topic           text        NOT NULL,
    publisher_id    text,
    reason          text        NOT NULL,
    detail          text        NOT NULL,
    payload         bytea       NOT NULL,
    fingerprint     bytea       NOT NULL UNIQUE,
    -- Set when a replay stored the event (or found it already stored): the dead letter is done.
    resolved_at     timestamptz,
    last_replay_at  timestamptz,
    last_replay_outcome text
);
CREATE INDEX dead_letters_received_at_idx ON dead_letters (received_at DESC);
CREATE INDEX dead_letters_open_reason_idx ON dead_letters (reason) WHERE resolved_at IS NULL;
