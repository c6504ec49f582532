#!/usr/bin/env bash
# Peer comparison: registering BENCH_JOBS (50) HCL batch jobs on one Nomad cluster (2 docker hosts)
#   cms:  ONE `cms cluster submit -n NAME job-1.hcl ... job-50.hcl` call (no --wait): Nomad parses each file
#         (/v1/jobs/parse) and cms registers it (/v1/jobs) over an SSH tunnel, with mTLS and the ACL token;
#   peer: BENCH_JOBS `nomad job run -detach FILE` invocations of the native CLI (the nomad binary from the same
#         release zip), one after another, through the same kind of tunnel: `cms cluster tunnel -n NAME -- ...`
#         sets NOMAD_ADDR, NOMAD_TOKEN and the TLS files. Only the loop is timed (date +%s%N inside the command), so
#         the tunnel's own start is not counted against the peer.
# Measured per side: wall time until every job is registered and client CPU (user+sys): cms with /usr/bin/time
# (the whole command: Node start, SSH, tunnel, 50 parses and registrations), the peer with bash's `times` for the
# nomad processes of the loop (and, as context, /usr/bin/time of the whole tunnel command). Registration is checked
# on Nomad's own API (/v1/jobs?prefix=..., read with the native CLI): each phase must add BENCH_JOBS jobs. Between
# phases the script waits (bounded) until the previous phase's jobs are dead, so their allocations no longer run.
#
# Env knobs:
#   BENCH_JOBS=50          jobs per phase
#   BENCH_RUNS=1           phases per side (alternating; the median is reported)
#   BENCH_PREFIX=nbench<pid>   names of this run's cluster and jobs
#   BENCH_SETUP=0          skip testbed/build setup (run.sh already did it)
# Writes bench/results/nomad-submit-vs-cli.{md,json}; prints the table to stdout. Progress goes to stderr.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

JOBS=${BENCH_JOBS:-50}
RUNS=${BENCH_RUNS:-1}
PREFIX=${BENCH_PREFIX:-nbench$$}
[[ "$JOBS" =~ ^[1-9][0-9]*$ && "$JOBS" -le 500 ]] || die "BENCH_JOBS must be 1..500"
[[ "$RUNS" =~ ^[1-9]$ ]] || die "BENCH_RUNS must be 1..9"
[[ "$PREFIX" =~ ^[a-z][a-z0-9]{0,15}$ ]] || die "BENCH_PREFIX must be a lowercase name of at most 16 characters"
NAME=${PREFIX}sub
CMS_CREATE_ARGS=(-e nomad)

if [[ "${BENCH_SETUP:-1}" != 0 ]]; then
  ensure_testbed
fi
ensure_nomad_dist
ensure_cms_built
ensure_gnu_time
command -v jq >/dev/null || die "jq is required"
docker info >/dev/null 2>&1 || die "docker engine is not running"

WORK="$(mktemp -d /tmp/cms-bench-nomad-submit.XXXXXX)"
export CMS_HOME="$WORK/cms-home"
mkdir -p "$CMS_HOME"

