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
exec /usr/sbin/sshd -D -e
