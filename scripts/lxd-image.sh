#!/usr/bin/env bash
# The Debian 12 image cms's lxd provider makes instances from, built without an image server and cached:
#   - a root filesystem by mmdebstrap (systemd, sshd, cloud-init, ifupdown with DHCP on eth0, sudo, and what the
#     engines need on a host: Java 17, Python 3, curl, unzip, tar) as $CACHE/lxd-image/HASH/rootfs.tar;
#   - LXD image metadata (meta.tar.gz) whose templates write cloud-init's NoCloud seed from the instance's
#     `user.user-data` config key when the instance is made: that is how cms hands each host its SSH host key and
#     the cluster's login key (no trust on first use).
# HASH is taken over this script, so any change here builds a new image (and removes the older builds); a warm run
# prints at once.
# `--variant k8s-host` builds the image of Kubernetes node containers instead: the same, plus what a kubelet needs that
# cms does not ship (the packages of images/k8s-host/Dockerfile: containerd, runc, the CNI plugins, etcd, iptables,
# conntrack, catatonit, busybox-static, kmod), their services disabled (cms starts containerd and etcd itself).
# stdout carries one shell assignment, for `eval`:
#   CMS_LXD_IMAGE_DIR=$CACHE/lxd-image/HASH[-VARIANT]      (meta.tar.gz and rootfs.tar inside)
# Import it into a daemon with `lxc image import DIR/meta.tar.gz DIR/rootfs.tar --alias cms-debian-12[-VARIANT]`
# (scripts/lxd.sh does that for the tests' daemon). Run as root (mmdebstrap). Settings (environment):
#   CMS_TESTBED_CACHE   cache folder (default ~/.cache/cms-testbed, shared with scripts/testbed.sh)
set -euo pipefail
VARIANT=
case "${1:-}" in
  '') ;;
  --variant) [ "${2:-}" = k8s-host ] || { echo "lxd-image: --variant: the only variant is k8s-host" >&2; exit 2; }; VARIANT=$2 ;;
  *) echo "usage: bash scripts/lxd-image.sh [--variant k8s-host]" >&2; exit 2 ;;
esac

STARTED=$(date +%s%N)
log() { printf 'lxd-image [%5.1fs]: %s\n' "$(( ($(date +%s%N) - STARTED) / 1000000 ))e-3" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (mmdebstrap)"
export DEBIAN_FRONTEND=noninteractive
CACHE=${CMS_TESTBED_CACHE:-${HOME:-/root}/.cache/cms-testbed}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd -P)

HASH=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
OUT=$CACHE/lxd-image/$HASH${VARIANT:+-$VARIANT}
if [ -s "$OUT/rootfs.tar" ] && [ -s "$OUT/meta.tar.gz" ]; then
  echo "CMS_LXD_IMAGE_DIR=$OUT"
  exit 0
fi

exec 8>"$CACHE/.lxd-image.lock"
flock -w 1200 8 || die "another scripts/lxd-image.sh has held $CACHE/.lxd-image.lock for 20 minutes"
if [ -s "$OUT/rootfs.tar" ] && [ -s "$OUT/meta.tar.gz" ]; then
  echo "CMS_LXD_IMAGE_DIR=$OUT"
  exit 0
fi
command -v mmdebstrap >/dev/null || apt-get install -y -q --no-install-recommends mmdebstrap >&2 || die "cannot install mmdebstrap"

