#!/usr/bin/env bash
# Idle memory of `cms serve`: the resident set (VmRSS) of a `node bin/run.js serve` process with its default store
# (SQLite, a fresh database), no tasks and no cluster asked, BENCH_IDLE_SECONDS (5) after it first answered
# GET /health, with its loops running; then the largest of BENCH_IDLE_SAMPLES (5) readings one second apart. The
# named peer is Node's own idle process, `node -e 'setInterval(() => {}, 1000)'`, read the same way (same wait, same
# samples) in the same run. Goal: cms serve <= 120 MB. The service is alone on its CMS_HOME (an empty temp dir), so
# it knows no cluster and its monitor asks none; nothing on the network is touched but its loopback port.
#
# Env knobs: BENCH_IDLE_SECONDS=5  BENCH_IDLE_SAMPLES=5  BENCH_RUNS=3 (runs per side, alternating; median)
#   BENCH_SETUP=0 skips the build (run.sh already did it)
# Writes bench/results/serve-idle-memory.{md,json}; prints the table to stdout. Progress goes to stderr.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

IDLE=${BENCH_IDLE_SECONDS:-5}
SAMPLES=${BENCH_IDLE_SAMPLES:-5}
RUNS=${BENCH_RUNS:-3}
[[ "$IDLE" =~ ^[0-9]{1,3}$ ]] || die "BENCH_IDLE_SECONDS must be 0..999"
[[ "$SAMPLES" =~ ^[1-9][0-9]?$ ]] || die "BENCH_IDLE_SAMPLES must be 1..99"
[[ "$RUNS" =~ ^[1-9]$ ]] || die "BENCH_RUNS must be 1..9"
if [[ "${BENCH_SETUP:-1}" != 0 ]]; then
  ensure_cms_built || die "cms does not build"
fi
[[ -f dist/commands/serve/index.js ]] || die "cms is not built (npm run build)"

