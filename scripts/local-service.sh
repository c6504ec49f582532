# Helpers shared by the scripts that run a private service for the tests as a system user (postgres.sh,
# rabbitmq.sh); sourced, after the script has defined log and die.

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
