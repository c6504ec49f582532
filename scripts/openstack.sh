#!/usr/bin/env bash
# A private OpenStack cloud on loopback for the openstack provider's tests: the real services from PyPI (Keystone,
# Nova with its fake hypervisor, Neutron, Glance, Placement), made once under the testbed cache and reused; a warm run
# (everything up) takes a few seconds (it asks PostgreSQL, RabbitMQ and every service) and changes nothing:
#   - one Python venv ($CACHE/openstack/venv-HASH) with the versions pinned in scripts/openstack/requirements.txt, the
#     test-only ML2 mechanism driver of scripts/openstack/cms_testbed_ml2 (binds every port: there is no agent), and
#     Neutron 29's one MySQL-only migration guarded for PostgreSQL;
#   - databases cms_os_* on scripts/postgres.sh's server (owned by its role cms) and the vhost cms_openstack on
#     scripts/rabbitmq.sh's broker;
#   - the state folder $CACHE/openstack/state (0700): every config, the passwords (random, made once, 0600), logs,
#     pid files, and clouds.yaml with two entries: cms-test (user cms, member of project cms) and cms-test-admin;
#   - every API under gunicorn on 127.0.0.1 (Keystone $CMS_OPENSTACK_PORT, Glance +1, Placement +2, Neutron +3,
#     Nova +4), nova-conductor, nova-scheduler and nova-compute with compute_driver=fake.FakeDriver (servers are
#     records: nothing boots, nothing listens on their addresses); each start gives nova-compute a new host name, as
#     the fake driver cannot restart under the same one;
#   - in the cloud: flavors m1.small/medium/large, a public image record debian-12-generic-amd64-... (os_distro
#     debian, os_version 12), the cms project's network cms-test-net with subnet 127.0.8.0/24 (gateway 127.0.8.1, no
#     DHCP, addresses 127.0.8.4-127.0.8.19), the external network cms-test-public (127.0.9.0/24, floating IPs
#     127.0.9.4-127.0.9.19) and the cms project's router between them (Neutron's router plugin; no L3 agent, so
#     nothing routes: floating IPs are records that the tests forward).
#
# stdout carries shell assignments, for `eval "$(bash scripts/openstack.sh)"` (no secret: the passwords stay in the
# clouds.yaml file):
#   CMS_OPENSTACK_TEST_CLOUDS=$CACHE/openstack/state/clouds.yaml    (OS_CLIENT_CONFIG_FILE for cms and the tests)
#   CMS_OPENSTACK_TEST_CLOUD=cms-test                               (OS_CLOUD; the admin's is cms-test-admin)
#   CMS_OPENSTACK_TEST_NETWORK=cms-test-net
#   CMS_OPENSTACK_TEST_EXTERNAL_NETWORK=cms-test-public
# `bash scripts/openstack.sh --stop` ends every process it started, by pid, and prints nothing (PostgreSQL and
# RabbitMQ keep running: their own --stop ends them). Progress goes to stderr. Run as root. Settings (environment):
#   CMS_TESTBED_CACHE     cache folder (default ~/.cache/cms-testbed, shared with scripts/testbed.sh)
#   CMS_OPENSTACK_PORT    Keystone's port on 127.0.0.1 (default 55700; the next four are the other APIs')
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=scripts/local-service.sh
source "$SCRIPTS/local-service.sh"
service_script openstack root "$@"
PORT=$(checked_port CMS_OPENSTACK_PORT "${CMS_OPENSTACK_PORT:-55700}" 65530 5000)
declare -A PORTS=([keystone]=$PORT [glance]=$((PORT + 1)) [placement]=$((PORT + 2)) [neutron]=$((PORT + 3)) [nova]=$((PORT + 4)))
APIS=(keystone glance placement neutron nova)
DAEMONS=(nova-conductor nova-scheduler nova-compute)
SUBNET=127.0.8.0/24
GATEWAY=127.0.8.1
POOL_START=127.0.8.4
POOL_END=127.0.8.19
# The external network floating IPs come from (nothing routes it: the tests forward each floating IP's port 22).
PUBLIC_SUBNET=127.0.9.0/24
PUBLIC_GATEWAY=127.0.9.1
PUBLIC_POOL_START=127.0.9.4
PUBLIC_POOL_END=127.0.9.19
VHOST=cms_openstack
DATABASES=(keystone glance placement neutron nova_api nova nova_cell0)
USERS=(admin cms nova neutron glance placement)
cd /

