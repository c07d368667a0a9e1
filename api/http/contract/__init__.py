"""`POST /api/v1/contract/validate`: the ingest's decision on one message, with nothing stored."""
