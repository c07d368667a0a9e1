#!/bin/sh
# One-shot, after the broker is healthy: the service accounts and the roles of the system (the same
# rules as the local stack's ACL file, docs/local-stack.md#mosquitto-security). Safe to run at every `up`.
set -eu
ctrl() {
    mosquitto_ctrl -h mosquitto -p 8883 --cafile /mosquitto/certs/ca.crt \
        -u ioc-admin -P "$IOC_MQTT_ADMIN_PASSWORD" dynsec "$@"
}
# Creating what exists fails harmlessly; the passwords are set again so that a rotated secret applies.
ctrl createRole ioc-ingest 2>/dev/null || true
ctrl addRoleACL ioc-ingest subscribePattern 'ioc/v1/#' allow
ctrl addRoleACL ioc-ingest subscribePattern '$share/+/ioc/v1/#' allow
ctrl addRoleACL ioc-ingest unsubscribePattern '#' allow
ctrl createRole ioc-monitor 2>/dev/null || true
ctrl addRoleACL ioc-monitor subscribePattern '$SYS/#' allow
# A publisher writes only under its own id (its username); `ioc-publisher` is given to each one
# registered (docs/operations.md#registering-a-publisher-in-a-deployment).
ctrl createRole ioc-publisher 2>/dev/null || true
ctrl addRoleACL ioc-publisher publishClientSend 'ioc/v1/+/%u/#' allow

account() {  # username password role
    ctrl createClient "$1" -p "$2" 2>/dev/null || ctrl setClientPassword "$1" "$2"
    ctrl addClientRole "$1" "$3"
}
account ioc-ingest "$IOC_MQTT_INGEST_1_PASSWORD" ioc-ingest
account ioc-ingest-2 "$IOC_MQTT_INGEST_2_PASSWORD" ioc-ingest
account ioc-monitor "$IOC_MQTT_MONITOR_PASSWORD" ioc-monitor
echo "broker accounts ready"
