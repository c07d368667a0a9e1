"""MQTT ingest: the inbound event contract and the service that enforces it."""