cleanup() {
  local rc=$?
  set +e
  kill_cms_clusters
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pin_nomad_dist "$WORK"

# ---------------------------------------------------------------- fixtures (cached, untimed)
# The native CLI: the nomad binary from the zip cms ships.
CACHE="$REPO_DIR/.cache/bench-nomad/$(basename "$CMS_NOMAD_DIST" .zip)"
NOMAD="$CACHE/nomad"
if [[ ! -x "$NOMAD" ]]; then
  log "unpacking $(basename "$CMS_NOMAD_DIST") into $CACHE (once)"
  rm -rf "$CACHE" && mkdir -p "$CACHE"
  if command -v unzip >/dev/null; then unzip -q "$CMS_NOMAD_DIST" nomad -d "$CACHE"; else python3 -m zipfile -e "$CMS_NOMAD_DIST" "$CACHE"; fi
  chmod 0755 "$NOMAD"
fi
"$NOMAD" version >/dev/null || die "$NOMAD does not run"

# write_jobs DIR PREFIX: BENCH_JOBS batch jobs PREFIX-1 ... PREFIX-N, identical but for their IDs (raw_exec /bin/true).
write_jobs() {
  local dir=$1 p=$2 i
  mkdir -p "$dir"
  for ((i = 1; i <= JOBS; i++)); do
    cat >"$dir/job-$i.hcl" <<EOF
job "$p-$i" {
  type        = "batch"
  datacenters = ["dc1"]

  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/true"
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
EOF
  done
}

# The peer's loop, run inside the tunnel: one invocation per file, one after another. Writes
# "<wall ms> <failed> <children user s> <children sys s>" to $3 (CPU of the nomad processes, from bash's `times`).
cat >"$WORK/native-loop.sh" <<'EOF'
#!/usr/bin/env bash
nomad=$1 dir=$2 out=$3 failed=0
t0=$(date +%s%N)
for f in "$dir"/job-*.hcl; do "$nomad" job run -detach "$f" >/dev/null || failed=$((failed + 1)); done
t1=$(date +%s%N)
times >"$out.times" # in this shell: its second line is the CPU of the children it waited for (the nomad runs)
cpu=$(sed -n 2p "$out.times" | awk '{ for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); printf "%.3f ", a[1] * 60 + a[2] } }')
echo "$(( (t1 - t0) / 1000000 )) $failed $cpu" >"$out"
EOF
chmod +x "$WORK/native-loop.sh"

# ---------------------------------------------------------------- cluster (untimed)
log "creating Nomad cluster $NAME (2 hosts)"
cms_create "$NAME" 2 "$WORK/create.json" || { tail -n 20 "$WORK/create.json.err" >&2; die "cluster create failed"; }
NAME=$CMS_NAME

# nomad_api PATH: GET a Nomad API path with the native CLI through the tunnel (the token stays in the environment).
nomad_api() { timeout 120 node bin/run.js cluster tunnel -n "$NAME" -- "$NOMAD" operator api "$1" 2>>"$WORK/tunnel.err"; }
registered() { nomad_api "/v1/jobs?prefix=$1-" | jq --arg p "$1-" '[.[] | select(.ID | startswith($p))] | length'; }
# Waits (bounded: 90 tries, one tunnel each) until every job of a phase is dead, so its allocations are done.
wait_dead() {
  local i n=0
  for ((i = 0; i < 90; i++)); do
    n=$(nomad_api "/v1/jobs?prefix=$1-" | jq --arg p "$1-" '[.[] | select((.ID | startswith($p)) and .Status == "dead")] | length') || n=0
    ((n >= JOBS)) && return 0
    sleep 2
  done
  log "warning: only $n of $JOBS jobs of $1 are dead after the wait"
}

CMS_WALLS=() CMS_CPUS=() CMS_USERS=() CMS_SYSS=() CMS_SELFS=() CMS_REG=() CMS_LOADS=()
CLI_WALLS=() CLI_CPUS=() CLI_USERS=() CLI_SYSS=() CLI_FAILS=() CLI_REG=() CLI_LOADS=() CLI_TUNNEL=()
cpu() { awk -v u="$1" -v s="$2" 'BEGIN { printf "%.2f", u + s }'; }

phase_cms() { # phase_cms RUN
  local p="${PREFIX}-cms$1" load0 t0 t1 u s
  write_jobs "$WORK/$p" "$p"
  load0=$(cut -d ' ' -f 1 /proc/loadavg)
  log "cms: submitting $JOBS HCL jobs in one call ($p-*)"
  t0=$(now)
  /usr/bin/time -f '%U %S' -o "$WORK/$p.time" \
    timeout 600 node bin/run.js cluster submit -n "$NAME" "$WORK/$p"/job-*.hcl --json >"$WORK/$p.json" 2>"$WORK/$p.err" ||
    { tail -n 20 "$WORK/$p.err" >&2; die "cms cluster submit failed"; }
  t1=$(now)
  read -r u s <"$WORK/$p.time"
  CMS_WALLS+=("$(elapsed "$t0" "$t1")") CMS_USERS+=("$u") CMS_SYSS+=("$s") CMS_CPUS+=("$(cpu "$u" "$s")")
  CMS_SELFS+=("$(jq -r '.seconds // "n/a"' "$WORK/$p.json")")
  CMS_LOADS+=("$load0 / $(cut -d ' ' -f 1 /proc/loadavg)")
  [[ "$(jq '.jobs | length' "$WORK/$p.json")" == "$JOBS" ]] || die "cms printed $(jq '.jobs | length' "$WORK/$p.json") jobs, not $JOBS"
  CMS_REG+=("$(registered "$p")")
  log "cms: ${CMS_WALLS[-1]}s wall, ${u}+${s}s CPU, Nomad lists ${CMS_REG[-1]} jobs $p-*"
  wait_dead "$p"
}

phase_cli() { # phase_cli RUN
  local p="${PREFIX}-cli$1" load0 ms failed u s tu ts
  write_jobs "$WORK/$p" "$p"
  load0=$(cut -d ' ' -f 1 /proc/loadavg)
  log "nomad CLI: $JOBS x nomad job run -detach through cms cluster tunnel ($p-*)"
  /usr/bin/time -f '%U %S' -o "$WORK/$p.tunnel-time" \
    timeout 900 node bin/run.js cluster tunnel -n "$NAME" -- "$WORK/native-loop.sh" "$NOMAD" "$WORK/$p" "$WORK/$p.loop" \
    >/dev/null 2>"$WORK/$p.err" || { tail -n 20 "$WORK/$p.err" >&2; die "cms cluster tunnel -- native loop failed"; }
  read -r ms failed u s <"$WORK/$p.loop"
  read -r tu ts <"$WORK/$p.tunnel-time"
  CLI_WALLS+=("$(awk -v m="$ms" 'BEGIN { printf "%.2f", m / 1000 }')") CLI_FAILS+=("$failed")
  CLI_USERS+=("$u") CLI_SYSS+=("$s") CLI_CPUS+=("$(cpu "$u" "$s")") CLI_TUNNEL+=("$(cpu "$tu" "$ts")")
  CLI_LOADS+=("$load0 / $(cut -d ' ' -f 1 /proc/loadavg)")
  CLI_REG+=("$(registered "$p")")
  log "nomad CLI: ${CLI_WALLS[-1]}s loop, ${u}+${s}s CPU (whole tunnel command: ${CLI_TUNNEL[-1]}s), $failed failed, Nomad lists ${CLI_REG[-1]} jobs $p-*"
  wait_dead "$p"
}

LOAD_BEFORE=$(load_avg)
for ((r = 1; r <= RUNS; r++)); do
  if ((r % 2)); then phase_cms "$r"; phase_cli "$r"; else phase_cli "$r"; phase_cms "$r"; fi
done
LOAD_AFTER=$(load_avg)

# ---------------------------------------------------------------- report
med() { echo "$*" | median; }
CW=$(med "${CMS_WALLS[*]}") CC=$(med "${CMS_CPUS[*]}") NW=$(med "${CLI_WALLS[*]}") NC=$(med "${CLI_CPUS[*]}")
RT=$(ratio "$NW" "$CW")
RC=$(ratio "$NC" "$CC")
verdict() { awk -v r="$1" 'BEGIN { print (r + 0 >= 3 ? "met" : "NOT met") }'; }
{
  echo "### Submit $JOBS Nomad HCL batch jobs: cms vs the nomad CLI"
  echo
  echo "Machine: $(machine_line); cluster: 2 docker hosts (Nomad $("$NOMAD" version | head -n 1 | cut -d ' ' -f 2), server on the head, mTLS + ACLs); $(node --version)."
  echo "Load average (1/5/15 min) at start: $LOAD_BEFORE; at end: $LOAD_AFTER ($(nproc) CPUs). Runs per side: $RUNS (median)."
  echo
  echo "| client | run | wall until all registered (s) | client CPU user+sys (s) | registered (Nomad API) | failed | load avg start / end |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for ((i = 0; i < RUNS; i++)); do
    echo "| cms cluster submit, 1 call x $JOBS files | $((i + 1)) | ${CMS_WALLS[$i]} | ${CMS_CPUS[$i]} (${CMS_USERS[$i]}+${CMS_SYSS[$i]}) | ${CMS_REG[$i]} | 0 | ${CMS_LOADS[$i]} |"
    echo "| nomad job run -detach x $JOBS (loop only) | $((i + 1)) | ${CLI_WALLS[$i]} | ${CLI_CPUS[$i]} (${CLI_USERS[$i]}+${CLI_SYSS[$i]}) | ${CLI_REG[$i]} | ${CLI_FAILS[$i]} | ${CLI_LOADS[$i]} |"
  done
  echo
  echo "- nomad CLI / cms: time **${RT}x** (goal >= 3x: $(verdict "$RT")), client CPU **${RC}x**"
  echo "- cms wall is the whole command (Node start, SSH connect, tunnel, $JOBS parses on the server and registrations, then each job's status); cms's own \`seconds\`: ${CMS_SELFS[*]}"
  echo "- the CLI's wall and CPU cover only its loop (\`date +%s%N\` and bash's \`times\` inside the tunnel command); the whole tunnel command (cms tunnel process included) used ${CLI_TUNNEL[*]} s CPU"
  echo
} >"$RESULTS_DIR/nomad-submit-vs-cli.md"

jnum() { [[ -n "$1" && "$1" != n/a ]] && echo "$1" || echo null; }
cat >"$RESULTS_DIR/nomad-submit-vs-cli.json" <<EOF
{
  "jobs": $JOBS,
  "runs": $RUNS,
  "loadBefore": "$LOAD_BEFORE", "loadAfter": "$LOAD_AFTER",
  "cms": {"wallSeconds": [$(IFS=,; echo "${CMS_WALLS[*]}")], "cpuSeconds": [$(IFS=,; echo "${CMS_CPUS[*]}")], "registered": [$(IFS=,; echo "${CMS_REG[*]}")]},
  "nomadCli": {"wallSeconds": [$(IFS=,; echo "${CLI_WALLS[*]}")], "cpuSeconds": [$(IFS=,; echo "${CLI_CPUS[*]}")], "tunnelCommandCpuSeconds": [$(IFS=,; echo "${CLI_TUNNEL[*]}")], "failed": [$(IFS=,; echo "${CLI_FAILS[*]}")], "registered": [$(IFS=,; echo "${CLI_REG[*]}")]},
  "ratioTime": $(jnum "$RT"),
  "ratioCpu": $(jnum "$RC")
}
EOF
cat "$RESULTS_DIR/nomad-submit-vs-cli.md"
ok=1
for ((i = 0; i < RUNS; i++)); do
  [[ "${CMS_REG[$i]}" == "$JOBS" && "${CLI_REG[$i]}" == "$JOBS" && "${CLI_FAILS[$i]}" == 0 ]] || ok=0
done
((ok)) || die "Nomad did not register $JOBS jobs in every phase"
