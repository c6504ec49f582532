#!/usr/bin/env bash
# The Debian 12 image cms's lxd provider makes virtual machines from (`create -p lxd --vm`), built from Debian
# packages only (no image server) and cached:
#   - a root filesystem by mmdebstrap: what cms's container image has (scripts/lxd-image.sh), plus a kernel and its
#     initramfs, Debian's lxd-agent (LXD's guest agent: `lxc exec`, the file API), growpart (cloud-init grows the root
#     partition to the disk LXD gives), and what a Kubernetes node needs that cms does not ship (containerd, runc, the
#     CNI plugins, etcd, iptables, conntrack, catatonit, busybox-static): the hosts may have no mirror;
#   - a UEFI-bootable GPT disk, assembled in a file with no loop device and no mount: an EFI system partition (FAT by
#     mkfs.vfat, filled with mtools) holding systemd-boot as the removable-media boot loader, the kernel and the
#     initramfs; and the root filesystem (ext4 by `mkfs.ext4 -d`). sgdisk writes the partition table, dd lays the two
#     filesystems in, qemu-img makes it a qcow2;
#   - LXD metadata (metadata.yaml, no templates: LXD applies a VM's templates through its agent, too late for
#     cloud-init). LXD hands a VM its `user.user-data` on its config drive (a 9p or virtiofs share named "config");
#     the image's cms-lxd-seed service copies the drive's cloud-init files into cloud-init's NoCloud seed before
#     cloud-init starts, as the container image's templates do. The network interface is eth0 (net.ifnames=0), with
#     DHCP by ifupdown as in the containers. The boot loader is not signed: instances need security.secureboot=false
#     (cms sets it; the image says so in requirements.secureboot).
# HASH is taken over this script, so any change here builds a new image (and removes the older builds); a warm run
# prints at once.
# stdout carries one shell assignment, for `eval`:
#   CMS_LXD_VM_IMAGE_DIR=$CACHE/lxd-vm-image/HASH      (meta.tar.gz and disk.qcow2 inside)
# Import it into a daemon with `lxc image import DIR/meta.tar.gz DIR/disk.qcow2 --alias cms-debian-12-vm`
# (`scripts/lxd.sh --vm` does that for the tests' daemon). Run as root (mmdebstrap; the host tools below are
# installed with apt-get when missing). Settings (environment):
#   CMS_TESTBED_CACHE   cache folder (default ~/.cache/cms-testbed, shared with scripts/testbed.sh)
set -euo pipefail

STARTED=$(date +%s%N)
log() { printf 'lxd-vm-image [%5.1fs]: %s\n' "$(( ($(date +%s%N) - STARTED) / 1000000 ))e-3" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (mmdebstrap)"
export DEBIAN_FRONTEND=noninteractive
CACHE=${CMS_TESTBED_CACHE:-${HOME:-/root}/.cache/cms-testbed}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd -P)

HASH=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
OUT=$CACHE/lxd-vm-image/$HASH
built() { [ -s "$OUT/disk.qcow2" ] && [ -s "$OUT/meta.tar.gz" ]; }
if built; then
  echo "CMS_LXD_VM_IMAGE_DIR=$OUT"
  exit 0
fi

exec 8>"$CACHE/.lxd-vm-image.lock"
flock -w 1800 8 || die "another scripts/lxd-vm-image.sh has held $CACHE/.lxd-vm-image.lock for 30 minutes"
if built; then
  echo "CMS_LXD_VM_IMAGE_DIR=$OUT"
  exit 0
fi

# Host tools: mmdebstrap, sgdisk (gdisk), mkfs.vfat (dosfstools), mtools, qemu-img (qemu-utils); mkfs.ext4 is in
# e2fsprogs, which every Debian has.
missing=()
for tool in mmdebstrap:mmdebstrap sgdisk:gdisk mkfs.vfat:dosfstools mcopy:mtools qemu-img:qemu-utils mkfs.ext4:e2fsprogs; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]} (apt-get)"
  apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >&2 \
    || { apt-get update -q -o DPkg::Lock::Timeout=600 >&2 && apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >&2; } \
    || die "cannot install ${missing[*]}"
fi

