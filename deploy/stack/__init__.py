"""The local stack: PostgreSQL+TimescaleDB, Mosquitto and Redis, owned by the project."""