WORK="$(mktemp -d /tmp/cms-bench-serve-idle.XXXXXX)"
PID=
stop_pid() {
  [[ -n "$PID" ]] || return 0
  kill -TERM "$PID" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=
}
cleanup() {
  local rc=$?
  set +e
  stop_pid
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The code measured: the commit, whether src/ differs from it, and when dist/ (what bin/run.js runs) was built.
code_line() {
  local rev dirty=
  rev=$(git -C "$REPO_DIR" log -1 --format=%h 2>/dev/null || echo unknown)
  [[ -z "$(git -C "$REPO_DIR" status --porcelain -- src 2>/dev/null)" ]] || dirty=" + uncommitted changes in src/"
  echo "commit $rev$dirty, dist/ built $(date -u -r "$REPO_DIR/dist/commands/serve/index.js" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo '?')"
}
kb() { awk -v k="$2" '$1 == k ":" { print $2 }' "/proc/$1/status" 2>/dev/null; }
# sample PID: waits BENCH_IDLE_SECONDS, then sets SAMPLE="maxRSS_kB anon_kB file_kB" over BENCH_IDLE_SAMPLES
# readings (no subshell: a failure stops the process under test through the EXIT trap).
sample() {
  local pid=$1 i max=0 anon=0 file=0 r
  sleep "$IDLE"
  for ((i = 0; i < SAMPLES; i++)); do
    r=$(kb "$pid" VmRSS)
    [[ -n "$r" ]] || die "process $pid is gone"
    if ((r > max)); then max=$r anon=$(kb "$pid" RssAnon) file=$(kb "$pid" RssFile); fi
    ((i + 1 == SAMPLES)) || sleep 1
  done
  SAMPLE="$max $anon $file"
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

measure_cms() { # measure_cms RUN: sets SAMPLE
  local home="$WORK/home-$1" port i
  mkdir -p "$home"
  port=$(free_port)
  CMS_HOME="$home" node bin/run.js serve --listen "127.0.0.1:$port" >"$WORK/serve-$1.out" 2>"$WORK/serve-$1.err" &
  PID=$!
  for ((i = 0; i < 120; i++)); do
    curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    kill -0 "$PID" 2>/dev/null || { tail -n 20 "$WORK/serve-$1.err" >&2; die "cms serve exited"; }
    sleep 0.5
  done
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null || die "cms serve did not answer /health in 60 s"
  sample "$PID"
  stop_pid
}
measure_node() {
  node -e 'setInterval(() => {}, 1000)' &
  PID=$!
  sample "$PID"
  stop_pid
}

CMS=() NODE=() LOADS=()
CODE=$(code_line)
LOAD_BEFORE=$(load_avg)
for ((r = 1; r <= RUNS; r++)); do
  load0=$(cut -d ' ' -f 1 /proc/loadavg)
  if ((r % 2)); then
    measure_cms "$r"; c=$SAMPLE; measure_node; n=$SAMPLE
  else
    measure_node; n=$SAMPLE; measure_cms "$r"; c=$SAMPLE
  fi
  CMS+=("$c") NODE+=("$n") LOADS+=("$load0 / $(cut -d ' ' -f 1 /proc/loadavg)")
  log "run $r: cms serve $(mb "${c%% *}") MB, node $(mb "${n%% *}") MB"
done
LOAD_AFTER=$(load_avg)

first() { local x; for x in "$@"; do echo "${x%% *}"; done | median; }
C_MED=$(first "${CMS[@]}") N_MED=$(first "${NODE[@]}")
C_MB=$(mb "$C_MED") N_MB=$(mb "$N_MED")
RT=$(ratio "$C_MED" "$N_MED")
verdict=$(awk -v m="$C_MB" 'BEGIN { print (m + 0 <= 120 ? "met" : "NOT met") }')
{
  echo "### cms serve: idle memory (SQLite, no tasks) vs Node's own idle process"
  echo
  echo "Machine: $(machine_line); $(node --version). Code: $CODE."
  echo "Load average (1/5/15 min) at start: $LOAD_BEFORE; at end: $LOAD_AFTER ($(nproc) CPUs). Runs per side: $RUNS (median); each reading: the largest VmRSS of $SAMPLES samples 1 s apart, after ${IDLE} s idle."
  echo
  echo "| process | run | RSS (MB) | anon (MB) | file-backed (MB) | load avg start / end |"
  echo "|---|---:|---:|---:|---:|---:|"
  for ((i = 0; i < RUNS; i++)); do
    read -r a b c <<<"${CMS[$i]}"
    echo "| cms serve (SQLite, idle) | $((i + 1)) | $(mb "$a") | $(mb "$b") | $(mb "$c") | ${LOADS[$i]} |"
    read -r a b c <<<"${NODE[$i]}"
    echo "| node -e 'setInterval(...)' (peer) | $((i + 1)) | $(mb "$a") | $(mb "$b") | $(mb "$c") | ${LOADS[$i]} |"
  done
  echo
  echo "- cms serve idle: **$C_MB MB** (goal <= 120 MB: $verdict); Node's idle process: $N_MB MB; cms/node **${RT}x**"
  echo
} >"$RESULTS_DIR/serve-idle-memory.md"
cat >"$RESULTS_DIR/serve-idle-memory.json" <<EOF
{
  "idleSeconds": $IDLE, "samples": $SAMPLES, "runs": $RUNS,
  "code": "$CODE",
  "loadBefore": "$LOAD_BEFORE", "loadAfter": "$LOAD_AFTER",
  "cmsServeRssKb": [$(for x in "${CMS[@]}"; do echo "${x%% *}"; done | paste -sd,)],
  "nodeRssKb": [$(for x in "${NODE[@]}"; do echo "${x%% *}"; done | paste -sd,)],
  "cmsServeRssMbMedian": $C_MB, "nodeRssMbMedian": $N_MB, "ratio": $RT
}
EOF
cat "$RESULTS_DIR/serve-idle-memory.md"
log "wrote $RESULTS_DIR/serve-idle-memory.md"
