#!/usr/bin/env bash
# A private RabbitMQ broker on loopback for the tests of cms serve's rabbitmq job source, made once under the
# testbed cache and reused; a warm run (broker up, nothing changed) takes well under a second and changes nothing:
#   - Debian's `rabbitmq-server` (3.10 on bookworm) with apt-get when missing. The package's system-wide broker is
#     never started: installing runs under a policy-rc.d that refuses service starts (unless one exists already);
#   - a broker of our own, run as the `rabbitmq` system user with a clean environment: node rabbit@localhost, its
#     database, logs, config, cookie (HOME) in $CACHE/rabbitmq (owned by rabbitmq, 0700). AMQP listens on
#     127.0.0.1:$CMS_TEST_AMQP_PORT only; Erlang distribution on 127.0.0.1:PORT+1; epmd, started by this script,
#     on 127.0.0.1:PORT+2. No plugin is enabled (no management listener);
#   - the user `cms` with a random password made once ($CACHE/rabbitmq/password, 0600), the vhost cms_test and
#     full rights on it for cms alone; the default `guest` user removed;
#   - the broker started when it does not run and waited for (60 s at most).
#
# stdout carries only one shell assignment, for `eval "$(bash scripts/rabbitmq.sh)"`:
#   CMS_TEST_AMQP_URL=amqp://cms:PASSWORD@127.0.0.1:PORT/cms_test
# `bash scripts/rabbitmq.sh --vhost NAME` does the same for the vhost NAME (made once, cms's alone; scripts/openstack.sh
# uses cms_openstack) and prints its URL.
# `bash scripts/rabbitmq.sh --stop` stops the broker, then ends its epmd (which outlives the broker), both by pid,
# and prints nothing. Progress goes to stderr. Run as root. Settings (environment):
#   CMS_TESTBED_CACHE    cache folder (default ~/.cache/cms-testbed, shared with scripts/testbed.sh)
#   CMS_TEST_AMQP_PORT   the broker's AMQP port on 127.0.0.1 (default 55672; +1 and +2 are used too)
set -euo pipefail

# shellcheck source=scripts/local-service.sh
source "$(dirname "${BASH_SOURCE[0]}")/local-service.sh"
VHOST=cms_test
if [ "${1:-}" = --vhost ]; then
  [[ ${2:-} =~ ^[a-z][a-z0-9_]{0,30}$ ]] || { echo "rabbitmq.sh: --vhost takes a lower-case name like cms_openstack" >&2; exit 2; }
  VHOST=$2
  shift 2
fi
service_script rabbitmq rabbitmq "$@"
PORT=$(checked_port CMS_TEST_AMQP_PORT "${CMS_TEST_AMQP_PORT:-55672}" 65533 5672)
DIST_PORT=$((PORT + 1))
EPMD_PORT=$((PORT + 2))
# The rabbitmq user's programs must not start in a folder it cannot enter (such as /root).
cd /

MQ=$CACHE/rabbitmq
PWFILE=$MQ/password
PIDFILE=$MQ/rabbit.pid
LOGDIR=$MQ/log
DONE=$MQ/provisioned$([ "$VHOST" = cms_test ] || echo "-$VHOST") # user, vhost and rights made for the present password and database
SBIN=/usr/lib/rabbitmq/bin

# One caller at a time per cache; fd 7 never reaches the broker.
exec 7>"$CACHE/.rabbitmq.lock"
flock -w 900 7 || die "another scripts/rabbitmq.sh has held $CACHE/.rabbitmq.lock for 15 minutes"

