#!/bin/sh
# cms places /etc/ssh/ssh_host_ed25519_key before the first start; hosts started otherwise make their own keys.
set -e
mkdir -p /run/sshd
ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1 || ssh-keygen -A
if [ -n "${CMS_AUTHORIZED_KEY:-}" ]; then
  mkdir -p /root/.ssh && chmod 0700 /root/.ssh
  touch /root/.ssh/authorized_keys && chmod 0600 /root/.ssh/authorized_keys
  grep -qxF "$CMS_AUTHORIZED_KEY" /root/.ssh/authorized_keys || printf '%s\n' "$CMS_AUTHORIZED_KEY" >> /root/.ssh/authorized_keys
fi
# Engines that manage cgroups (a root Nomad client, the kubelet) get the container's own cgroup tree writable: the
# container runs in a private cgroup namespace, so this is its subtree only, never the machine's.
if [ "${CMS_WRITABLE_CGROUPS:-}" = 1 ]; then
  for m in /sys/fs/cgroup/*/; do
    mount -o remount,bind,rw "$m" 2>/dev/null || echo "cms-entrypoint: cannot make $m writable" >&2
  done
fi
exec /usr/sbin/sshd -D -e
