#!/usr/bin/env bash
# Installs the TimescaleDB extension for the machine's PostgreSQL, from the distribution's
# package archive only:
#   1. nothing to do when the extension is already installed;
#   2. the distro binary package where one exists (Debian 13: postgresql-17-timescaledb);
#   3. otherwise Debian's own source package, fetched from the next release's deb-src with a
#      private sources list (the machine's apt configuration is untouched) and built with
#      APACHE_ONLY=1 against the local postgresql-server-dev.
set -euo pipefail

PG_CONFIG=${PG_CONFIG:-$(command -v pg_config || true)}
if [ -z "$PG_CONFIG" ]; then echo "install-timescaledb: pg_config not found (install postgresql)" >&2; exit 1; fi
PG_MAJOR=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
EXT_DIR=$("$PG_CONFIG" --sharedir)/extension

if ls "$EXT_DIR"/timescaledb.control >/dev/null 2>&1; then
  echo "install-timescaledb: already installed for PostgreSQL $PG_MAJOR"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi

apt_updated=
apt_update_once() { [ -n "$apt_updated" ] || { $SUDO apt-get update -qq; apt_updated=1; }; }

apt_update_once
if apt-cache show "postgresql-$PG_MAJOR-timescaledb" >/dev/null 2>&1; then
  echo "install-timescaledb: installing postgresql-$PG_MAJOR-timescaledb from the distribution"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$PG_MAJOR-timescaledb"
  exit 0
fi

echo "install-timescaledb: building Debian's source package against PostgreSQL $PG_MAJOR"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake "postgresql-server-dev-$PG_MAJOR" dpkg-dev xz-utils >/dev/null

work=$(mktemp -d /tmp/ioc-timescaledb.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial"
# The archive the machine already uses, so that mirrors and proxies configured here still apply.
uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$uri" ] || uri=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//){print $i; exit}}' /etc/apt/sources.list 2>/dev/null || true)
if [ -z "$uri" ]; then echo "install-timescaledb: no Debian archive found in the apt sources" >&2; exit 1; fi
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri ${IOC_TIMESCALEDB_SUITE:-trixie} main" >"$work/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$work/lists")
apt-get "${apt_opts[@]}" -o APT::Sandbox::User=root update -qq
(cd "$work" && apt-get "${apt_opts[@]}" -o APT::Sandbox::User=root source --download-only timescaledb >/dev/null 2>&1)
orig=$(ls "$work"/timescaledb_*.orig.tar.* | head -1)
mkdir "$work/src"
tar -xf "$orig" -C "$work/src" --strip-components=1
cd "$work/src"
./bootstrap -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF \
  -DPG_CONFIG="$PG_CONFIG" >"$work/bootstrap.log" 2>&1 || { tail -30 "$work/bootstrap.log" >&2; exit 1; }
make -C build -j"$(nproc)" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; exit 1; }
$SUDO make -C build install >/dev/null
echo "install-timescaledb: installed $(basename "$orig" | sed -E 's/timescaledb_([^+]*).*/\1/') (Apache-2 edition)"
