#!/usr/bin/env bash
# Makes this machine ready for `npm test` (and `.ci/run`). Idempotent: every step checks first.
#
# On Debian as root it installs what is missing:
#   - postgresql-server-dev-15 and pgvector for PostgreSQL 15, built from Debian's own source
#     package (Debian 12 does not package pgvector; Debian 13 "trixie" does, as source package
#     `pgvector`, and it builds against Debian 12's server headers);
#   - Debian's `chromium` for the browser tests;
# and starts PostgreSQL 15 (127.0.0.1:5432) and Redis (127.0.0.1:6379) when they are down.
# Elsewhere (not root, or not Debian) it changes nothing: it prints what is missing and how to get
# it, and exits non-zero when anything is.
set -euo pipefail

PG_MAJOR=15
PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config"
VECTOR_CONTROL="/usr/share/postgresql/${PG_MAJOR}/extension/vector.control"
CHROMIUM=/usr/bin/chromium
DEBIAN_SOURCES=/etc/apt/sources.list.d/debian.sources
# Temporary deb-src entry; removed again on exit (also on failure).
SRC_ENTRY=/etc/apt/sources.list.d/gridflow-trixie-src.sources

log() { printf '[prepare-machine] %s\n' "$*"; }

is_debian_root() {
  [ "$(id -u)" = 0 ] && [ -r /etc/debian_version ] && command -v apt-get >/dev/null 2>&1
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null || true)" = PONG ]; }

wait_for() { # wait_for <what> <command...>: up to 60 s
  local what=$1; shift
  for _ in $(seq 1 120); do
    if "$@"; then return 0; fi
    sleep 0.5
  done
  log "$what did not answer within 60 s"
  return 1
}

# ---------------------------------------------------------------- Debian, as root: fix things
APT_UPDATED=0
apt_update() {
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    apt-get update -qq
    APT_UPDATED=1
  fi
}
apt_install() {
  apt_update
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

remove_src_entry() { rm -f "$SRC_ENTRY"; }

build_pgvector() {
  [ -f "$VECTOR_CONTROL" ] && return 0
  log "building pgvector for PostgreSQL ${PG_MAJOR} from Debian trixie's source package"
  pkg_installed "postgresql-server-dev-${PG_MAJOR}" || apt_install "postgresql-server-dev-${PG_MAJOR}"
  pkg_installed dpkg-dev || apt_install dpkg-dev
  pkg_installed build-essential || apt_install build-essential
  # Reuse the machine's own mirror (first URIs: line), so no host name lives in this repository.
  local uris
  uris=$(grep -m1 -E '^URIs:' "$DEBIAN_SOURCES" | sed -E 's/^URIs:[[:space:]]*//')
  if [ -z "$uris" ]; then
    log "no URIs: line in $DEBIAN_SOURCES; cannot add a deb-src entry for trixie"
    return 1
  fi
  trap remove_src_entry EXIT
  printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uris" >"$SRC_ENTRY"
  apt-get update -qq
  local work
  work=$(mktemp -d)
  (
    cd "$work"
    # apt drops to the _apt user for downloads; it needs to be able to write here.
    chmod 0777 "$work"
    apt-get source -qq pgvector >/dev/null
    cd "$(find . -maxdepth 1 -mindepth 1 -type d -name 'pgvector-*' | head -n1)"
    make -s PG_CONFIG="$PG_CONFIG" >/dev/null
    make -s PG_CONFIG="$PG_CONFIG" install >/dev/null
  )
  rm -rf "$work"
  remove_src_entry
  trap - EXIT
  # Drop trixie's source index from apt's view again.
  apt-get update -qq || true
  APT_UPDATED=1
  [ -f "$VECTOR_CONTROL" ] || { log "pgvector build finished but $VECTOR_CONTROL is missing"; return 1; }
  log "pgvector installed"
}

prepare_debian_root() {
  pkg_installed "postgresql-${PG_MAJOR}" || apt_install "postgresql-${PG_MAJOR}" "postgresql-client-${PG_MAJOR}"
  pkg_installed redis-server || apt_install redis-server
  pkg_installed "postgresql-server-dev-${PG_MAJOR}" || apt_install "postgresql-server-dev-${PG_MAJOR}"
  build_pgvector
  [ -x "$CHROMIUM" ] || apt_install chromium
  # Node icons on the canvas are emoji: without a colour emoji font headless chromium draws boxes.
  pkg_installed fonts-noto-color-emoji || apt_install fonts-noto-color-emoji

  if ! pg_up; then
    log "starting PostgreSQL ${PG_MAJOR}"
    pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" main start
  fi
  wait_for "PostgreSQL" pg_up
  if ! redis_up; then
    log "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
  fi
  wait_for "Redis" redis_up
  if ! psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    log "PostgreSQL answers but user postgres cannot log in over TCP without a password."
    log "Tests expect trust auth for 127.0.0.1: add 'host all postgres 127.0.0.1/32 trust' to pg_hba.conf and reload."
    return 1
  fi
  log "ready: PostgreSQL ${PG_MAJOR} + pgvector on 127.0.0.1:5432, Redis on 127.0.0.1:6379, chromium at $CHROMIUM"
}

# ---------------------------------------------------------------- elsewhere: only report
report_only() {
  local missing=0
  miss() { missing=1; printf '  MISSING: %s\n    how: %s\n' "$1" "$2"; }
  log "not running as root on Debian: checking only, installing nothing"
  if ! command -v psql >/dev/null 2>&1; then
    miss "psql (PostgreSQL client)" "install PostgreSQL ${PG_MAJOR}+ (Debian: apt-get install postgresql-${PG_MAJOR}; macOS: brew install postgresql@${PG_MAJOR})"
  fi
  if ! pg_up; then
    miss "PostgreSQL listening on 127.0.0.1:5432" "install PostgreSQL and start it (Debian: pg_ctlcluster ${PG_MAJOR} main start; macOS: brew services start postgresql@${PG_MAJOR})"
  elif ! psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    miss "password-less login as user postgres on 127.0.0.1:5432" "add 'host all postgres 127.0.0.1/32 trust' to pg_hba.conf and reload PostgreSQL"
  elif [ "$(psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc "select count(*) from pg_available_extensions where name = 'vector'" 2>/dev/null)" != 1 ]; then
    miss "the pgvector extension for your PostgreSQL" "build it from https://github.com/pgvector/pgvector (make && make install with your pg_config), or install your distribution's pgvector package; on Debian 12 run this script as root"
  fi
  if ! redis_up; then
    miss "Redis listening on 127.0.0.1:6379" "install Redis and start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no"
  fi
  if [ ! -x "$CHROMIUM" ] && ! command -v chromium >/dev/null 2>&1; then
    miss "chromium at $CHROMIUM (browser tests)" "Debian: apt-get install chromium; elsewhere install Chromium and link it to $CHROMIUM"
  fi
  if [ "$missing" = 1 ]; then
    log "the machine is not ready for npm test (see above)"
    return 1
  fi
  log "ready"
}

if is_debian_root; then
  prepare_debian_root
else
  report_only
fi
