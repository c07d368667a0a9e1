-- The KPI engine's fencing token (docs/kpi-engine.md#active-and-standby). The engine that takes the
-- lease raises `token` by one; every write of an engine (snapshots, rollups, alerts) first reads this
-- row FOR SHARE in the same transaction and goes on only if the token is still its own. So the
-- raise waits for the writes under way, and no write of an engine that lost the lease commits after.
CREATE TABLE engine_lease (
    name text PRIMARY KEY,
    token bigint NOT NULL CHECK (token >= 0),
    holder text NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO engine_lease (name, token, holder) VALUES ('kpi-engine', 0, '');
