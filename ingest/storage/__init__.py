"""Everything the ingest service writes to PostgreSQL: event rows, batches and dead letters."""
