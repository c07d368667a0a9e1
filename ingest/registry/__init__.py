"""Reference data the ingest service checks events against: administrative areas and publishers."""
