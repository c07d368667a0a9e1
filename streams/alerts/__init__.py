"""Alerts: rules as data, a lifecycle evaluated on the engine's frames and clock, stored with their history."""
