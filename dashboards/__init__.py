"""The wall and console pages and Grafana provisioning (static files)."""
