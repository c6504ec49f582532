#!/usr/bin/env bash
# A private LXD daemon for the lxd provider's tests, made once under the testbed cache and reused; a warm run
# (daemon up, image current) takes well under a second and changes nothing:
#   - Debian's `lxd` and `lxd-client` (5.0 on bookworm) and `dnsmasq-base` (LXD's DHCP) with apt-get when missing;
#   - its own network namespace `$CMS_LXD_NETNS` (default cms-lxd): LXD does one outside DNS lookup when it starts,
#     and the namespace has no route out, so nothing it or its instances send leaves the machine. A veth pair joins
#     the namespace to this one (10.214.255.1 here, 10.214.255.2 there) and a route sends 10.214.0.0/24 through it;
#   - the daemon: LXD_DIR=$CMS_LXD_DIR (default /var/lib/cms-lxd), `lxd --group root` inside the namespace (no systemd here), with one `dir`
#     storage pool and one managed bridge `cmsbr0` (10.214.0.1/24, DHCP by LXD's dnsmasq, no NAT, no IPv6) that the
#     default profile's eth0 joins: instances get addresses this machine reaches directly, as on a cloud's subnet;
#   - the image cms makes instances from (scripts/lxd-image.sh), imported as `cms-debian-12` and replaced when the
#     image changes.
#   - the image of Kubernetes node containers (scripts/lxd-image.sh --variant k8s-host), imported as
#     `cms-debian-12-k8s-host` the same way.
#
#   - its API also over HTTPS on the namespace's end of the veth (10.214.255.2:8443), with one client certificate
#     made here and trusted ($CMS_LXD_DIR/cms-test-client), for the tests of cms's remote path.
#   - with --vm, also what LXD virtual machines need: Debian's `qemu-system-x86`, `qemu-utils`, `ovmf` and
#     `lxd-agent` (apt-get, when missing; the daemon is restarted once if it was started without them, and only when
#     no instance runs on it, since LXD looks for them when it starts). Whether the daemon can run VMs is LXD's own
#     answer (GET /1.0: `environment.instance_types`, or in LXD 5.0 the `qemu` driver in `environment.driver`; it also
#     needs /dev/kvm and the vhost_vsock kernel module, which no package provides). When it can, cms's VM image (scripts/lxd-vm-image.sh) is imported as `cms-debian-12-vm`.
#
# stdout carries shell assignments, for `eval "$(bash scripts/lxd.sh)"`:
#   CMS_LXD_SOCKET=$CMS_LXD_DIR/unix.socket
#   CMS_LXD_TEST_REMOTE=https://10.214.255.2:8443
#   CMS_LXD_TEST_TLS=$CMS_LXD_DIR/cms-test-client      (client.crt, client.key; the server's is $CMS_LXD_DIR/server.crt)
#   CMS_LXD_VM=1 or 0                                   (with --vm: whether the daemon runs virtual machines)
# `bash scripts/lxd.sh --stop` stops the daemon (which stops its instances), then removes the namespace and the
# veth pair, and prints nothing. Progress goes to stderr. Run as root. Settings (environment):
#   CMS_TESTBED_CACHE   cache folder (default ~/.cache/cms-testbed, shared with scripts/testbed.sh)
#   CMS_LXD_NETNS       the network namespace's name (default cms-lxd)
#   CMS_LXD_DIR         the daemon's LXD_DIR (default /var/lib/cms-lxd; every folder above it open to others)
set -euo pipefail

# shellcheck source=scripts/local-service.sh
SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
source "$SCRIPTS/local-service.sh"
VM=
args=()
for arg in "$@"; do
  if [ "$arg" = --vm ]; then VM=1; else args+=("$arg"); fi
done
service_script lxd root "${args[@]}"
NETNS=${CMS_LXD_NETNS:-cms-lxd}
[[ $NETNS =~ ^[a-z][a-z0-9-]{0,14}$ ]] || die "CMS_LXD_NETNS must be a short lower-case name, not '$NETNS'"
cd /