OS=$CACHE/openstack
REQS=$SCRIPTS/openstack/requirements.txt
DRIVER=$SCRIPTS/openstack/cms_testbed_ml2
# The venv's name changes with the pins and the driver, so a change makes a new one.
HASH=$(cat "$REQS" "$DRIVER/pyproject.toml" "$DRIVER"/cms_testbed_ml2/*.py | sha256sum | cut -c1-12)
VENV=$OS/venv-$HASH
# What the cloud is set up with (this script and bootstrap.py): a change sets it up again on the next start.
SETUP=$HASH-$(cat "$SCRIPTS/openstack.sh" "$SCRIPTS/openstack/bootstrap.py" | sha256sum | cut -c1-8)
STATE=$OS/state
RUN=$STATE/run
LOGS=$STATE/log
PW=$STATE/passwords
CLOUDS=$STATE/clouds.yaml

exec 7>"$CACHE/.openstack.lock"
flock -w 1800 7 || die "another scripts/openstack.sh has held $CACHE/.openstack.lock for 30 minutes"

# --- Processes -----------------------------------------------------------------------------------------------

# The pid in $RUN/NAME.pid, if it is a live process of ours: every one runs in a folder of the state folder (its
# command line and environment are no sign: the services overwrite both with their process titles).
our_pid() {
  local pid cwd
  pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && [ -d "/proc/$pid" ] || return 1
  cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 1
  [[ $cwd == "$STATE"/* ]] || return 1
  echo "$pid"
}
wait_gone() { # wait_gone PID SECONDS
  local deadline=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$deadline" ] && [ -d "/proc/$1" ]; do sleep 0.2; done
  [ ! -d "/proc/$1" ]
}
stop_all() { # TERM to every process of ours at once, then 30 s for all of them, then KILL
  local name pid
  local -A pids=()
  for name in "${DAEMONS[@]}" "${APIS[@]}"; do
    if pid=$(our_pid "$name"); then
      log "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      pids[$name]=$pid
    fi
    rm -f "$RUN/$name.pid"
  done
  for name in "${!pids[@]}"; do
    pid=${pids[$name]}
    wait_gone "$pid" 30 && continue
    log "$name (pid $pid) did not stop in 30 s: killing it"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || true
  done
}
api_answers() { # api_answers NAME: its root answers on loopback (any HTTP status)
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:${PORTS[$1]}/") || return 1
  [ "$code" != 000 ]
}
all_up() {
  local name
  for name in "${APIS[@]}" "${DAEMONS[@]}"; do our_pid "$name" >/dev/null || return 1; done
  for name in "${APIS[@]}"; do api_answers "$name" || return 1; done
}
print_env() {
  printf 'CMS_OPENSTACK_TEST_CLOUDS=%s\nCMS_OPENSTACK_TEST_CLOUD=cms-test\nCMS_OPENSTACK_TEST_NETWORK=cms-test-net\nCMS_OPENSTACK_TEST_EXTERNAL_NETWORK=cms-test-public\n' "$CLOUDS"
}

if [ -n "$STOP" ]; then
  stop_all
  exit 0
fi

# --- PostgreSQL and RabbitMQ (the testbed's own servers, started when they are not) --------------------------

pg_url=$(bash "$SCRIPTS/postgres.sh" | sed -n 's/^CMS_TEST_PG_URL=//p')
[[ $pg_url =~ ^postgres://cms:([0-9a-f]+)@127\.0\.0\.1:([0-9]+)/ ]] || die "unexpected output of scripts/postgres.sh"
PG_PASSWORD=${BASH_REMATCH[1]}
PG_PORT=${BASH_REMATCH[2]}
amqp_url=$(bash "$SCRIPTS/rabbitmq.sh" --vhost "$VHOST" | sed -n 's/^CMS_TEST_AMQP_URL=//p')
[[ $amqp_url == amqp://cms:*@127.0.0.1:*/$VHOST ]] || die "unexpected output of scripts/rabbitmq.sh"
TRANSPORT=rabbit://${amqp_url#amqp://}

if [ -f "$STATE/ready-$SETUP" ] && [ -s "$CLOUDS" ] && all_up; then
  log "running on 127.0.0.1:$PORT-$((PORT + 4)) ($(elapsed))"
  print_env
  exit 0
fi
rm -f "$STATE/ready-$SETUP"

# --- The venv ------------------------------------------------------------------------------------------------