have_bin() { [ -x "$SBIN/rabbitmq-server" ] && [ -x "$SBIN/rabbitmqctl" ] && command -v epmd >/dev/null; }
# Every setting by environment, nothing from /etc/rabbitmq: the same for the broker and for rabbitmqctl.
mq_env() {
  printf '%s\n' PATH=/usr/bin:/bin LANG=C.UTF-8 HOME="$MQ" \
    RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$PORT" \
    RABBITMQ_DIST_PORT="$DIST_PORT" ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$EPMD_PORT" \
    RABBITMQ_MNESIA_BASE="$MQ/mnesia" RABBITMQ_LOG_BASE="$LOGDIR" RABBITMQ_PID_FILE="$PIDFILE" \
    RABBITMQ_CONFIG_FILE="$MQ/rabbitmq.conf" RABBITMQ_CONF_ENV_FILE="$MQ/rabbitmq-env.conf" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$MQ/advanced.config" RABBITMQ_ENABLED_PLUGINS_FILE="$MQ/enabled_plugins" \
    RABBITMQ_ENABLED_PLUGINS= RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}
as_mq() { local -a e; mapfile -t e < <(mq_env); runuser -u rabbitmq -- env -i "${e[@]}" "$@"; }
ctl() { as_mq timeout 60 "$SBIN/rabbitmqctl" -q "$@"; }

# The broker's pid, if it is ours: a live beam.smp whose environment names our database folder.
broker_pid() {
  local pid
  pid=$(head -n 1 "$PIDFILE" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = beam.smp ] || return 1
  tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "RABBITMQ_MNESIA_BASE=$MQ/mnesia" || return 1
  echo "$pid"
}
# Our epmd's pid: the one started with our address and port.
epmd_pid() {
  local pid
  for pid in $(pgrep -x epmd 2>/dev/null); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-address 127.0.0.1 -port $EPMD_PORT" && { echo "$pid"; return 0; }
  done
  return 1
}
wait_gone() { # wait_gone PID SECONDS
  local deadline=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$deadline" ] && [ -d "/proc/$1" ]; do sleep 0.2; done
  [ ! -d "/proc/$1" ]
}
stop_pid() { # stop_pid PID NAME: TERM, 30 s, then KILL
  kill -TERM "$1" 2>/dev/null || return 0
  wait_gone "$1" 30 && return 0
  log "$2 (pid $1) did not stop in 30 s: killing it"
  kill -KILL "$1" 2>/dev/null || true
  wait_gone "$1" 10 || die "$2 (pid $1) does not end"
}
conf_text() {
  cat <<EOF
# Written by cms scripts/rabbitmq.sh, rewritten when these settings change: a private broker for tests.
listeners.tcp.1 = 127.0.0.1:$PORT
listeners.ssl = none
distribution.listener.interface = 127.0.0.1
distribution.listener.port_range.min = $DIST_PORT
distribution.listener.port_range.max = $DIST_PORT
loopback_users.guest = true
log.console = false
log.file.level = info
EOF
}
conf_current() { [ "$(cat "$MQ/rabbitmq.conf" 2>/dev/null)" = "$(conf_text)" ]; }
print_url() { printf 'CMS_TEST_AMQP_URL=amqp://cms:%s@127.0.0.1:%s/%s\n' "$(<"$PWFILE")" "$PORT" "$VHOST"; }
is_ready() { ctl await_startup --timeout 5 >/dev/null 2>&1; }

# --- Stop ----------------------------------------------------------------------------------------------------

if [ -n "$STOP" ]; then
  if pid=$(broker_pid); then
    log "stopping the broker on 127.0.0.1:$PORT (pid $pid)"
    stop_pid "$pid" broker
  else
    log "the broker is not running"
  fi
  if pid=$(epmd_pid); then
    log "ending its epmd (pid $pid)"
    stop_pid "$pid" epmd
  fi
  exit 0
fi

# --- Warm: running, configured and provisioned -------------------------------------------------------------

if [ -s "$PWFILE" ] && [ -f "$DONE" ] && have_bin && conf_current && broker_pid >/dev/null && is_ready; then
  log "running on 127.0.0.1:$PORT ($(elapsed))"
  print_url
  exit 0
fi

# --- Debian package ------------------------------------------------------------------------------------------

if ! have_bin; then
  log "installing Debian's rabbitmq-server (apt-get; its system-wide broker is not started)"
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# made by cms scripts/rabbitmq.sh while installing: no service starts\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  status=0
  apt_install rabbitmq-server || status=$?
  [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
  [ "$status" -eq 0 ] || die "apt-get install rabbitmq-server failed (see above)"
  have_bin || die "no $SBIN/rabbitmq-server, $SBIN/rabbitmqctl and epmd after installing rabbitmq-server"
fi
id -u rabbitmq >/dev/null 2>&1 || die "no rabbitmq system user (Debian's rabbitmq-server makes it)"

# --- The broker's folder, reachable by the rabbitmq user only ------------------------------------------------

mkdir -p "$MQ" "$LOGDIR" "$MQ/mnesia"
chown rabbitmq:rabbitmq "$MQ" "$LOGDIR" "$MQ/mnesia"
chmod 0700 "$MQ"
let_user_reach rabbitmq "$MQ"

write_mq_file() { # write_mq_file PATH: stdin into PATH, owned by rabbitmq, 0600, replaced atomically
  cat >"$1.tmp"
  chown rabbitmq:rabbitmq "$1.tmp"
  chmod 0600 "$1.tmp"
  mv "$1.tmp" "$1"
}
restart=
if ! conf_current; then
  log "writing the broker's settings (port $PORT)"
  conf_text | write_mq_file "$MQ/rabbitmq.conf"
  restart=1
fi
[ -f "$MQ/rabbitmq-env.conf" ] || : | write_mq_file "$MQ/rabbitmq-env.conf"
[ -f "$MQ/advanced.config" ] || echo '[].' | write_mq_file "$MQ/advanced.config"
echo '[].' | write_mq_file "$MQ/enabled_plugins"
# The Erlang cookie the broker and rabbitmqctl share (HOME=$MQ), made once.
[ -s "$MQ/.erlang.cookie" ] || od -An -N20 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F | write_mq_file "$MQ/.erlang.cookie"
chmod 0400 "$MQ/.erlang.cookie"

if [ ! -s "$PWFILE" ]; then
  rm -f "$MQ"/provisioned*
  (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$PWFILE.tmp" && mv "$PWFILE.tmp" "$PWFILE")
  log "made a password for user cms: $PWFILE"
fi
chmod 0600 "$PWFILE"
chown root:root "$PWFILE"

# --- Broker --------------------------------------------------------------------------------------------------

if pid=$(broker_pid) && [ -n "$restart" ]; then
  log "stopping the broker (pid $pid) to apply the new settings"
  stop_pid "$pid" broker
fi
if ! broker_pid >/dev/null; then
  for p in "$PORT" "$DIST_PORT"; do port_free "$p" || die "127.0.0.1:$p is taken by another program; set CMS_TEST_AMQP_PORT to a free port"; done
  rm -f "$PIDFILE"
  if ! epmd_pid >/dev/null; then
    port_free "$EPMD_PORT" || die "127.0.0.1:$EPMD_PORT (epmd) is taken by another program; set CMS_TEST_AMQP_PORT"
    as_mq epmd -daemon -address 127.0.0.1 -port "$EPMD_PORT" 7>&-
  fi
  log "starting the broker on 127.0.0.1:$PORT (logs: $LOGDIR)"
  # Detached from this script: its own session, no descriptor of ours but the log.
  as_mq setsid "$SBIN/rabbitmq-server" >>"$LOGDIR/start.log" 2>&1 </dev/null 7>&- &
  disown
fi
deadline=$((SECONDS + 60))
until [ -s "$PIDFILE" ] && broker_pid >/dev/null && is_ready; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    tail -n 20 "$LOGDIR/start.log" >&2 2>/dev/null || true
    die "the broker did not start within 60 s (see $LOGDIR)"
  fi
  sleep 0.5
done

# --- User, vhost, rights (once per password and database) ---------------------------------------------------

if [ ! -f "$DONE" ]; then
  log "creating user cms and vhost $VHOST"
  ctl delete_user guest >/dev/null 2>&1 || true
  # The password goes on stdin (rabbitmqctl reads it there when not given), never on a command line.
  if ctl list_users | grep -q '^cms[[:space:]]'; then
    ctl change_password cms <"$PWFILE" >/dev/null || die "rabbitmqctl change_password cms failed"
  else
    ctl add_user cms <"$PWFILE" >/dev/null || die "rabbitmqctl add_user cms failed"
  fi
  ctl add_vhost "$VHOST" >/dev/null 2>&1 || ctl list_vhosts | grep -qx "$VHOST" || die "rabbitmqctl add_vhost $VHOST failed"
  ctl set_permissions -p "$VHOST" cms '.*' '.*' '.*' >/dev/null || die "rabbitmqctl set_permissions failed"
  ctl authenticate_user cms <"$PWFILE" >/dev/null || die "user cms cannot log in with its password"
  touch "$DONE"
fi

log "ready in $(elapsed): RabbitMQ on 127.0.0.1:$PORT, data $MQ"
print_url
