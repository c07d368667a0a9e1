#!/bin/sh
# One-shot, after the broker is healthy: the roles and service accounts of the system, in the dynamic
# security plugin (the same roles as ingest/broker/roles.py, which the local stack uses; a test keeps
# them equal). Safe to run at every `up`. Publishers get a role of their own from `ioc publishers add`
# in an API container (docs/operations.md, "Registering a publisher").
#
# mosquitto_ctrl exits 0 even when the broker refuses a command ("Role already exists", "ACL with
# this topic already exists"): creating what exists is harmless, so every step is simply repeated.
set -eu
ctrl() {
    mosquitto_ctrl -h mosquitto -p 8883 --cafile /mosquitto/certs/ca.crt \
        -u ioc-admin -P "$IOC_MQTT_ADMIN_PASSWORD" dynsec "$@"
}
# What no role allows is refused, deliveries included.
ctrl setDefaultACLAccess publishClientSend deny
ctrl setDefaultACLAccess publishClientReceive deny
ctrl setDefaultACLAccess subscribe deny
ctrl setDefaultACLAccess unsubscribe allow
# The administrator manages accounts and reads the broker's metrics (its health check); no event.
ctrl removeRoleACL admin subscribePattern '#'
ctrl removeRoleACL admin publishClientReceive '#'

ctrl createRole ioc-ingest
ctrl addRoleACL ioc-ingest subscribePattern 'ioc/v1/#' allow
ctrl addRoleACL ioc-ingest publishClientReceive 'ioc/v1/#' allow
ctrl addRoleACL ioc-ingest subscribePattern '$share/+/ioc/v1/#' allow
# Each publisher's own dead letters, told to it on its feedback topic (outside the event tree).
ctrl addRoleACL ioc-ingest publishClientSend 'ioc/feedback/v1/+' allow
ctrl createRole ioc-monitor
ctrl addRoleACL ioc-monitor subscribePattern '$SYS/#' allow
ctrl addRoleACL ioc-monitor publishClientReceive '$SYS/#' allow
# Deletes retained event messages (an empty retained message each), never a status.
ctrl createRole ioc-sweeper
ctrl addRoleACL ioc-sweeper subscribePattern 'ioc/v1/#' allow
ctrl addRoleACL ioc-sweeper publishClientReceive 'ioc/v1/#' allow
ctrl addRoleACL ioc-sweeper publishClientSend 'ioc/v1/#' allow
ctrl addRoleACL ioc-sweeper publishClientSend 'ioc/v1/+/+/status' deny 1
# Earlier releases gave every publisher one role, `ioc/v1/+/%u/#`: the plugin substitutes no %u, so
# it refused every publish. Gone; register such publishers' accounts again (`ioc publishers password`).
ctrl deleteRole ioc-publisher

account() {  # username password role
    ctrl createClient "$1" -p "$2"
    ctrl setClientPassword "$1" "$2"  # a rotated secret applies (the broker disconnects the client)
    ctrl addClientRole "$1" "$3"
}
account ioc-ingest "$IOC_MQTT_INGEST_1_PASSWORD" ioc-ingest
account ioc-ingest-2 "$IOC_MQTT_INGEST_2_PASSWORD" ioc-ingest
account ioc-monitor "$IOC_MQTT_MONITOR_PASSWORD" ioc-monitor
account ioc-sweeper "$IOC_MQTT_SWEEPER_PASSWORD" ioc-sweeper
echo "broker accounts ready"
