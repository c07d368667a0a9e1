-- Alerts people act on (issue 22, items 1 and 2): the structured fields a message is rendered from, and
-- incidents — one per cause: the alerts of one rule in one subtree of areas, keyed by its highest area.
-- The texts themselves (vi, en) are rendered when read, from streams/alerts/messages.yaml.

CREATE TABLE incidents (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id         text        NOT NULL,
    kpi             text        NOT NULL,
    area_code       text        NOT NULL,  -- the highest area of the subtree that has its alerts open
    key_lineage     text[]      NOT NULL,  -- that area and every area above it (for grouping)
    severity        text        NOT NULL CHECK (severity IN ('info', 'warning', 'major', 'critical')),
    state           text        NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    opened_at       timestamptz NOT NULL,
    changed_at      timestamptz NOT NULL,  -- the last member that joined or resolved
    acknowledged_at timestamptz,
    acknowledged_by text,
    ack_comment     text,
    resolved_at     timestamptz,
    -- Escalation: an incident still open (nobody acknowledged it) at `escalate_after` is due to be
    -- notified again; the engine then records it (escalated_at, escalations) and sets the next one.
    -- The notification dispatcher picks up incidents whose `escalated_at` is newer than its last send.
    escalate_after  timestamptz,
    escalated_at    timestamptz,
    escalations     integer     NOT NULL DEFAULT 0 CHECK (escalations >= 0),
    CHECK ((state = 'acknowledged') <= (acknowledged_at IS NOT NULL)),
    CHECK ((state = 'resolved') = (resolved_at IS NOT NULL))
);
CREATE INDEX incidents_unresolved_idx ON incidents (rule_id) WHERE state <> 'resolved';
CREATE INDEX incidents_state_opened_idx ON incidents (state, opened_at DESC);
CREATE INDEX incidents_escalate_idx ON incidents (escalate_after) WHERE state = 'open';

CREATE TABLE incident_history (
    incident_id bigint      NOT NULL REFERENCES incidents (id),
    at          timestamptz NOT NULL,
    change      text        NOT NULL CHECK (change IN ('opened', 'joined', 'left', 'merged', 'acknowledged',
                                                       'escalated', 'resolved')),
    actor       text        NOT NULL,  -- 'engine', or who acknowledged
    detail      text        NOT NULL DEFAULT ''
);
CREATE INDEX incident_history_incident_idx ON incident_history (incident_id, at);

ALTER TABLE alerts
    ADD COLUMN threshold   double precision,           -- the rule's limit, the target, or the silence in seconds
    ADD COLUMN unit        text NOT NULL DEFAULT '',    -- the KPI's unit (the catalog's)
    ADD COLUMN since       timestamptz,                 -- the condition held since (before its for-duration)
    ADD COLUMN publishers  text[] NOT NULL DEFAULT '{}', -- the publishers that are the cause, when known
    ADD COLUMN ack_comment text,
    ADD COLUMN incident_id bigint REFERENCES incidents (id);
CREATE INDEX alerts_incident_idx ON alerts (incident_id);

-- Alerts left unresolved by the previous version: an incident each (the wall shows incidents), keyed by
-- their own area with its lineage, so that new alerts of their rule below them join them.
WITH RECURSIVE lineage (alert_id, code, depth) AS (
    SELECT id, area_code, 0 FROM alerts WHERE state <> 'resolved'
    UNION ALL
    SELECT l.alert_id, a.parent_code, l.depth + 1
    FROM lineage l JOIN areas a ON a.code = l.code
    WHERE a.parent_code IS NOT NULL AND l.depth < 16
), made AS (
    INSERT INTO incidents (rule_id, kpi, area_code, key_lineage, severity, state, opened_at, changed_at,
                           acknowledged_at, acknowledged_by)
    SELECT al.rule_id, al.kpi, al.area_code,
           (SELECT array_agg(l.code ORDER BY l.depth) FROM lineage l WHERE l.alert_id = al.id),
           al.severity, al.state, al.opened_at, al.opened_at, al.acknowledged_at, al.acknowledged_by
    FROM alerts al WHERE al.state <> 'resolved'
    RETURNING id, rule_id, area_code
)
UPDATE alerts SET incident_id = made.id
FROM made WHERE alerts.rule_id = made.rule_id AND alerts.area_code = made.area_code AND alerts.state <> 'resolved';