venv_ready() {
  [ -f "$VENV/.cms-ready" ] && "$VENV/bin/python" -c 'import keystone, nova, neutron, glance, placement, gunicorn, psycopg2, cms_testbed_ml2' >/dev/null 2>&1
}
if ! venv_ready; then
  python=/usr/bin/python3
  [ -x "$python" ] || die "no /usr/bin/python3 (scripts/testbed.sh installs Debian's python3)"
  "$python" -c 'import ensurepip, venv' >/dev/null 2>&1 || apt_install python3-venv || die "apt-get install python3-venv failed"
  mkdir -p "$OS"
  partial=$VENV.partial
  rm -rf "$VENV" "$partial"
  log "installing the OpenStack services into $VENV (pip, a few minutes)"
  "$python" -m venv "$partial"
  # The driver is built from a copy: pip would leave build files in the repository's folder.
  cp -r "$DRIVER" "$partial/cms_testbed_ml2-src"
  "$partial/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS" "$partial/cms_testbed_ml2-src" >&2 || die "pip install failed (see above)"
  # Neutron 29's migration d553edeb540f converts a table's MySQL collation, a statement PostgreSQL refuses.
  migration=$("$partial/bin/python" -c 'import neutron, os; print(os.path.dirname(neutron.__file__))')/db/migration/alembic_migrations/versions/2025.2/expand/d553edeb540f_tag_case_sensitive.py
  "$partial/bin/python" - "$migration" <<'PY' || die "cannot guard Neutron's migration d553edeb540f"
import sys
path = sys.argv[1]
text = open(path).read()
guard = "def upgrade():\n    if op.get_bind().dialect.name != 'mysql':\n        return\n"
if guard not in text:
    assert text.count("def upgrade():\n") == 1, 'unexpected migration text'
    open(path, 'w').write(text.replace("def upgrade():\n", guard))
PY
  mv "$partial" "$VENV"
  # A venv's scripts name their interpreter by absolute path: rewrite the moved venv's paths.
  grep -rlF "$partial" "$VENV/bin" | while read -r f; do sed -i "s|$partial|$VENV|g" "$f"; done
  touch "$VENV/.cms-ready"
  venv_ready || die "the venv $VENV does not import the services"
  for old in "$OS"/venv-*; do [ "$old" = "$VENV" ] || rm -rf "$old"; done
fi
BIN=$VENV/bin

# --- The services' databases ------------------------------------------------------------------------------


