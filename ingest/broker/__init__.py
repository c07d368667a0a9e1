"""Broker accounts and roles, the production way: Mosquitto's dynamic-security plugin and its control topic."""
