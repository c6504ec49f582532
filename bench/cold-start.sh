#!/usr/bin/env bash
# CLI cold start: hyperfine of `node -e 0` (the floor), `cms --version`, `cms cluster list` with no clusters, and
# `cms cluster list` with one 1-host cluster (created here and killed afterwards, unless BENCH_COLD_CLUSTER=0).
# Goal: every cms command <= 3x `node -e 0`.
# Env: BENCH_WARMUP=3 BENCH_COLD_RUNS=20 BENCH_COLD_CLUSTER=1 BENCH_SETUP=1
# Writes bench/results/cold-start.{md,json} (hyperfine JSON); prints the markdown table to stdout.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

WARMUP=${BENCH_WARMUP:-3}
RUNS=${BENCH_COLD_RUNS:-20}
WITH_CLUSTER=${BENCH_COLD_CLUSTER:-1}

if [[ "${BENCH_SETUP:-1}" != 0 ]]; then
  ensure_tools
  ensure_testbed
fi
docker info >/dev/null 2>&1 || die "docker engine is not running"
ensure_cms_built
node bin/run.js --version >/dev/null || die "node bin/run.js --version fails"

WORK="$(mktemp -d /tmp/cms-bench-cold.XXXXXX)"
export CMS_HOME="$WORK/empty-home"
mkdir -p "$CMS_HOME"
CLUSTER=""
VIEW_PIDS=()
cleanup() {
  local rc=$? p
  set +e
  for p in "${VIEW_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  if [[ -n "$CLUSTER" ]]; then
    CMS_HOME="$WORK/cluster-home" timeout 120 node bin/run.js cluster kill -n "$CLUSTER" --yes >/dev/null 2>&1
    remove_by_label "cms.cluster=$CLUSTER"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# On a shared machine other people's cms clusters may exist. Then the list runs against bench/docker-view.py:
# the real Docker API, with /containers/json narrowed to the clusters this script means (none, or its own).
NOTES=()
foreign_clusters() { # names of cms clusters present, other than "$1"
  docker ps -a --filter label=cms.cluster --format '{{.Label "cms.cluster"}}' | sort -u | grep -vxF -- "${1:-}" || true
}
docker_host_for() { # docker_host_for [KEEP_CLUSTER] -> sets DH, the DOCKER_HOST to use
  local foreign sock
  foreign="$(foreign_clusters "${1:-}" | tr '\n' ' ')"
  DH="${DOCKER_HOST:-unix:///var/run/docker.sock}"
  [[ -n "$foreign" ]] || return 0
  sock="$WORK/docker-view-${1:-none}.sock"
  timeout 1800 python3 "$BENCH_DIR/docker-view.py" "$sock" ${1:+--keep "$1"} >&2 &
  VIEW_PIDS+=($!)
  wait_for 10 test -S "$sock" || die "docker-view.py did not start"
  NOTES+=("other cms clusters were present ($foreign); 'cluster list${1:+ (1 cluster)}' ran against bench/docker-view.py, the Docker API filtered to ${1:-no clusters}")
  DH="unix://$sock"
}

NODE="$(command -v node)"
RUN="$REPO_DIR/bin/run.js"
docker_host_for
log "hyperfine: node -e 0, --version, cluster list (no clusters; DOCKER_HOST=$DH)"
DOCKER_HOST="$DH" hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$RESULTS_DIR/cold-start.json" \
  -n 'node -e 0' "$NODE -e 0" \
  -n 'cms --version' "$NODE $RUN --version" \
  -n 'cms cluster list (no clusters)' "$NODE $RUN cluster list" >&2
DOCKER_HOST="$DH" node "$RUN" cluster list >&2

FILES=("$RESULTS_DIR/cold-start.json")
if [[ "$WITH_CLUSTER" != 0 ]]; then
  [[ -f "${CMS_SPARK_DIST:-}" ]] || die "CMS_SPARK_DIST is not set"
  CLUSTER="benchcold$$"
  mkdir -p "$WORK/cluster-home"
  log "creating 1-host cluster $CLUSTER for 'list with one cluster'"
  created=0
  for attempt in 1 2; do # one retry: a rare failed create should not drop the measurement
    if CMS_HOME="$WORK/cluster-home" timeout 600 node bin/run.js cluster create -n "$CLUSTER" --hosts 1 --json >/dev/null 2>"$WORK/create.err"; then
      created=1
      break
    fi
    log "create attempt $attempt failed: $(grep -v -e '^❯' -e '^✔' "$WORK/create.err" | tail -n 3 | tr '\n' ' ')"
    CMS_HOME="$WORK/cluster-home" timeout 120 node bin/run.js cluster kill -n "$CLUSTER" --yes >/dev/null 2>&1 || true
    remove_by_label "cms.cluster=$CLUSTER"
  done
  if ((created)); then
    # The list runs with the CMS_HOME that made the cluster (its key and known_hosts), as a user's would.
    docker_host_for "$CLUSTER"
    CMS_HOME="$WORK/cluster-home" DOCKER_HOST="$DH" node "$RUN" cluster list >&2
    # The peer does the same remote work with OpenSSH: connect to the head, fetch the master's /json/ there.
    head="$(node -p "require('$WORK/cluster-home/access/$CLUSTER.json').head.host")"
    peer="ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$WORK/cluster-home/known_hosts"
    peer+=" -i $WORK/cluster-home/keys/$CLUSTER root@$head curl -sf -o /dev/null http://$head:8080/json/"
    $peer || die "the OpenSSH peer command fails: $peer"
    CMS_HOME="$WORK/cluster-home" DOCKER_HOST="$DH" hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$RESULTS_DIR/cold-start-one-cluster.json" \
      -n 'node -e 0 (1-cluster run)' "$NODE -e 0" \
      -n 'cms cluster list (1 cluster)' "$NODE $RUN cluster list" \
      -n 'OpenSSH: ssh head curl master /json/' "$peer" >&2
    FILES+=("$RESULTS_DIR/cold-start-one-cluster.json")
  else
    log "cluster create failed; skipping 'list with one cluster': $(tail -n 3 "$WORK/create.err" | tr '\n' ' ')"
  fi
fi

NOTES+=("load average (1/5/15 min) at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs")
printf '%s\n' "${NOTES[@]}" >"$WORK/notes.txt"
node - "$WORK/notes.txt" "${FILES[@]}" >"$RESULTS_DIR/cold-start.md" <<'EOF'
const fs = require('fs')
const notes = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean)
const results = process.argv.slice(3).flatMap((f) => JSON.parse(fs.readFileSync(f, 'utf8')).results)
const ms = (s) => (s * 1000).toFixed(1)
const lines = [
  '### CLI cold start (hyperfine, shell=none)',
  '',
  '| command | mean ms | ± ms | min ms | median ms | x node -e 0 (mean) | goal <= 3x |',
  '|---|---:|---:|---:|---:|---:|---|',
]
// Each hyperfine run has its own `node -e 0`; ratios use the one measured in the same run.
let base
const peer = results.find((r) => r.command.startsWith('OpenSSH'))
for (const r of results) {
  if (r.command.startsWith('node -e 0')) base = r
  const x = r.mean / base.mean
  let goal = r === base ? '' : x <= 3 ? 'PASS' : 'FAIL'
  // With a cluster, list waits on an SSH handshake and the master; it is compared with OpenSSH doing that work.
  if (r.command.includes('(1 cluster)') && peer) goal = `n/a: ${(r.mean / peer.mean).toFixed(2)}x OpenSSH`
  if (r === peer) goal = 'peer'
  lines.push(`| ${r.command} | ${ms(r.mean)} | ${ms(r.stddev ?? 0)} | ${ms(r.min)} | ${ms(r.median)} | ${x.toFixed(2)} | ${goal} |`)
}
for (const n of notes) lines.push('', `Note: ${n}.`)
console.log(lines.join('\n'))
EOF
cat "$RESULTS_DIR/cold-start.md"
