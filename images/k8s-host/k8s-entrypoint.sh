#!/bin/sh
# Prepares a cms Kubernetes node container, then starts sshd through the host image's entrypoint.
# The container runs with /proc and /sys unmasked (systempaths=unconfined), so kernel settings that are not
# namespaced would be the machine's own: each one the kubelet sets is shadowed first, before anything else runs,
# by a file holding the value the kubelet wants (src/engines/kubernetes/node-container.ts SHADOWED_SYSCTLS). If
# one cannot be shadowed the container stops: a node must never write the machine's settings.
set -eu
shadow=/run/cms-sysctl
mkdir -p "$shadow"
while read -r path value; do
  [ -n "$path" ] || continue
  if [ ! -e "$path" ]; then echo "cms-k8s-entrypoint: $path does not exist here; nothing to shadow" >&2; continue; fi
  file="$shadow/$(printf '%s' "${path#/proc/sys/}" | tr / .)"
  printf '%s\n' "$value" > "$file"
  if ! awk -v p="$path" '$5 == p {found = 1} END {exit !found}' /proc/self/mountinfo; then
    mount --bind "$file" "$path" || { echo "cms-k8s-entrypoint: cannot shadow $path; stopping" >&2; exit 1; }
  fi
  [ "$(cat "$path")" = "$value" ] || { echo "cms-k8s-entrypoint: $path still shows the machine's value; stopping" >&2; exit 1; }
done <<'LIST'
/proc/sys/vm/overcommit_memory 1
/proc/sys/vm/panic_on_oom 0
/proc/sys/kernel/panic 10
/proc/sys/kernel/panic_on_oops 1
/proc/sys/kernel/keys/root_maxkeys 1000000
/proc/sys/kernel/keys/root_maxbytes 25000000
LIST
# containerd and the kubelet propagate mounts into pods (volumes, the pods' /etc/hosts and secrets).
mount --make-rshared /
# The container's own cgroup subtree (private cgroup namespace), writable for the kubelet and runc.
for m in /sys/fs/cgroup/*/; do
  mount -o remount,bind,rw "$m" 2>/dev/null || echo "cms-k8s-entrypoint: cannot make $m writable" >&2
done
exec /usr/local/sbin/cms-entrypoint "$@"
