#!/bin/sh
# First start: create the dynamic security file with the administrator account, then run the broker.
# The administrator's password comes from the environment (compose requires it); nothing is defaulted.
# Roles and the other accounts come over the control topic: broker-init (deploy/compose/mosquitto/
# init-accounts.sh) for the system's, `ioc publishers add` for each publisher's.
set -eu
dynsec=/mosquitto/data/dynamic-security.json
if [ ! -f "$dynsec" ]; then
    mosquitto_ctrl dynsec init "$dynsec" ioc-admin "$IOC_MQTT_ADMIN_PASSWORD"
    # The broker drops to its own user, and the plugin rewrites this file at every change.
    if [ "$(id -u)" = 0 ]; then chown mosquitto:mosquitto "$dynsec"; fi
fi
exec mosquitto -c /mosquitto/config/mosquitto.conf