# Not under the cache: the containers' root (an unprivileged uid) must reach it, and /root is closed to others.
DIR=${CMS_LXD_DIR:-/var/lib/cms-lxd}
SOCKET=$DIR/unix.socket
PIDFILE=$DIR/cms-lxd.pid
LOGFILE=$DIR/lxd.log
INITIALIZED=$DIR/cms-initialized # the preseed applied
IMAGE_ALIAS=cms-debian-12
IMAGE_MARK=$DIR/cms-image # the image folder imported under $IMAGE_ALIAS
K8S_IMAGE_ALIAS=cms-debian-12-k8s-host
K8S_IMAGE_MARK=$DIR/cms-k8s-image # the image folder imported under $K8S_IMAGE_ALIAS
VM_IMAGE_ALIAS=cms-debian-12-vm
VM_IMAGE_MARK=$DIR/cms-vm-image # the VM image folder imported under $VM_IMAGE_ALIAS
# Whether the VM packages were installed when the running daemon started ("vm-tools"): LXD looks for them then.
DAEMON_MARK=$DIR/cms-daemon
VM_PACKAGES=(qemu-system-x86 qemu-utils ovmf lxd-agent)
HOST_VETH=cmslxd0
NS_VETH=cmslxd1
HOST_ADDR=10.214.255.1
NS_ADDR=10.214.255.2
INSTANCE_NET=10.214.0.0/24
BRIDGE_ADDR=10.214.0.1/24
HTTPS_ADDR=$NS_ADDR:8443
CLIENT_DIR=$DIR/cms-test-client # client.crt, client.key: a remote user's certificate, trusted by the daemon
CLIENT_NAME=cms-tests
# A unix socket's path has at most 107 bytes.
[ "${#SOCKET}" -le 100 ] || die "the cache folder's path is too long for LXD's unix socket: $SOCKET (set CMS_TESTBED_CACHE)"

exec 7>"$CACHE/.lxd.lock"
flock -w 1200 7 || die "another scripts/lxd.sh has held $CACHE/.lxd.lock for 20 minutes"

in_ns() { ip netns exec "$NETNS" env LXD_DIR="$DIR" "$@"; }
# The daemon's pid, if it is ours: a live `lxd` whose environment names our LXD_DIR.
daemon_pid() {
  local pid
  pid=$(head -n 1 "$PIDFILE" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = lxd ] || return 1
  tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "LXD_DIR=$DIR" || return 1
  echo "$pid"
}
answers() { [ -S "$SOCKET" ] && timeout 10 env LXD_DIR="$DIR" lxc query /1.0 >/dev/null 2>&1; }
have_bin() { command -v lxd >/dev/null && command -v lxc >/dev/null && [ -x /usr/sbin/dnsmasq ]; }
have_vm_tools() {
  command -v qemu-system-x86_64 >/dev/null && command -v qemu-img >/dev/null && command -v lxd-agent >/dev/null \
    && [ -s /usr/share/OVMF/OVMF_CODE.fd ]
}
# LXD's own answer: the instance types it runs here (instance_types in later LXD; LXD 5.0 lists its operational
# drivers, "lxc | qemu", in environment.driver).
runs_vms() {
  in_ns lxc query /1.0 2>/dev/null | python3 -c 'import json, sys
e = json.load(sys.stdin)["environment"]
sys.exit(0 if "virtual-machine" in e.get("instance_types", []) or "qemu" in [d.strip() for d in e.get("driver", "").split("|")] else 1)'
}
netns_ready() {
  ip netns list 2>/dev/null | grep -qw "^$NETNS" && ip -br addr show "$HOST_VETH" 2>/dev/null | grep -qF "$HOST_ADDR/30" \
    && ip route show "$INSTANCE_NET" | grep -qF "via $NS_ADDR"
}
# image_current MARK DIR: the image folder DIR is what the daemon imported (recorded in MARK).
image_current() { [ "$(cat "$1" 2>/dev/null)" = "$2" ]; }
# import_image ALIAS DIR DISK MARK: imports DIR/meta.tar.gz with DIR/DISK under ALIAS (replacing an older one) and records DIR.
import_image() {
  if in_ns lxc image info "$1" >/dev/null 2>&1; then
    log "removing the previous $1"
    in_ns lxc image delete "$1" >&2
  fi
  log "importing $2 as $1"
  in_ns lxc image import "$2/meta.tar.gz" "$2/$3" --alias "$1" >&2 || die "lxc image import of $2 failed"
  echo "$2" >"$4"
}
print_env() {
  echo "CMS_LXD_SOCKET=$SOCKET"
  echo "CMS_LXD_TEST_REMOTE=https://$HTTPS_ADDR"
  echo "CMS_LXD_TEST_TLS=$CLIENT_DIR"
  if [ -n "$VM" ]; then
    if runs_vms; then echo "CMS_LXD_VM=1"; else echo "CMS_LXD_VM=0"; fi
  fi
}
# --vm: ready when the packages are there, the daemon started with them, and (if it runs VMs) the VM image is current.
vm_ready() {
  [ -z "$VM" ] && return 0
  have_vm_tools && [ "$(cat "$DAEMON_MARK" 2>/dev/null)" = vm-tools ] || return 1
  runs_vms || return 0
  # The imported build is the one lxd-vm-image.sh makes now (its folder is named by the script's hash).
  local imported
  imported=$(cat "$VM_IMAGE_MARK" 2>/dev/null) && [ -s "$imported/disk.qcow2" ] \
    && [ "${imported##*/}" = "$(sha256sum "$SCRIPTS/lxd-vm-image.sh" | cut -c1-12)" ]
}
wait_gone() { # wait_gone PID SECONDS
  local deadline=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$deadline" ] && [ -d "/proc/$1" ]; do sleep 0.2; done
  [ ! -d "/proc/$1" ]
}