WORK=$(mktemp -d "$CACHE/lxd-vm-image.partial.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# --- Root filesystem -----------------------------------------------------------------------------------------

ROOT_UUID=$(cat /proc/sys/kernel/random/uuid)
CMDLINE="root=UUID=$ROOT_UUID ro console=tty0 console=ttyS0,115200n8 net.ifnames=0"

# The seed service: the config drive mounted read-only for a moment (one 9p mount at a time per share: it runs before
# lxd-agent's setup, which mounts the same share), its cloud-init files copied into the NoCloud seed (root's alone: the
# user data holds the host's private key).
cat >"$WORK/cms-lxd-seed" <<'EOF'
#!/bin/sh
# Copies the LXD config drive's cloud-init input into cloud-init's NoCloud seed (cms's VM image).
set -eu
mnt=/run/cms-lxd-config
seed=/var/lib/cloud/seed/nocloud-net
mkdir -p "$mnt"
if ! mount -t virtiofs -o ro config "$mnt" 2>/dev/null; then
  modprobe 9pnet_virtio 2>/dev/null || true
  mount -t 9p -o ro,access=0,trans=virtio config "$mnt" || { echo "cms-lxd-seed: no LXD config drive" >&2; exit 1; }
fi
trap 'umount "$mnt"; rmdir "$mnt"' EXIT
umask 077
mkdir -p "$seed"
chmod 0700 "$seed"
for f in meta-data user-data vendor-data network-config; do
  if [ -f "$mnt/cloud-init/$f" ]; then cp "$mnt/cloud-init/$f" "$seed/$f"; else rm -f "$seed/$f"; fi
done
# cloud-init's NoCloud takes its network from network-config: cms's image has ifupdown's DHCP on eth0 instead.
rm -f "$seed/network-config"
EOF
cat >"$WORK/cms-lxd-seed.service" <<'EOF'
[Unit]
Description=cms: cloud-init's seed from the LXD config drive
DefaultDependencies=no
Requires=local-fs.target
After=local-fs.target systemd-modules-load.service
Before=cloud-init-local.service lxd-agent.service
ConditionVirtualization=vm

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/cms-lxd-seed

[Install]
WantedBy=cloud-init-local.service
EOF

PACKAGES=systemd-sysv,udev,dbus,openssh-server,cloud-init,ifupdown,isc-dhcp-client,netbase,iproute2,iputils-ping
PACKAGES+=,sudo,locales,ca-certificates,procps,less
PACKAGES+=,openjdk-17-jre-headless,python3,curl,unzip,tar,gzip
PACKAGES+=,linux-image-amd64,initramfs-tools,systemd-boot-efi,lxd-agent,cloud-guest-utils,fdisk,e2fsprogs,kmod
PACKAGES+=,containerd,runc,containernetworking-plugins,etcd-server,iptables,conntrack,catatonit,busybox-static
log "building the root filesystem with mmdebstrap (a few minutes)"
# Hooks as in scripts/lxd-image.sh (no host key baked in, DHCP on eth0, cloud-init from the NoCloud seed only, the
# locale generated), plus: the root filesystem in fstab by UUID, the seed service, and etcd and containerd not started
# at boot (cms runs its own, on its own ports and socket; these would only take memory).
mmdebstrap --variant=minbase --include="$PACKAGES" \
  --customize-hook='mkdir -p "$1/usr/share/man/man1"' \
  --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
  --customize-hook='printf "auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n" >"$1/etc/network/interfaces"' \
  --customize-hook='printf "datasource_list: [NoCloud, None]\nnetwork: {config: disabled}\n" >"$1/etc/cloud/cloud.cfg.d/90-cms-lxd.cfg"' \
  --customize-hook='rm -f "$1/etc/hostname" "$1/etc/machine-id" && touch "$1/etc/machine-id"' \
  --customize-hook='mkdir -p "$1/var/lib/cloud/seed/nocloud-net" && chmod 0700 "$1/var/lib/cloud/seed/nocloud-net"' \
  --customize-hook='echo "en_US.UTF-8 UTF-8" >"$1/etc/locale.gen" && chroot "$1" locale-gen >/dev/null' \
  --customize-hook="printf 'UUID=%s / ext4 errors=remount-ro 0 1\n' '$ROOT_UUID' >\"\$1/etc/fstab\"" \
  --customize-hook="install -m 0755 '$WORK/cms-lxd-seed' \"\$1/usr/local/sbin/cms-lxd-seed\"" \
  --customize-hook="install -m 0644 '$WORK/cms-lxd-seed.service' \"\$1/etc/systemd/system/cms-lxd-seed.service\"" \
  --customize-hook='systemctl --root="$1" enable cms-lxd-seed.service' \
  --customize-hook='systemctl --root="$1" disable etcd.service containerd.service' \
  --customize-hook='chroot "$1" apt-get clean' \
  bookworm "$WORK/rootfs" http://deb.debian.org/debian >&2 || die "mmdebstrap failed (see above)"

KERNEL=$(find "$WORK/rootfs/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)
INITRD=$WORK/rootfs/boot/initrd.img-${KERNEL##*/vmlinuz-}
BOOTLOADER=$WORK/rootfs/usr/lib/systemd/boot/efi/systemd-bootx64.efi
[ -s "$KERNEL" ] && [ -s "$INITRD" ] || die "no kernel and initramfs in the root filesystem's /boot"
[ -s "$BOOTLOADER" ] || die "no systemd-boot in the root filesystem ($BOOTLOADER)"

# --- EFI system partition --------------------------------------------------------------------------------------

mib() { echo $(( ($(stat -c %s "$1") + 1048575) / 1048576 )); }
# Room for the kernel and the initramfs, twice (FAT32 needs at least 33 MiB).
ESP_MIB=$(( ($(mib "$KERNEL") + $(mib "$INITRD")) * 2 + 32 ))
[ "$ESP_MIB" -ge 64 ] || ESP_MIB=64
log "EFI system partition: $ESP_MIB MiB, systemd-boot, $(basename "$KERNEL")"
mkfs.vfat -C -F 32 -n CMS-EFI "$WORK/esp.img" $((ESP_MIB * 1024)) >/dev/null
export MTOOLS_SKIP_CHECK=1
printf 'default cms.conf\ntimeout 0\n' >"$WORK/loader.conf"
printf 'title Debian 12 (cms)\nlinux /vmlinuz\ninitrd /initrd.img\noptions %s\n' "$CMDLINE" >"$WORK/cms.conf"
mmd -i "$WORK/esp.img" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries
mcopy -i "$WORK/esp.img" "$BOOTLOADER" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$WORK/esp.img" "$KERNEL" ::/vmlinuz
mcopy -i "$WORK/esp.img" "$INITRD" ::/initrd.img
mcopy -i "$WORK/esp.img" "$WORK/loader.conf" ::/loader/loader.conf
mcopy -i "$WORK/esp.img" "$WORK/cms.conf" ::/loader/entries/cms.conf

# --- Root filesystem image and the disk --------------------------------------------------------------------------

# What the files take, a fifth more and 512 MiB: growpart makes the partition as large as the instance's disk at
# first boot.
USED_MIB=$(du -sm --apparent-size "$WORK/rootfs" | cut -f1)
ROOT_MIB=$(( USED_MIB * 6 / 5 + 512 ))
log "root filesystem: $USED_MIB MiB of files in $ROOT_MIB MiB of ext4 (mkfs.ext4 -d)"
mkfs.ext4 -q -F -L cms-root -U "$ROOT_UUID" -d "$WORK/rootfs" "$WORK/root.img" "${ROOT_MIB}M" || die "mkfs.ext4 -d failed"
rm -rf "$WORK/rootfs"

# 1 MiB before the first partition (the GPT and alignment), 1 MiB after the last (the backup GPT).
truncate -s $(( (1 + ESP_MIB + ROOT_MIB + 1) * 1048576 )) "$WORK/disk.raw"
sgdisk --clear \
  --new=1:1MiB:+${ESP_MIB}MiB --typecode=1:ef00 --change-name=1:EFI \
  --new=2:$((1 + ESP_MIB))MiB:+${ROOT_MIB}MiB --typecode=2:8304 --change-name=2:root \
  "$WORK/disk.raw" >/dev/null || die "sgdisk failed"
start() { sgdisk --info="$1" "$WORK/disk.raw" | awk '/^First sector:/ {print $3}'; }
[ "$(start 1)" -eq 2048 ] && [ "$(start 2)" -eq $(( (1 + ESP_MIB) * 2048 )) ] || die "the partitions do not start where the filesystems are written"
dd if="$WORK/esp.img" of="$WORK/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$WORK/root.img" of="$WORK/disk.raw" bs=1M seek=$((1 + ESP_MIB)) conv=notrunc,sparse status=none
rm -f "$WORK/esp.img" "$WORK/root.img"
sgdisk --verify "$WORK/disk.raw" >/dev/null || die "sgdisk --verify found a problem with the disk"
qemu-img convert -f raw -O qcow2 "$WORK/disk.raw" "$WORK/disk.qcow2" || die "qemu-img convert failed"
rm -f "$WORK/disk.raw"

# --- Metadata ----------------------------------------------------------------------------------------------------

cat >"$WORK/metadata.yaml" <<EOF
architecture: $(uname -m)
creation_date: $(date +%s)
properties:
  description: Debian 12 (bookworm) VM for cms, cloud-init from user.user-data
  os: debian
  release: bookworm
  requirements.secureboot: "false"
EOF
tar -C "$WORK" -czf "$WORK/meta.tar.gz" metadata.yaml

mkdir -p "$CACHE/lxd-vm-image"
rm -rf "$OUT"
mkdir "$OUT"
mv "$WORK/meta.tar.gz" "$WORK/disk.qcow2" "$OUT/"
# Builds of earlier versions of this script are no longer used (about 1.5 GB each).
find "$CACHE/lxd-vm-image" -mindepth 1 -maxdepth 1 -type d ! -name "$HASH" -exec rm -rf {} +
log "built in $(( ($(date +%s%N) - STARTED) / 1000000000 )) s: $OUT ($(du -sh "$OUT/disk.qcow2" | cut -f1))"
echo "CMS_LXD_VM_IMAGE_DIR=$OUT"
