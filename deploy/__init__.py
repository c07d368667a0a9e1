"""Everything that installs, configures and runs the services: settings, the local stack, migrations."""
