"""Notifications out (`ioc notify`): alerts to Prometheus Alertmanager and to signed webhooks, through an outbox."""
