#!/usr/bin/env bash
# `cms cluster list` with three providers configured (docker, lxd, openstack) against the same command with each
# provider alone: list asks every configured provider in parallel, one round trip each, so with all three it should
# take no longer than the slowest of them alone. Goal: all three <= the slowest single provider + 10%.
# The providers are the real ones the tests use: the Docker engine (scripts/testbed.sh), a private LXD daemon
# (scripts/lxd.sh) and a private OpenStack (scripts/openstack.sh, on scripts/postgres.sh and scripts/rabbitmq.sh).
# None holds a cms cluster of this run (CMS_HOME is empty): what is measured is the asking, not SSH to heads; other
# clusters on the machine are listed as any user's would be. A provider is switched off for a run the way a user
# would not have it: no Docker engine at DOCKER_HOST, no LXD socket, no OpenStack credentials.
#
# Env knobs: BENCH_WARMUP=3 BENCH_LIST_RUNS=20 BENCH_SETUP=1 (0: the testbed and build are there already)
# Writes bench/results/list-providers.{md,json} (hyperfine JSON); prints the table to stdout.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

WARMUP=${BENCH_WARMUP:-3}
RUNS=${BENCH_LIST_RUNS:-20}
[[ "$WARMUP" =~ ^[0-9]$ && "$RUNS" =~ ^[1-9][0-9]?$ ]] || die "BENCH_WARMUP must be 0..9 and BENCH_LIST_RUNS 1..99"

if [[ "${BENCH_SETUP:-1}" != 0 ]]; then
  ensure_tools
  ensure_testbed
  ensure_cms_built || die "cms does not build"
fi
docker info >/dev/null 2>&1 || die "docker engine is not running"
command -v jq >/dev/null || die "jq is required"

log "starting the private LXD daemon and OpenStack (scripts/lxd.sh, scripts/openstack.sh; warm: seconds)"
eval "$(bash scripts/lxd.sh)" || die "scripts/lxd.sh failed"
eval "$(bash scripts/openstack.sh)" || die "scripts/openstack.sh failed"
[[ -S "${CMS_LXD_SOCKET:-}" && -f "${CMS_OPENSTACK_TEST_CLOUDS:-}" ]] || die "LXD socket or OpenStack clouds.yaml missing"

# They keep running afterwards (as scripts/postgres.sh does for serve-intake.sh): `bash scripts/openstack.sh --stop`,
# `bash scripts/lxd.sh --stop` end them.
WORK="$(mktemp -d /tmp/cms-bench-list.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/home"

NODE="$(command -v node)"
RUN="$REPO_DIR/bin/run.js"
DOCKER_ON="DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}"
DOCKER_OFF="DOCKER_HOST=unix://$WORK/no-docker.sock"
LXD_ON="CMS_LXD_SOCKET=$CMS_LXD_SOCKET"
LXD_OFF="CMS_LXD_SOCKET=$WORK/no-lxd.sock"
OS_ON="OS_CLIENT_CONFIG_FILE=$CMS_OPENSTACK_TEST_CLOUDS OS_CLOUD=$CMS_OPENSTACK_TEST_CLOUD"
OS_OFF="OS_CLIENT_CONFIG_FILE=$WORK/no-clouds.yaml OS_CLOUD="
# No aws: no credentials, no region, no emulator endpoint.
BASE="env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_PROFILE -u AWS_REGION -u AWS_DEFAULT_REGION -u AWS_ENDPOINT_URL -u CMS_LXD_REMOTE -u OS_AUTH_URL CMS_HOME=$WORK/home"
cmd() { echo "$BASE $1 $2 $3 $NODE $RUN cluster list --json"; }

# Each configuration once, untimed: it must list, and every provider it asks must answer (none unreachable).
check() { # check NAME COMMAND
  local name=$1 c=$2 out
  out=$(bash -c "$c" 2>"$WORK/$name.err") || { cat "$WORK/$name.err" >&2; die "$name: cms cluster list failed"; }
  jq -e '(.unreachable // []) | length == 0' >/dev/null <<<"$out" || die "$name: a provider could not be asked: $(jq -c .unreachable <<<"$out")"
  log "$name: $(jq -c '{clusters: [.clusters[] | .provider] | group_by(.) | map({(.[0]): length}) | add}' <<<"$out")"
}
C_DOCKER=$(cmd "$DOCKER_ON" "$LXD_OFF" "$OS_OFF")
C_LXD=$(cmd "$DOCKER_OFF" "$LXD_ON" "$OS_OFF")
C_OS=$(cmd "$DOCKER_OFF" "$LXD_OFF" "$OS_ON")
C_ALL=$(cmd "$DOCKER_ON" "$LXD_ON" "$OS_ON")
check docker "$C_DOCKER"
check lxd "$C_LXD"
check openstack "$C_OS"
check all "$C_ALL"

LOAD_BEFORE=$(load_avg)
log "hyperfine: --warmup $WARMUP --runs $RUNS of each configuration"
hyperfine --warmup "$WARMUP" --runs "$RUNS" --export-json "$RESULTS_DIR/list-providers.json" \
  -n 'docker only' "$C_DOCKER" \
  -n 'lxd only' "$C_LXD" \
  -n 'openstack only' "$C_OS" \
  -n 'docker + lxd + openstack' "$C_ALL" >&2
LOAD_AFTER=$(load_avg)

node - "$RESULTS_DIR/list-providers.json" "$LOAD_BEFORE" "$LOAD_AFTER" "$(machine_line)" >"$RESULTS_DIR/list-providers.md" <<'EOF'
const fs = require('fs')
const [file, before, after, machine] = process.argv.slice(2)
const results = JSON.parse(fs.readFileSync(file, 'utf8')).results
const ms = (s) => (s * 1000).toFixed(1)
const singles = results.filter((r) => r.command.endsWith('only'))
const slowest = singles.reduce((a, b) => (b.mean > a.mean ? b : a))
const all = results.find((r) => r.command.includes('+'))
const ratio = all.mean / slowest.mean
const lines = [
  '### cms cluster list: three providers at once vs each alone (hyperfine, through `env`)',
  '',
  `Machine: ${machine}. Load average at start: ${before}; at end: ${after}. Empty CMS_HOME; no cluster of this run.`,
  '',
  '| configuration | mean ms | ± ms | min ms | median ms |',
  '|---|---:|---:|---:|---:|',
  ...results.map((r) => `| ${r.command} | ${ms(r.mean)} | ${ms(r.stddev ?? 0)} | ${ms(r.min)} | ${ms(r.median)} |`),
  '',
  `- all three / slowest alone (${slowest.command}): **${ratio.toFixed(2)}x** (goal <= 1.10: ${ratio <= 1.1 ? 'met' : 'NOT met'})`,
]
console.log(lines.join('\n'))
EOF
cat "$RESULTS_DIR/list-providers.md"
