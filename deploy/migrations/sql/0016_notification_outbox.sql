-- Notifications out (`ioc notify`): a transactional outbox of what each receiver (Alertmanager, a signed
-- webhook) must be told. A source (the alerts table today, incidents later) writes one row per event
-- and receiver; a dispatcher claims due rows (FOR UPDATE SKIP LOCKED, so replicas never deliver the same
-- row at once), posts them, and records the outcome. Kept after delivery: the console lists them.
CREATE TABLE notification_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    receiver        text        NOT NULL,               -- 'alertmanager' or 'webhook:<name>'
    idempotency_key text        NOT NULL,               -- the same for every attempt: the receiver dedups on it
    subject         text        NOT NULL,               -- what it is about, e.g. 'alert:42' (kept in order per receiver)
    event           text        NOT NULL,               -- 'opened', 'acknowledged', 'resolved', …
    payload         jsonb       NOT NULL,               -- the notification as the source rendered it
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(), -- also the end of a claim's lease while one is delivering
    last_attempt_at timestamptz,
    last_error      text        NOT NULL DEFAULT '',
    delivered_at    timestamptz,
    CHECK ((state = 'delivered') = (delivered_at IS NOT NULL)),
    UNIQUE (receiver, idempotency_key)
);
-- The dispatcher's claim: due rows of one receiver, oldest first.
CREATE INDEX notification_outbox_due_idx ON notification_outbox (receiver, next_attempt_at, id) WHERE state = 'pending';
-- A subject's earlier rows must be delivered (or given up) before its later ones.
CREATE INDEX notification_outbox_subject_idx ON notification_outbox (receiver, subject, id) WHERE state = 'pending';
-- A source's "not yet written" check, and the listing by state.
CREATE INDEX notification_outbox_key_idx ON notification_outbox (idempotency_key);
CREATE INDEX notification_outbox_state_idx ON notification_outbox (state, id DESC);
