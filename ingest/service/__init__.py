"""The ingest service: classify raw messages, write batches, acknowledge after commit."""