WORK=$(mktemp -d "$CACHE/lxd-image.partial.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/templates"

# --- Root filesystem -----------------------------------------------------------------------------------------

PACKAGES=systemd-sysv,udev,dbus,openssh-server,cloud-init,ifupdown,isc-dhcp-client,netbase,iproute2,iputils-ping
PACKAGES+=,sudo,locales,ca-certificates,procps,less
PACKAGES+=,openjdk-17-jre-headless,python3,curl,unzip,tar,gzip
HOOKS=()
if [ "$VARIANT" = k8s-host ]; then
  PACKAGES+=,containerd,runc,containernetworking-plugins,etcd-server,iptables,conntrack,catatonit,busybox-static,kmod
  HOOKS+=(--customize-hook='systemctl --root="$1" disable etcd.service containerd.service')
fi
log "building the root filesystem with mmdebstrap (a few minutes)"
# Hooks: no host key baked in (cloud-init installs the one cms made), DHCP on eth0 by ifupdown, cloud-init from
# the NoCloud seed only and without its own network setup (one writer of /etc/network/interfaces), the locale
# cloud-init sets (en_US.UTF-8) generated, and the seed's folder root's alone: LXD writes the templates 0644, and the
# user data holds the host's private key.
mmdebstrap --variant=minbase --include="$PACKAGES" \
  --customize-hook='mkdir -p "$1/usr/share/man/man1"' \
  --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
  --customize-hook='printf "auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n" >"$1/etc/network/interfaces"' \
  --customize-hook='printf "datasource_list: [NoCloud, None]\nnetwork: {config: disabled}\n" >"$1/etc/cloud/cloud.cfg.d/90-cms-lxd.cfg"' \
  --customize-hook='rm -f "$1/etc/hostname" "$1/etc/machine-id" && touch "$1/etc/machine-id"' \
  --customize-hook='mkdir -p "$1/var/lib/cloud/seed/nocloud-net" && chmod 0700 "$1/var/lib/cloud/seed/nocloud-net"' \
  --customize-hook='echo "en_US.UTF-8 UTF-8" >"$1/etc/locale.gen" && chroot "$1" locale-gen >/dev/null' \
  "${HOOKS[@]}" \
  --customize-hook='chroot "$1" apt-get clean' \
  bookworm "$WORK/rootfs.tar" http://deb.debian.org/debian >&2 || die "mmdebstrap failed (see above)"

# --- Metadata and templates ----------------------------------------------------------------------------------

cat >"$WORK/metadata.yaml" <<EOF
architecture: $(uname -m)
creation_date: $(date +%s)
properties:
  description: Debian 12 (bookworm) for cms${VARIANT:+ ($VARIANT)}, cloud-init from user.user-data
  os: debian
  release: bookworm
templates:
  /var/lib/cloud/seed/nocloud-net/meta-data:
    when: [create, copy]
    template: meta-data.tpl
  /var/lib/cloud/seed/nocloud-net/user-data:
    when: [create, copy]
    template: user-data.tpl
    properties:
      default: "#cloud-config\n{}"
  /var/lib/cloud/seed/nocloud-net/vendor-data:
    when: [create, copy]
    template: vendor-data.tpl
    properties:
      default: "#cloud-config\n{}"
  /etc/hostname:
    when: [create, copy]
    template: hostname.tpl
EOF
printf 'instance-id: {{ container.name }}\nlocal-hostname: {{ container.name }}\n' >"$WORK/templates/meta-data.tpl"
printf '{{ config_get("user.user-data", properties.default) }}\n' >"$WORK/templates/user-data.tpl"
printf '{{ config_get("user.vendor-data", properties.default) }}\n' >"$WORK/templates/vendor-data.tpl"
printf '{{ container.name }}\n' >"$WORK/templates/hostname.tpl"
tar -C "$WORK" -czf "$WORK/meta.tar.gz" metadata.yaml templates

mkdir -p "$CACHE/lxd-image"
rm -rf "$OUT"
mkdir "$OUT"
mv "$WORK/meta.tar.gz" "$WORK/rootfs.tar" "$OUT/"
# Builds of earlier versions of this script are no longer used (about 0.5 GB each).
find "$CACHE/lxd-image" -mindepth 1 -maxdepth 1 -type d ! -name "$HASH" ! -name "$HASH-*" -exec rm -rf {} +
log "built in $(( ($(date +%s%N) - STARTED) / 1000000000 )) s: $OUT ($(du -sh "$OUT/rootfs.tar" | cut -f1))"
echo "CMS_LXD_IMAGE_DIR=$OUT"
