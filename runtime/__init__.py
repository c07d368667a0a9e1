"""What every running service stands on, and nothing else: settings, Redis names, TLS, process and health."""
