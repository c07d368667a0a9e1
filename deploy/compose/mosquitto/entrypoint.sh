#!/bin/sh
# First start: create the dynamic security file with the administrator account, then run the broker.
# The administrator's password comes from the environment (compose requires it); nothing is defaulted.
set -eu
dynsec=/mosquitto/data/dynamic-security.json
if [ ! -f "$dynsec" ]; then
    mosquitto_ctrl dynsec init "$dynsec" ioc-admin "$IOC_MQTT_ADMIN_PASSWORD"
fi
exec mosquitto -c /mosquitto/config/mosquitto.conf
