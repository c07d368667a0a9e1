#!/usr/bin/env bash
# Installs the system packages the local stack runs (Debian/Ubuntu) and the browser the page tests drive, then TimescaleDB.
# Skips whatever is already there, so `make up` and `make test` can call it every time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

missing=()
command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ] || missing+=(postgresql postgresql-common)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || missing+=(mosquitto-clients)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# Prometheus Alertmanager: where `ioc notify` posts alerts in the local stack (deploy/stack/alertmanager.py).
command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v runuser >/dev/null 2>&1 || missing+=(util-linux)
# Debian's Chromium: the wall and console tests drive it headless (tests/dashboards/browser.py).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# iproute2's ip and tc: the network-partition scenario of the verification suites (tests/verify).
{ command -v ip && command -v tc; } >/dev/null 2>&1 || [ -x /usr/sbin/tc ] || missing+=(iproute2)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "install-system: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  # Debian starts the package's own Alertmanager (all interfaces, port 9093, no authentication) where
  # systemd runs: the local stack runs its own on loopback, so the system's is stopped and disabled.
  if [[ " ${missing[*]} " == *" prometheus-alertmanager "* ]] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now prometheus-alertmanager >/dev/null 2>&1 || true
  fi
fi
"$here/install-timescaledb.sh"
