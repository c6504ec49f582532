# Helpers shared by the scripts that run a private service for the tests as a system user (postgres.sh,
# rabbitmq.sh); sourced first, then `service_script NAME SYSTEM_USER "$@"`.

# service_script NAME SYSTEM_USER ARGS...: the common start. Sets STOP (1 for --stop, the only argument taken),
# CACHE (the testbed cache folder, made, absolute), log/die/elapsed (stderr lines prefixed with NAME and the time
# since start); refuses to run as anyone but root (the service runs as SYSTEM_USER, started with runuser).
service_script() {
  SERVICE_NAME=$1
  local user=$2 arg
  shift 2
  STARTED=$(date +%s%N)
  STOP=
  for arg in "$@"; do
    case "$arg" in
      --stop) STOP=1 ;;
      *) echo "usage: $SERVICE_NAME.sh [--stop]" >&2; exit 2 ;;
    esac
  done
  export DEBIAN_FRONTEND=noninteractive
  [ "$(id -u)" -eq 0 ] || die "run as root (the service runs as the $user system user, started with runuser)"
  CACHE=${CMS_TESTBED_CACHE:-${HOME:-/root}/.cache/cms-testbed}
  mkdir -p "$CACHE"
  CACHE=$(cd "$CACHE" && pwd -P)
}
log() { printf '%s [%5.1fs]: %s\n' "$SERVICE_NAME" "$(( ($(date +%s%N) - STARTED) / 1000000 ))e-3" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
elapsed() { echo "$(( ($(date +%s%N) - STARTED) / 1000000 )) ms"; }

# checked_port VARIABLE VALUE HIGHEST TAKEN: VALUE as a port number from 1024 to HIGHEST, not TAKEN (the system-wide
# service's port); VARIABLE names the setting in the error.
checked_port() {
  local name=$1 value=$2 highest=$3 taken=$4
  [[ $value =~ ^[0-9]{1,5}$ ]] && [ "$((10#$value))" -ge 1024 ] && [ "$((10#$value))" -le "$highest" ] \
    || die "$name must be a port number from 1024 to $highest, not '$value'"
  [ "$((10#$value))" -ne "$taken" ] || die "$name=$taken is the system-wide service's port; pick another"
  echo "$((10#$value))"
}

# apt_install PACKAGE...: updates the package lists only when installing without it fails.
apt_install() {
  local -a cmd=(apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "$@")
  "${cmd[@]}" >&2 && return 0
  log "installing failed; updating the package lists and retrying"
  apt-get update -q -o DPkg::Lock::Timeout=600 >&2 && "${cmd[@]}" >&2
}

# port_free PORT: nothing accepts connections on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# let_user_reach USER DIR: gives USER search permission on every folder above DIR it cannot enter (an ACL for that
# user alone, package `acl`; else o+x), so that USER can enter DIR (under /root, say).
let_user_reach() {
  local user=$1 target=$2 dir
  runuser -u "$user" -- test -x "$target" && return 0
  local -a parents=()
  dir=$target
  while [ "$dir" != / ]; do dir=$(dirname "$dir"); parents=("$dir" "${parents[@]}"); done
  for dir in "${parents[@]}"; do
    runuser -u "$user" -- test -x "$dir" && continue
    if { command -v setfacl >/dev/null || apt_install acl; } && setfacl -m "u:$user:x" "$dir"; then
      log "granted the $user user search permission on $dir (ACL u:$user:x)"
    else
      chmod o+x "$dir"
      log "granted search permission on $dir to others (o+x; no ACL support)"
    fi
  done
  runuser -u "$user" -- test -x "$target" || die "the $user user still cannot enter $target"
}
