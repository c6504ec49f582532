#!/usr/bin/env bash
# Installs moto's AWS emulator (PyPI `moto[server]`, pinned) into a Python venv under the testbed cache, once,
# and prints the absolute path of its `moto_server` on stdout (progress on stderr). The aws provider's tests
# start their own server from it on a free loopback port:  MOTO_SERVER=$(bash scripts/moto.sh)
# Settings (environment):
#   CMS_TESTBED_CACHE          cache folder (default ~/.cache/cms-testbed, shared with scripts/testbed.sh)
#   CMS_TESTBED_MOTO_VERSION   moto release (default below)
set -euo pipefail

MOTO_VERSION=${CMS_TESTBED_MOTO_VERSION:-5.2.5}
CACHE=${CMS_TESTBED_CACHE:-${HOME:-/root}/.cache/cms-testbed}
export DEBIAN_FRONTEND=noninteractive

started=$(date +%s%N)
log() { printf 'moto [%5.1fs]: %s\n' "$(( ($(date +%s%N) - started) / 1000000 ))e-3" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd -P)
venv="$CACHE/moto-$MOTO_VERSION"
server="$venv/bin/moto_server"

ready() { [ -x "$server" ] && "$venv/bin/python" -c 'import moto.server, moto.ec2' >/dev/null 2>&1; }
if ready; then echo "$server"; exit 0; fi

# One installer at a time per cache; a second caller waits and then finds it ready.
exec 8>"$CACHE/.moto.lock"
flock -w 900 8 || die "another scripts/moto.sh has held $CACHE/.moto.lock for 15 minutes"
if ready; then echo "$server"; exit 0; fi

if [ "$(id -u)" -eq 0 ]; then as_root() { "$@"; }; else as_root() { sudo -n -E "$@"; }; fi
# Debian's own Python (the one scripts/testbed.sh installs), with its venv module.
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3 || true)
[ -n "$python" ] || die "no python3 (scripts/testbed.sh installs it)"
if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  log "installing python3-venv"
  as_root apt-get install -y -q --no-install-recommends python3-venv >&2 \
    || { as_root apt-get update -q >&2 && as_root apt-get install -y -q --no-install-recommends python3-venv >&2; }
fi

partial="$venv.partial.$$"
rm -rf "$venv" "$venv".partial.*
log "installing moto[server]==$MOTO_VERSION into $venv"
"$python" -m venv "$partial"
"$partial/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
mv "$partial" "$venv"
# A venv's scripts name their interpreter by absolute path: rewrite the moved venv's paths.
grep -rlF "$partial" "$venv/bin" | while read -r f; do sed -i "s|$partial|$venv|g" "$f"; done
ready || die "moto_server from $venv does not start (import moto.server failed)"
log "ready: $("$venv/bin/python" -c 'import moto; print("moto", moto.__version__)')"
echo "$server"
