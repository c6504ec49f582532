#!/usr/bin/env bash
# A private PostgreSQL server on loopback for the tests and benchmarks, made once under the testbed cache and
# reused; a warm run (server up, nothing changed) takes 30-80 ms and changes nothing:
#   - Debian's `postgresql` (15 on bookworm) with apt-get when its binaries are missing. A system-wide cluster the
#     package makes (/var/lib/postgresql/15/main, port 5432) is never used, started or stopped;
#   - a cluster of our own in $CACHE/postgres/data, made by initdb as the `postgres` system user (PostgreSQL
#     refuses to run as root), which owns $CACHE/postgres. It listens on 127.0.0.1:$CMS_TEST_PG_PORT only; its unix
#     socket is in $CACHE/postgres/run (0700, peer authentication: the postgres user only, for administration);
#   - the role `cms`, the only one that may log in over TCP (scram-sha-256, from 127.0.0.1/32), with a random
#     password made once ($CACHE/postgres/password, 0600), and the databases cms_test and cms_bench it owns;
#   - the server started when it does not run (log: $CACHE/postgres/postgres.log) and waited for (30 s at most).
#     fsync stays on: the tests check durability.
# The postgres user must reach the cache folder: when a folder above it is closed to it (/root is 0700), this
# script grants that user alone search permission there with an ACL (package `acl`), or else o+x.
#
# stdout carries only one shell assignment, for `eval "$(bash scripts/postgres.sh)"`:
#   CMS_TEST_PG_URL=postgres://cms:PASSWORD@127.0.0.1:PORT/cms_test       (cms_bench: the same, other database)
# `bash scripts/postgres.sh --stop` stops the server (fast shutdown) and prints nothing.
# Progress goes to stderr. Run as root. Settings (environment):
#   CMS_TESTBED_CACHE   cache folder (default ~/.cache/cms-testbed, shared with scripts/testbed.sh)
#   CMS_TEST_PG_PORT    the server's TCP port on 127.0.0.1 (default 55432; a server running on another is restarted)
set -euo pipefail

# shellcheck source=scripts/local-service.sh
source "$(dirname "${BASH_SOURCE[0]}")/local-service.sh"
service_script postgres postgres "$@"
PORT=$(checked_port CMS_TEST_PG_PORT "${CMS_TEST_PG_PORT:-55432}" 65535 5432)
case "$CACHE" in *"'"* | *\\*) die "the cache folder's path must not contain quotes or backslashes: $CACHE" ;; esac
# The postgres user's programs must not start in a folder it cannot enter (such as /root).
cd /

PG=$CACHE/postgres
DATA=$PG/data
RUN=$PG/run
LOGFILE=$PG/postgres.log
PWFILE=$PG/password
DONE=$PG/provisioned # role and databases made for the present password and cluster
# A unix socket's path has at most 107 bytes: $RUN/.s.PGSQL.NNNNN must fit.
[ "${#RUN}" -le 92 ] || die "the cache folder's path is too long for a unix socket folder: $RUN (set CMS_TESTBED_CACHE)"

# One caller at a time per cache (tests and benchmarks may start together); fd 7 never reaches the server.
exec 7>"$CACHE/.postgres.lock"
flock -w 900 7 || die "another scripts/postgres.sh has held $CACHE/.postgres.lock for 15 minutes"