PSQL=$(printf '%s\n' /usr/lib/postgresql/*/bin/psql | sort -V | tail -n 1)
missing_dbs=$(runuser -u postgres -- env -i "$PSQL" -X -qAt -h "$CACHE/postgres/run" -p "$PG_PORT" -U postgres -d postgres -c \
  "SELECT d FROM unnest(ARRAY[$(printf "'cms_os_%s'," "${DATABASES[@]}" | sed 's/,$//')]) AS d WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = d)") \
  || die "cannot ask PostgreSQL for the databases"
for db in $missing_dbs; do
  log "creating database $db"
  runuser -u postgres -- env -i "$PSQL" -X -q -h "$CACHE/postgres/run" -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE $db OWNER cms" >&2 \
    || die "cannot create database $db"
done
db_url() { echo "postgresql+psycopg2://cms:$PG_PASSWORD@127.0.0.1:$PG_PORT/cms_os_$1"; }

# --- State: passwords, configs -------------------------------------------------------------------------------

stop_all # a partial set of ours (a crash, a reboot) is restarted whole
mkdir -p "$STATE" "$RUN" "$LOGS" "$PW" "$STATE/wsgi"
chmod 0700 "$STATE" "$PW"
for user in "${USERS[@]}"; do
  [ -s "$PW/$user" ] || (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$PW/$user")
done
pw() { cat "$PW/$1"; }
KEYSTONE_URL=http://127.0.0.1:${PORTS[keystone]}

write() { # write PATH: stdin into PATH, 0600
  (umask 077 && cat >"$1.tmp") && mv "$1.tmp" "$1"
}
auth_section() { # auth_section SECTION USER: a service's credentials for Keystone
  cat <<EOF
[$1]
auth_type = password
auth_url = $KEYSTONE_URL/v3
www_authenticate_uri = $KEYSTONE_URL/v3
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $2
password = $(pw "$2")
region_name = RegionOne
EOF
}

mkdir -p "$STATE/keystone" "$STATE/glance/images" "$STATE/placement" "$STATE/neutron" "$STATE/nova"
write "$STATE/keystone/keystone.conf" <<EOF
[database]
connection = $(db_url keystone)
[token]
provider = fernet
[fernet_tokens]
key_repository = $STATE/keystone/fernet-keys
[fernet_receipts]
key_repository = $STATE/keystone/fernet-keys
[credential]
key_repository = $STATE/keystone/credential-keys
EOF
write "$STATE/placement/placement.conf" <<EOF
[placement_database]
connection = $(db_url placement)
[api]
auth_strategy = keystone
$(auth_section keystone_authtoken placement)
EOF
write "$STATE/glance/glance-api.conf" <<EOF
[DEFAULT]
enabled_backends = fs:file
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = $STATE/glance/images
[os_glance_staging_store]
filesystem_store_datadir = $STATE/glance/staging
[os_glance_tasks_store]
filesystem_store_datadir = $STATE/glance/tasks
[database]
connection = $(db_url glance)
[paste_deploy]
flavor = keystone
[oslo_concurrency]
lock_path = $STATE/glance/locks
$(auth_section keystone_authtoken glance)
EOF
cp "$VENV/etc/glance/glance-api-paste.ini" "$STATE/glance/"
write "$STATE/neutron/neutron.conf" <<EOF
[DEFAULT]
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = $TRANSPORT
rpc_workers = 0
rpc_state_report_workers = 0
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
state_path = $STATE/neutron
[database]
connection = $(db_url neutron)
[oslo_concurrency]
lock_path = $STATE/neutron/locks
[securitygroup]
firewall_driver = noop
$(auth_section keystone_authtoken neutron)
EOF
write "$STATE/neutron/ml2_conf.ini" <<EOF
[ml2]
type_drivers = flat,vxlan
tenant_network_types = vxlan
mechanism_drivers = cms_bind_all
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
[ml2_type_vxlan]
vni_ranges = 1:1000
EOF
cp "$VENV/etc/neutron/api-paste.ini" "$STATE/neutron/"
write "$STATE/nova/nova.conf" <<EOF
[DEFAULT]
transport_url = $TRANSPORT
compute_driver = fake.FakeDriver
state_path = $STATE/nova
my_ip = 127.0.0.1
[api]
auth_strategy = keystone
[api_database]
connection = $(db_url nova_api)
[database]
connection = $(db_url nova)
[oslo_concurrency]
lock_path = $STATE/nova/locks
[scheduler]
discover_hosts_in_cells_interval = -1
[conductor]
workers = 1
[vnc]
enabled = false
[compute]
vif_plugging_is_fatal = false
vif_plugging_timeout = 0
$(auth_section keystone_authtoken nova)
$(auth_section placement placement)
$(auth_section neutron neutron)
$(auth_section service_user nova)
send_service_user_token = true
EOF
cp "$VENV/etc/nova/api-paste.ini" "$STATE/nova/"
write "$CLOUDS" <<EOF
# Written by cms scripts/openstack.sh: the test cloud on loopback.
clouds:
  cms-test:
    auth: {auth_url: '$KEYSTONE_URL/v3', username: cms, password: '$(pw cms)', project_name: cms, user_domain_name: Default, project_domain_name: Default}
    region_name: RegionOne
    interface: public
    identity_api_version: 3
  cms-test-admin:
    auth: {auth_url: '$KEYSTONE_URL/v3', username: admin, password: '$(pw admin)', project_name: admin, user_domain_name: Default, project_domain_name: Default}
    region_name: RegionOne
    interface: public
    identity_api_version: 3
EOF
# One 3-line module per API: oslo.config must not read gunicorn's command line.
for spec in keystone:keystone.wsgi.api glance:glance.wsgi.api placement:placement.wsgi.api neutron:neutron.wsgi.api nova:nova.wsgi.osapi_compute; do
  printf 'import sys\nsys.argv = sys.argv[:1]\nfrom %s import application  # noqa: E402,F401\n' "${spec#*:}" >"$STATE/wsgi/${spec%%:*}_app.py"
done

# --- Tables (once per venv) ---------------------------------------------------------------------------------

if [ ! -f "$STATE/db-$HASH" ]; then
  log "creating the services' tables"
  KS=(--config-file "$STATE/keystone/keystone.conf")
  "$BIN/keystone-manage" "${KS[@]}" db_sync >>"$LOGS/setup.log" 2>&1 || die "keystone-manage db_sync failed (see $LOGS/setup.log)"
  "$BIN/keystone-manage" "${KS[@]}" fernet_setup --keystone-user root --keystone-group root >>"$LOGS/setup.log" 2>&1 || die "keystone-manage fernet_setup failed"
  "$BIN/keystone-manage" "${KS[@]}" credential_setup --keystone-user root --keystone-group root >>"$LOGS/setup.log" 2>&1 || die "keystone-manage credential_setup failed"
  # The admin's password by environment, never on a command line.
  OS_BOOTSTRAP_PASSWORD=$(pw admin) "$BIN/keystone-manage" "${KS[@]}" bootstrap --bootstrap-admin-url "$KEYSTONE_URL/v3" \
    --bootstrap-internal-url "$KEYSTONE_URL/v3" --bootstrap-public-url "$KEYSTONE_URL/v3" --bootstrap-region-id RegionOne \
    >>"$LOGS/setup.log" 2>&1 || die "keystone-manage bootstrap failed (see $LOGS/setup.log)"
  "$BIN/placement-manage" --config-file "$STATE/placement/placement.conf" db sync >>"$LOGS/setup.log" 2>&1 || die "placement-manage db sync failed (see $LOGS/setup.log)"
  "$BIN/glance-manage" --config-file "$STATE/glance/glance-api.conf" db_sync >>"$LOGS/setup.log" 2>&1 || die "glance-manage db_sync failed (see $LOGS/setup.log)"
  "$BIN/neutron-db-manage" --config-file "$STATE/neutron/neutron.conf" --config-file "$STATE/neutron/ml2_conf.ini" upgrade heads >>"$LOGS/setup.log" 2>&1 \
    || die "neutron-db-manage upgrade failed (see $LOGS/setup.log)"
  NOVA=(--config-file "$STATE/nova/nova.conf")
  "$BIN/nova-manage" "${NOVA[@]}" api_db sync >>"$LOGS/setup.log" 2>&1 || die "nova-manage api_db sync failed (see $LOGS/setup.log)"
  "$BIN/nova-manage" "${NOVA[@]}" cell_v2 map_cell0 --database_connection "$(db_url nova_cell0)" >>"$LOGS/setup.log" 2>&1 || die "nova-manage cell_v2 map_cell0 failed"
  cells=$("$BIN/nova-manage" "${NOVA[@]}" cell_v2 list_cells 2>>"$LOGS/setup.log") || die "nova-manage cell_v2 list_cells failed"
  [[ $cells == *" cell1 "* ]] || "$BIN/nova-manage" "${NOVA[@]}" cell_v2 create_cell --name cell1 >>"$LOGS/setup.log" 2>&1 || die "nova-manage cell_v2 create_cell failed"
  "$BIN/nova-manage" "${NOVA[@]}" db sync >>"$LOGS/setup.log" 2>&1 || die "nova-manage db sync failed (see $LOGS/setup.log)"
  touch "$STATE/db-$HASH"
fi

# --- Services ------------------------------------------------------------------------------------------------

start() { # start NAME COMMAND...: detached, its own session, logging to $LOGS/NAME.log, pid in $RUN/NAME.pid
  local name=$1
  shift
  (cd "$RUN" && exec setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null 7>&-) &
  echo $! >"$RUN/$name.pid"
  disown
}
start_api() { # start_api NAME ENV...: gunicorn, one worker, on 127.0.0.1
  local name=$1
  shift
  start "$name" env "$@" "$BIN/gunicorn" --workers 1 --timeout 120 --bind "127.0.0.1:${PORTS[$name]}" --chdir "$STATE/wsgi" "${name}_app:application"
}
wait_api() { # wait_api NAME SECONDS
  local deadline=$((SECONDS + $2))
  until api_answers "$1"; do
    our_pid "$1" >/dev/null || { tail -n 20 "$LOGS/$1.log" >&2; die "$1 ended (see $LOGS/$1.log)"; }
    [ "$SECONDS" -lt "$deadline" ] || die "$1 does not answer on 127.0.0.1:${PORTS[$1]} after $2 s (see $LOGS/$1.log)"
    sleep 0.5
  done
}
for name in "${APIS[@]}"; do port_free "${PORTS[$name]}" || die "127.0.0.1:${PORTS[$name]} ($name) is taken by another program; set CMS_OPENSTACK_PORT"; done

log "starting Keystone on 127.0.0.1:${PORTS[keystone]}"
start_api keystone OS_KEYSTONE_CONFIG_DIR="$STATE/keystone"
wait_api keystone 90
admin_env=(OS_CLIENT_CONFIG_FILE="$CLOUDS" OS_CLOUD=cms-test-admin CMS_OS_PASSWORDS_DIR="$PW" CMS_OS_SUBNET="$SUBNET"
  CMS_OS_GATEWAY="$GATEWAY" CMS_OS_POOL_START="$POOL_START" CMS_OS_POOL_END="$POOL_END" CMS_OS_PUBLIC_SUBNET="$PUBLIC_SUBNET"
  CMS_OS_PUBLIC_GATEWAY="$PUBLIC_GATEWAY" CMS_OS_PUBLIC_POOL_START="$PUBLIC_POOL_START" CMS_OS_PUBLIC_POOL_END="$PUBLIC_POOL_END"
  CMS_OS_PORTS="compute=${PORTS[nova]} network=${PORTS[neutron]} image=${PORTS[glance]} placement=${PORTS[placement]}")
if [ ! -f "$STATE/identity-$HASH" ]; then
  log "Keystone: service users, project and user cms, the catalog"
  env "${admin_env[@]}" "$BIN/python" "$SCRIPTS/openstack/bootstrap.py" identity >>"$LOGS/setup.log" 2>&1 || die "bootstrap.py identity failed (see $LOGS/setup.log)"
  touch "$STATE/identity-$HASH"
fi

log "starting Glance, Placement, Neutron, Nova"
start_api glance OS_GLANCE_CONFIG_DIR="$STATE/glance"
start_api placement OS_PLACEMENT_CONFIG_DIR="$STATE/placement"
start_api neutron OS_NEUTRON_CONFIG_DIR="$STATE/neutron" OS_NEUTRON_CONFIG_FILES="neutron.conf;ml2_conf.ini"
start_api nova OS_NOVA_CONFIG_DIR="$STATE/nova" OS_NOVA_CONFIG_FILES="api-paste.ini;nova.conf"
# The fake compute cannot restart under its old name: a new host name and state folder per start.
COMPUTE_HOST=cms-fake-$(date +%s)
mkdir -p "$STATE/nova/$COMPUTE_HOST"
write "$STATE/nova/compute.conf" <<EOF
[DEFAULT]
host = $COMPUTE_HOST
state_path = $STATE/nova/$COMPUTE_HOST
instances_path = $STATE/nova/$COMPUTE_HOST/instances
EOF
start nova-conductor "$BIN/nova-conductor" --config-file "$STATE/nova/nova.conf"
start nova-scheduler "$BIN/nova-scheduler" --config-file "$STATE/nova/nova.conf"
start nova-compute "$BIN/nova-compute" --config-file "$STATE/nova/nova.conf" --config-file "$STATE/nova/compute.conf"
for name in glance placement neutron nova; do wait_api "$name" 120; done

# The new compute host, mapped to cell1 once it has registered (bounded).
# discover_hosts names each host it maps (one nova-manage call: each takes seconds to start).
host_mapped() {
  local out
  out=$("$BIN/nova-manage" --config-file "$STATE/nova/nova.conf" cell_v2 discover_hosts --verbose 2>>"$LOGS/setup.log") || return 1
  [[ $out == *"compute host '$COMPUTE_HOST'"* ]]
}
deadline=$((SECONDS + 120))
until host_mapped; do
  our_pid nova-compute >/dev/null || { tail -n 20 "$LOGS/nova-compute.log" >&2; die "nova-compute ended (see $LOGS/nova-compute.log)"; }
  [ "$SECONDS" -lt "$deadline" ] || die "nova-compute ($COMPUTE_HOST) did not register within 120 s (see $LOGS/nova-compute.log)"
  sleep 2
done

env "${admin_env[@]}" CMS_OS_COMPUTE_HOST="$COMPUTE_HOST" "$BIN/python" "$SCRIPTS/openstack/bootstrap.py" computes >>"$LOGS/setup.log" 2>&1 \
  || die "bootstrap.py computes failed (see $LOGS/setup.log)"
if [ ! -f "$STATE/resources-$SETUP" ]; then
  log "the cloud's flavors, Debian 12 image record, and the cms project's loopback network"
  env "${admin_env[@]}" "$BIN/python" "$SCRIPTS/openstack/bootstrap.py" resources >>"$LOGS/setup.log" 2>&1 || die "bootstrap.py resources failed (see $LOGS/setup.log)"
  touch "$STATE/resources-$SETUP"
fi
touch "$STATE/ready-$SETUP"
log "ready in $(elapsed): Keystone on 127.0.0.1:${PORTS[keystone]}, compute host $COMPUTE_HOST"
print_env
