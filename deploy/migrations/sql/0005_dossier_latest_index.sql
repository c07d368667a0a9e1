-- The KPI engine reads the latest event of every dossier when it rebuilds (portal.overdue_open):
-- DISTINCT ON (dossier_id) ... ORDER BY dossier_id, occurred_at DESC walks this index instead of
-- sorting months of dossier events.
CREATE INDEX portal_dossier_events_dossier_idx ON portal_dossier_events (dossier_id, occurred_at DESC);
