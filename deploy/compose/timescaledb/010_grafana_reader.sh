#!/bin/sh
# First initialisation of the database only (the image runs /docker-entrypoint-initdb.d once):
# Grafana's role may read every table the application creates, and nothing else.
set -eu
psql -v ON_ERROR_STOP=1 -v pw="$IOC_GRAFANA_DB_PASSWORD" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE grafana_reader LOGIN PASSWORD :'pw';
GRANT USAGE ON SCHEMA public TO grafana_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO grafana_reader;
SQL
