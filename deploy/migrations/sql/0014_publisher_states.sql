-- Publisher lifecycle (issue 22, item 3): onboarding until its first stored message, active,
-- maintenance until a time (with a reason and who set it), disabled. The state is derived from
-- these columns (ingest.registry.states), so a maintenance ends by itself when its time passes.
-- Ingest writes first_message_at and last_message_at (its latest stored event or status, to within 15 s).
ALTER TABLE publishers
    ADD COLUMN first_message_at   timestamptz,
    ADD COLUMN last_message_at    timestamptz,
    ADD COLUMN maintenance_until  timestamptz,
    ADD COLUMN maintenance_reason text NOT NULL DEFAULT '',
    ADD COLUMN maintenance_by     text,
    ADD COLUMN maintenance_set_at timestamptz,
    ADD CONSTRAINT publishers_maintenance_who CHECK ((maintenance_until IS NULL) = (maintenance_by IS NULL));

-- Publishers registered before this migration that were heard from: their first message as far as
-- the tables still show it (the status history, the recent event ids), else their registration.
UPDATE publishers p SET last_message_at = greatest(
    (SELECT max(s.received_at) FROM publisher_status s WHERE s.publisher_id = p.id),
    (SELECT max(e.received_at) FROM event_ids e WHERE e.publisher_id = p.id)),
    first_message_at = coalesce(
    least(
        (SELECT min(s.received_at) FROM publisher_status s WHERE s.publisher_id = p.id),
        (SELECT min(e.received_at) FROM event_ids e WHERE e.publisher_id = p.id)
    ),
    p.created_at)
WHERE EXISTS (SELECT 1 FROM publisher_status s WHERE s.publisher_id = p.id)
   OR EXISTS (SELECT 1 FROM event_ids e WHERE e.publisher_id = p.id);

-- Mute windows: alerts of a rule, of an area and the areas below it, or of a rule in an area, are
-- recorded but marked muted (`alerts.muted_by`) until `until`. A mute is never deleted: removing it
-- sets removed_at and removed_by, so the rows are their own audit trail.
CREATE TABLE alert_mutes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id    text,
    area_code  text REFERENCES areas (code),
    until      timestamptz NOT NULL,
    reason     text        NOT NULL CHECK (reason <> ''),
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    removed_by text,
    removed_at timestamptz,
    CHECK (rule_id IS NOT NULL OR area_code IS NOT NULL),
    CHECK ((removed_at IS NULL) = (removed_by IS NULL))
);
CREATE INDEX alert_mutes_active_idx ON alert_mutes (until) WHERE removed_at IS NULL;

ALTER TABLE alerts ADD COLUMN muted_by bigint REFERENCES alert_mutes (id);

-- The mute in force at `at` for an alert of `rule` in `area` (its own, or one of an area above it),
-- the one lasting longest; NULL when none. The one place where "muted" is decided.
CREATE FUNCTION alert_mute_of(rule text, area text, at timestamptz) RETURNS bigint
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE lineage (code, depth) AS (
        SELECT area, 0
        UNION ALL
        SELECT a.parent_code, l.depth + 1 FROM areas a JOIN lineage l ON a.code = l.code
        WHERE a.parent_code IS NOT NULL AND l.depth < 8
    )
    SELECT m.id FROM alert_mutes m
    WHERE m.removed_at IS NULL AND m.until > at
      AND (m.rule_id IS NULL OR m.rule_id = rule)
      AND (m.area_code IS NULL OR m.area_code IN (SELECT code FROM lineage))
    ORDER BY m.until DESC, m.id
    LIMIT 1
$$;

-- Who did what to a publisher and why: maintenance set and ended, disabled, enabled, silent-after.
CREATE TABLE publisher_actions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    publisher_id text        NOT NULL REFERENCES publishers (id),
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text        NOT NULL,
    action       text        NOT NULL,
    detail       text        NOT NULL DEFAULT ''
);
CREATE INDEX publisher_actions_publisher_idx ON publisher_actions (publisher_id, at DESC);