# The programs of the cluster's PostgreSQL version, else of the newest one installed.
BIN=
pick_bin() {
  if [ -f "$DATA/PG_VERSION" ]; then
    BIN=/usr/lib/postgresql/$(<"$DATA/PG_VERSION")/bin
  else
    BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1) # the pattern itself when none
  fi
}
have_bin() {
  local p
  [ -n "$BIN" ] || return 1
  for p in initdb pg_ctl postgres pg_isready psql; do [ -x "$BIN/$p" ] || return 1; done
}
# As the postgres user, with a clean environment (no PG* variables of the caller).
as_pg() { runuser -u postgres -- env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"; }
# The running postmaster's pid, if it is ours: a live `postgres` process started with `-D $DATA` (its command
# line, not its cwd: /proc/PID/cwd of another user's process needs CAP_SYS_PTRACE, which containers lack).
server_pid() {
  local pid arg
  local -a args=()
  pid=$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] || return 1
  mapfile -d '' -t args 2>/dev/null <"/proc/$pid/cmdline" || return 1
  for arg in "${args[@]}"; do [ "$arg" != "$DATA" ] || { echo "$pid"; return 0; }; done
  return 1
}
running_port() { sed -n 4p "$DATA/postmaster.pid" 2>/dev/null; }
is_ready() { env -i "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 2 >/dev/null 2>&1; }

conf_text() {
  cat <<EOF
# Written by cms scripts/postgres.sh, rewritten when these settings change: a private server for tests.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$RUN'
unix_socket_permissions = 0700
max_connections = 100
shared_buffers = 128MB
fsync = on
synchronous_commit = on
full_page_writes = on
password_encryption = 'scram-sha-256'
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}
hba_text() {
  cat <<'EOF'
# Written by cms scripts/postgres.sh. The unix socket: the postgres OS user as role postgres (administration).
# TCP: role cms from 127.0.0.1 with its password. Nothing else.
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 peer
host    all       cms       127.0.0.1/32   scram-sha-256
EOF
}
conf_current() {
  [ "$(cat "$DATA/cms-testbed.conf" 2>/dev/null)" = "$(conf_text)" ] \
    && [ "$(cat "$DATA/pg_hba.conf" 2>/dev/null)" = "$(hba_text)" ]
}

print_url() { printf 'CMS_TEST_PG_URL=postgres://cms:%s@127.0.0.1:%s/cms_test\n' "$(<"$PWFILE")" "$PORT"; }

# --- Stop ----------------------------------------------------------------------------------------------------

if [ -n "$STOP" ]; then
  pick_bin
  if server_pid >/dev/null; then
    have_bin || die "the server runs but PostgreSQL's programs are missing from $BIN"
    log "stopping the server on 127.0.0.1:$(running_port)"
    as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >&2 || die "pg_ctl stop failed (see $LOGFILE)"
  else
    log "not running"
  fi
  exit 0
fi

# --- Warm: running, configured and provisioned -------------------------------------------------------------

pick_bin
if [ -s "$PWFILE" ] && [ -f "$DONE" ] && have_bin && server_pid >/dev/null && [ "$(running_port)" = "$PORT" ] \
  && conf_current && is_ready; then
  log "running on 127.0.0.1:$PORT ($(elapsed))"
  print_url
  exit 0
fi

# --- Debian packages ---------------------------------------------------------------------------------------

if ! have_bin; then
  pkg=postgresql
  [ -f "$DATA/PG_VERSION" ] && pkg=postgresql-$(<"$DATA/PG_VERSION")
  log "installing Debian's $pkg (apt-get; a system-wide cluster it may make is left alone)"
  apt_install "$pkg" || die "apt-get install $pkg failed (see above)"
  pick_bin
  have_bin || die "no initdb, pg_ctl, postgres, pg_isready and psql under ${BIN:-/usr/lib/postgresql/*/bin} after installing $pkg"
fi
id -u postgres >/dev/null 2>&1 || die "no postgres system user (Debian's postgresql-common makes it)"

# --- The cluster folder, reachable by the postgres user -------------------------------------------------------

mkdir -p "$PG"
chown postgres:postgres "$PG"
chmod 0700 "$PG"
let_user_reach postgres "$PG"

# Before anything changes: the port must be ours already or free.
if ! { server_pid >/dev/null && [ "$(running_port)" = "$PORT" ]; } && ! port_free "$PORT"; then
  die "127.0.0.1:$PORT is taken by another program; set CMS_TEST_PG_PORT to a free port"
fi

# --- Password, cluster, settings -----------------------------------------------------------------------------

if [ ! -s "$PWFILE" ]; then
  rm -f "$DONE"
  (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$PWFILE.tmp" && mv "$PWFILE.tmp" "$PWFILE")
  log "made a password for role cms: $PWFILE"
fi
chmod 0600 "$PWFILE"

write_pg_file() { # write_pg_file PATH: stdin into PATH, owned by postgres, 0600, replaced atomically
  cat >"$1.tmp"
  chown postgres:postgres "$1.tmp"
  chmod 0600 "$1.tmp"
  mv "$1.tmp" "$1"
}
write_settings() { # write_settings DATA_DIR: our settings file, its include, pg_hba.conf
  conf_text | write_pg_file "$1/cms-testbed.conf"
  grep -qx "include 'cms-testbed.conf'" "$1/postgresql.conf" \
    || printf '\n# cms scripts/postgres.sh settings, last: they win\ninclude '\''cms-testbed.conf'\''\n' >>"$1/postgresql.conf"
  hba_text | write_pg_file "$1/pg_hba.conf"
}

if [ ! -f "$DATA/PG_VERSION" ]; then
  [ ! -e "$DATA" ] || die "$DATA exists but holds no cluster (no PG_VERSION); remove it to make a new one"
  rm -f "$DONE"
  partial=$PG/data.partial
  rm -rf "$partial"
  log "initdb: a new cluster in $DATA ($("$BIN/postgres" --version))"
  as_pg "$BIN/initdb" -D "$partial" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 --no-instructions >&2 || die "initdb failed (see above)"
  write_settings "$partial"
  mv "$partial" "$DATA"
fi

restart=
if ! conf_current; then
  log "writing the server's settings (port $PORT)"
  write_settings "$DATA"
  restart=1
fi
mkdir -p "$RUN"
chown postgres:postgres "$RUN"
chmod 0700 "$RUN"

# --- Server --------------------------------------------------------------------------------------------------

wait_ready() {
  local deadline=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$deadline" ]; do
    is_ready && return 0
    server_pid >/dev/null || break
    sleep 0.2
  done
  tail -n 20 "$LOGFILE" >&2 2>/dev/null || true
  die "the server does not accept connections on 127.0.0.1:$PORT (see $LOGFILE)"
}

if server_pid >/dev/null; then
  if [ -n "$restart" ] || [ "$(running_port)" != "$PORT" ]; then
    log "stopping the server on 127.0.0.1:$(running_port) to apply the new settings"
    as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >&2 || die "pg_ctl stop failed (see $LOGFILE)"
  fi
elif compgen -G "$DATA/postmaster.pid" >/dev/null || compgen -G "$RUN/.s.PGSQL.*" >/dev/null; then
  # Left by a server that is gone (killed, a reboot, a container restart): the pid in these lock files may name
  # another process by now (or a zombie not reaped yet), and postgres would then refuse to start.
  log "removing the lock files of a server that no longer runs"
  rm -f "$DATA/postmaster.pid" "$RUN"/.s.PGSQL.*
fi

if ! server_pid >/dev/null; then
  port_free "$PORT" || die "127.0.0.1:$PORT is taken by another program; set CMS_TEST_PG_PORT to a free port"
  log "starting the server on 127.0.0.1:$PORT (log: $LOGFILE)"
  # No descriptor of ours but the log reaches the server: an inherited lock fd would hold the lock for its life.
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 30 start >&2 7>&- || {
    tail -n 20 "$LOGFILE" >&2 2>/dev/null || true
    die "the server did not start within 30 s (see $LOGFILE)"
  }
fi
wait_ready

# --- Role and databases (once per password and cluster) ----------------------------------------------------

password=$(<"$PWFILE")
if [ ! -f "$DONE" ]; then
  log "creating role cms and databases cms_test, cms_bench"
  # The password goes on stdin, never on a command line.
  as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$RUN" -p "$PORT" -U postgres -d postgres >&2 <<SQL \
    || die "creating the role and databases failed (see above and $LOGFILE)"
SELECT 'CREATE ROLE cms LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cms')\gexec
ALTER ROLE cms WITH LOGIN PASSWORD '$password';
SELECT format('CREATE DATABASE %I OWNER cms', d) FROM unnest(ARRAY['cms_test', 'cms_bench']) AS d
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = d)\gexec
ALTER DATABASE cms_test OWNER TO cms;
ALTER DATABASE cms_bench OWNER TO cms;
SQL
fi
# What the callers do: role cms over TCP with its password, into both databases.
for db in cms_test cms_bench; do
  out=$(env -i PGPASSWORD="$password" PGCONNECT_TIMEOUT=5 "$BIN/psql" -X -qAt \
    -d "postgres://cms@127.0.0.1:$PORT/$db" -c 'SELECT current_user' 2>&1) && [ "$out" = cms ] \
    || die "role cms cannot log in to $db over 127.0.0.1:$PORT: $out"
done
touch "$DONE"

log "ready in $(elapsed): $("$BIN/postgres" --version) on 127.0.0.1:$PORT, data $DATA"
print_url