# --- Stop ----------------------------------------------------------------------------------------------------

if [ -n "$STOP" ]; then
  if pid=$(daemon_pid); then
    log "stopping the daemon (pid $pid) and its instances"
    in_ns lxd shutdown --timeout 120 >&2 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" 60 || { log "the daemon did not stop in 60 s: killing it"; kill -KILL "$pid" 2>/dev/null || true; }
  else
    log "the daemon is not running"
  fi
  # LXD's dnsmasq for the bridge outlives a killed daemon: ours is the one whose pid file is in our LXD_DIR.
  pid=$(cat "$DIR/networks/cmsbr0/dnsmasq.pid" 2>/dev/null || true)
  if [[ $pid =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dnsmasq ]; then kill -TERM "$pid" 2>/dev/null || true; fi
  ip link del "$HOST_VETH" 2>/dev/null || true
  ip route del "$INSTANCE_NET" 2>/dev/null || true
  if ip netns list 2>/dev/null | grep -qw "^$NETNS"; then ip netns del "$NETNS"; log "removed network namespace $NETNS"; fi
  exit 0
fi

# --- Warm: running, answering, image current -----------------------------------------------------------------

image_env=$(bash "$SCRIPTS/lxd-image.sh") || die "scripts/lxd-image.sh failed"
eval "$image_env"
IMAGE_DIR=$CMS_LXD_IMAGE_DIR
image_env=$(bash "$SCRIPTS/lxd-image.sh" --variant k8s-host) || die "scripts/lxd-image.sh --variant k8s-host failed"
eval "$image_env"
K8S_IMAGE_DIR=$CMS_LXD_IMAGE_DIR
if have_bin && netns_ready && [ -f "$INITIALIZED" ] && daemon_pid >/dev/null && answers && image_current "$IMAGE_MARK" "$IMAGE_DIR" \
  && image_current "$K8S_IMAGE_MARK" "$K8S_IMAGE_DIR" \
  && [ -s "$CLIENT_DIR/client.crt" ] && [ "$(in_ns lxc config get core.https_address)" = "$HTTPS_ADDR" ] && vm_ready; then
  log "running ($(elapsed)): $SOCKET"
  print_env
  exit 0
fi

# --- Debian packages -----------------------------------------------------------------------------------------

if ! have_bin; then
  log "installing Debian's lxd, lxd-client and dnsmasq-base (apt-get)"
  apt_install lxd lxd-client dnsmasq-base || die "apt-get install lxd lxd-client dnsmasq-base failed (see above)"
  have_bin || die "no lxd, lxc or dnsmasq after installing them"
fi

if [ -n "$VM" ] && ! have_vm_tools; then
  log "installing what LXD virtual machines need: ${VM_PACKAGES[*]} (apt-get)"
  apt_install "${VM_PACKAGES[@]}" || die "apt-get install ${VM_PACKAGES[*]} failed (see above)"
  have_vm_tools || die "no qemu-system-x86_64, qemu-img, lxd-agent or /usr/share/OVMF/OVMF_CODE.fd after installing ${VM_PACKAGES[*]}"
fi
# A daemon started without them does not offer VMs until it starts again: restart it, unless it runs instances.
if [ -n "$VM" ] && [ "$(cat "$DAEMON_MARK" 2>/dev/null)" != vm-tools ] && pid=$(daemon_pid) && answers; then
  running=$(in_ns lxc list --format csv --columns s 2>/dev/null | grep -c RUNNING || true)
  [ "$running" -eq 0 ] || die "the daemon was started without the VM packages and runs $running instances: stop them (or scripts/lxd.sh --stop), then run scripts/lxd.sh --vm again"
  log "restarting the daemon (pid $pid): it was started without the VM packages"
  in_ns lxd shutdown --timeout 60 >&2 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  wait_gone "$pid" 60 || die "the daemon (pid $pid) did not stop within 60 s"
fi

# --- Network namespace and the veth pair into it ---------------------------------------------------------------

if ! netns_ready; then
  log "making network namespace $NETNS joined by $HOST_VETH ($HOST_ADDR) <-> $NS_VETH ($NS_ADDR), route $INSTANCE_NET"
  ip netns list 2>/dev/null | grep -qw "^$NETNS" || ip netns add "$NETNS"
  ip link del "$HOST_VETH" 2>/dev/null || true
  ip link add "$HOST_VETH" type veth peer name "$NS_VETH" netns "$NETNS"
  ip addr add "$HOST_ADDR/30" dev "$HOST_VETH"
  ip link set "$HOST_VETH" up
  ip -n "$NETNS" link set lo up
  ip -n "$NETNS" addr add "$NS_ADDR/30" dev "$NS_VETH"
  ip -n "$NETNS" link set "$NS_VETH" up
  # Forward between the bridge and the veth only: the namespace has no default route, so nothing leaves.
  ip netns exec "$NETNS" sysctl -q -w net.ipv4.ip_forward=1
  ip route replace "$INSTANCE_NET" via "$NS_ADDR" dev "$HOST_VETH"
fi

# --- Daemon ----------------------------------------------------------------------------------------------------

mkdir -p "$DIR"
chmod 0711 "$DIR"
if ! daemon_pid >/dev/null; then
  log "starting lxd in $NETNS (LXD_DIR=$DIR, log: $LOGFILE)"
  rm -f "$SOCKET"
  # Its own session, no descriptor of ours: the lock must not live as long as the daemon.
  # `ip netns exec` gives the daemon a fresh /sys without the cgroup mounts LXC needs to start containers: they are
  # mounted again there as they are here (the same hierarchies). Not through a shell function, which would fork:
  # every step execs the next, so $! is the daemon's pid.
  CGROUP_MOUNTS=$(awk '$2 ~ "^/sys/fs/cgroup" {print $3, $2, $4}' /proc/self/mounts) \
    ip netns exec "$NETNS" env LXD_DIR="$DIR" sh -c 'set -e
      printf "%s\n" "$CGROUP_MOUNTS" | while read -r type dir opts; do mkdir -p "$dir"; mount -t "$type" -o "$opts" "$type" "$dir"; done
      exec setsid lxd --group root --logfile "$0"' "$LOGFILE" </dev/null >>"$LOGFILE" 2>&1 7>&- &
  echo $! >"$PIDFILE"
  if have_vm_tools; then echo vm-tools >"$DAEMON_MARK"; else echo containers >"$DAEMON_MARK"; fi
fi
in_ns timeout 60 lxd waitready --timeout 60 >&2 || { tail -n 20 "$LOGFILE" >&2; die "lxd did not answer within 60 s (see $LOGFILE)"; }
daemon_pid >/dev/null || die "lxd runs but not as the process recorded in $PIDFILE"

if [ ! -f "$INITIALIZED" ]; then
  log "initializing: storage pool default (dir), bridge cmsbr0 ($BRIDGE_ADDR, DHCP, no NAT), default profile"
  in_ns lxd init --preseed >&2 <<EOF || die "lxd init --preseed failed (see above and $LOGFILE)"
config: {}
storage_pools:
- name: default
  driver: dir
networks:
- name: cmsbr0
  type: bridge
  config:
    ipv4.address: $BRIDGE_ADDR
    ipv4.nat: "false"
    ipv4.firewall: "false"
    ipv6.address: none
    dns.mode: none
profiles:
- name: default
  devices:
    root:
      type: disk
      path: /
      pool: default
    eth0:
      type: nic
      name: eth0
      network: cmsbr0
EOF
  touch "$INITIALIZED"
fi

# --- HTTPS listener and the tests' client certificate ---------------------------------------------------------

# The remote API on the namespace's end of the veth only (this machine reaches it; nothing else can), and one client
# certificate made here and trusted by the daemon, so the tests drive the HTTPS path as a remote user would.
if [ "$(in_ns lxc config get core.https_address)" != "$HTTPS_ADDR" ]; then
  log "serving the API over HTTPS on $HTTPS_ADDR"
  in_ns lxc config set core.https_address "$HTTPS_ADDR" >&2
fi
if [ ! -s "$CLIENT_DIR/client.crt" ] || ! in_ns lxc config trust list --format csv | grep -q "^client,$CLIENT_NAME,"; then
  log "making and trusting the tests' client certificate ($CLIENT_DIR)"
  mkdir -p "$CLIENT_DIR"
  chmod 0700 "$CLIENT_DIR"
  rm -f "$CLIENT_DIR/client.crt" "$CLIENT_DIR/client.key"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -subj "/CN=$CLIENT_NAME" \
    -keyout "$CLIENT_DIR/client.key" -out "$CLIENT_DIR/client.crt" 2>/dev/null || die "openssl could not make a client certificate"
  in_ns lxc config trust list --format csv | grep -q "^client,$CLIENT_NAME," && in_ns lxc config trust remove "$CLIENT_NAME" >&2 || true
  in_ns lxc config trust add "$CLIENT_DIR/client.crt" --name "$CLIENT_NAME" >&2 || die "lxc config trust add failed"
fi

# --- Image -----------------------------------------------------------------------------------------------------

image_current "$IMAGE_MARK" "$IMAGE_DIR" || import_image "$IMAGE_ALIAS" "$IMAGE_DIR" rootfs.tar "$IMAGE_MARK"
image_current "$K8S_IMAGE_MARK" "$K8S_IMAGE_DIR" || import_image "$K8S_IMAGE_ALIAS" "$K8S_IMAGE_DIR" rootfs.tar "$K8S_IMAGE_MARK"

# --- VM image --------------------------------------------------------------------------------------------------

if [ -n "$VM" ]; then
  if runs_vms; then
    vm_image_env=$(bash "$SCRIPTS/lxd-vm-image.sh") || die "scripts/lxd-vm-image.sh failed"
    eval "$vm_image_env"
    VM_IMAGE_DIR=$CMS_LXD_VM_IMAGE_DIR
    image_current "$VM_IMAGE_MARK" "$VM_IMAGE_DIR" || import_image "$VM_IMAGE_ALIAS" "$VM_IMAGE_DIR" disk.qcow2 "$VM_IMAGE_MARK"
  else
    # LXD's log says which check failed when it started (no /dev/kvm, no vhost_vsock, no QEMU or firmware).
    why=$(grep -h 'Instance type not operational' "$LOGFILE" 2>/dev/null | grep -o 'err="[^"]*"' | tail -n 1 || true)
    log "this daemon cannot run virtual machines here (${why:-see $LOGFILE}): only containers"
  fi
fi

answers || die "the daemon does not answer on $SOCKET"
log "ready in $(elapsed): $(lxd --version) in $NETNS, socket $SOCKET, images $IMAGE_ALIAS and $K8S_IMAGE_ALIAS"
print_env
