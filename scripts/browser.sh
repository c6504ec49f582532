#!/usr/bin/env bash
# Installs Debian's Chromium for the dashboard's browser tests (playwright-core drives it; no browser download) and
# prints its path on stdout as an assignment: eval "$(bash scripts/browser.sh)" sets CMS_TEST_CHROMIUM.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
log() { printf 'browser: %s\n' "$*" >&2; }
if [ "$(id -u)" -eq 0 ]; then as_root() { "$@"; }; else as_root() { sudo -n -E "$@"; }; fi
chromium=$(command -v chromium || true)
if [ -z "$chromium" ]; then
  log "installing Debian's chromium"
  as_root apt-get install -y -q --no-install-recommends chromium >&2 \
    || { as_root apt-get update -q >&2 && as_root apt-get install -y -q --no-install-recommends chromium >&2; }
  chromium=$(command -v chromium) || { log "ERROR: chromium is not installed"; exit 1; }
fi
log "$("$chromium" --version 2>/dev/null | tail -n 1)"
printf 'CMS_TEST_CHROMIUM=%q\n' "$chromium"
