#!/usr/bin/env bash
# cms serve overhead: BENCH_SERVE_JOBS (20) small Spark jobs through the job service vs the same jobs submitted
# directly with `cms cluster submit`, on one docker Spark cluster of BENCH_SERVE_HOSTS (2) hosts whose workers offer
# --worker-cores 32 --worker-memory 16g each, so capacity admits every job at once (the service's admission counts
# 1 core and 512 MiB a job: a Python app's driver runs on the head, in client mode, outside the workers).
# The job: Spark's own examples/src/main/python/pi.py (from CMS_SPARK_DIST) with args [2] and one executor of
# 1 core and 512m, and the driver's web UI off (conf spark.ui.enabled=false; see spec() below); both sides upload
# the same pi.py.
#   direct:  ONE `cms cluster submit -n NAME spec-1.json ... spec-N.json --wait --json` (started at t0); "all
#            RUNNING" from polling `cms job list -n NAME --json` (one call after another) until every job of the
#            phase is RUNNING or finished; "all done" when the submit --wait returns.
#   service: N multipart POST /task requests (the task JSON in the field `task`, pi.py as a file part), all sent
#            at once by one curl --parallel from t0, to a `cms serve` (SQLite) that has run since before the phase
#            and has been asked once for the cluster (GET /mgmt/clusters, untimed: a running service keeps its SSH
#            connection); "all RUNNING" and "all done" from polling GET /tasks every 0.5 s.
# A poll's answer is dated at the middle of its request (the column `poll (s)` is the mean time a poll took: the
# resolution of that side's timings). Both sides must end with N jobs SUCCEEDED. Phases alternate (direct,
# service, then service, direct, ...) so a change in machine load hits both alike; the cluster is idle between
# phases (each phase waits for all its jobs).
# Why 20 and not 50: every Python job starts a driver (python3 + a JVM) on the head and an executor JVM on a worker,
# all on this machine's cores: 10 such jobs at once took 6 minutes on 2 cores (load average 56), so 50 at once
# overload a 2-core machine (and anyone else's tests on it). BENCH_SERVE_JOBS=50 on a bigger machine.
#
# Env knobs:
#   BENCH_SERVE_JOBS=20    jobs per phase (1..200)
#   BENCH_RUNS=2           runs (each: one direct and one service phase)
#   BENCH_SERVE_HOSTS=2    hosts of the cluster (2 or 3)
#   BENCH_PHASE_TIMEOUT=1800   seconds a phase may take at most
#   BENCH_PREFIX=so<pid>   names of this run's cluster (PREFIXo), jobs and tasks
#   BENCH_SETUP=0          skip testbed setup and the build (run.sh already did them)
# Writes bench/results/serve-overhead.{md,json}, the service's log (serve-overhead.serve.log) and each service phase's
# audit trails (serve-overhead-events-runN.jsonl); prints the table to stdout. Progress goes to stderr.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

JOBS=${BENCH_SERVE_JOBS:-20}
RUNS=${BENCH_RUNS:-2}
HOSTS=${BENCH_SERVE_HOSTS:-2}
PHASE_TIMEOUT=${BENCH_PHASE_TIMEOUT:-1800}
PREFIX=${BENCH_PREFIX:-so$$}
[[ "$JOBS" =~ ^[1-9][0-9]*$ && "$JOBS" -le 200 ]] || die "BENCH_SERVE_JOBS must be 1..200"
[[ "$RUNS" =~ ^[1-9]$ ]] || die "BENCH_RUNS must be 1..9"
[[ "$HOSTS" =~ ^[23]$ ]] || die "BENCH_SERVE_HOSTS must be 2 or 3"
[[ "$PHASE_TIMEOUT" =~ ^[1-9][0-9]*$ && "$PHASE_TIMEOUT" -le 7200 ]] || die "BENCH_PHASE_TIMEOUT must be 1..7200"
[[ "$PREFIX" =~ ^[a-z][a-z0-9]{0,15}$ ]] || die "BENCH_PREFIX must be a lowercase name of at most 16 characters"
NAME=${PREFIX}o
CMS_CREATE_ARGS=(--worker-cores 32 --worker-memory 16g)

if [[ "${BENCH_SETUP:-1}" != 0 ]]; then
  ensure_testbed
  ensure_cms_built || die "cms does not build"
fi
[[ -f "${CMS_SPARK_DIST:-}" ]] || die "CMS_SPARK_DIST is not set (eval \"\$(bash scripts/testbed.sh)\")"
[[ -f dist/commands/serve/index.js ]] || die "cms is not built (npm run build)"
command -v jq >/dev/null || die "jq is required"
command -v curl >/dev/null || die "curl is required"
docker info >/dev/null 2>&1 || die "docker engine is not running"

WORK="$(mktemp -d /tmp/cms-bench-serve-overhead.XXXXXX)"
export CMS_HOME="$WORK/cms-home"
mkdir -p "$CMS_HOME"
SERVE_PID=
SUBMIT_PID=

stop_serve() {
  [[ -n "$SERVE_PID" ]] || return 0
  kill -TERM "$SERVE_PID" 2>/dev/null || true
  local i
  for ((i = 0; i < 300; i++)); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVE_PID" 2>/dev/null || true
  wait "$SERVE_PID" 2>/dev/null || true
  SERVE_PID=
}
cleanup() {
  local rc=$?
  set +e
  [[ -z "$SUBMIT_PID" ]] || { kill -TERM "$SUBMIT_PID" 2>/dev/null; wait "$SUBMIT_PID" 2>/dev/null; }
  stop_serve
  kill_cms_clusters
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- setup (untimed)
tar -xzf "$CMS_SPARK_DIST" --wildcards -O '*/examples/src/main/python/pi.py' >"$WORK/pi.py" 2>/dev/null && [[ -s "$WORK/pi.py" ]] ||
  die "no examples/src/main/python/pi.py in $CMS_SPARK_DIST"

log "creating Spark cluster $NAME ($HOSTS hosts, ${CMS_CREATE_ARGS[*]})"
cms_create "$NAME" "$HOSTS" "$WORK/create.json" || { tail -n 20 "$WORK/create.json.err" >&2; die "cluster create failed"; }
NAME=$CMS_NAME

# The code measured: the commit, whether src/ differs from it, and when dist/ (what bin/run.js runs) was built.
code_line() {
  local rev dirty=
  rev=$(git -C "$REPO_DIR" log -1 --format=%h 2>/dev/null || echo unknown)
  [[ -z "$(git -C "$REPO_DIR" status --porcelain -- src 2>/dev/null)" ]] || dirty=" + uncommitted changes in src/"
  echo "commit $rev$dirty, dist/ built $(date -u -r "$REPO_DIR/dist/commands/serve/index.js" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo '?')"
}
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
KEY=$(timeout 120 node bin/run.js serve keys create --name bench --scope submit 2>"$WORK/keys.err") || { cat "$WORK/keys.err" >&2; die "serve keys create failed"; }
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
# The key goes to curl in a 0600 header file, never on a command line.
AUTH="@$WORK/auth.header"
(umask 077 && printf 'Authorization: Bearer %s\n' "$KEY" >"$WORK/auth.header")
node bin/run.js serve --listen "127.0.0.1:$PORT" --cluster "$NAME" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE_PID=$!
for ((i = 0; i < 120; i++)); do
  curl -fsS "$URL/health" >/dev/null 2>&1 && break
  kill -0 "$SERVE_PID" 2>/dev/null || { tail -n 20 "$WORK/serve.err" >&2; die "cms serve exited"; }
  sleep 0.5
done
curl -fsS "$URL/health" >/dev/null || die "cms serve did not answer /health in 60 s"
# A running service has its connection to the cluster open already: ask it once (untimed).
curl -fsS -m 300 -H "$AUTH" "$URL/mgmt/clusters" >"$WORK/clusters.json" || die "GET /mgmt/clusters failed"
[[ "$(jq -r --arg n "$NAME" '.clusters[] | select(.name == $n) | .health' "$WORK/clusters.json")" == healthy ]] ||
  die "the service does not see $NAME healthy: $(cat "$WORK/clusters.json")"

# spark.ui.enabled=false: each client-mode driver on the head would otherwise take a UI port from 4040 up, and Spark
# gives up after 16 retries (spark.port.maxRetries): the 18th driver at once fails with "Failed to bind SparkUI".
spec() { printf '{"name": "%s", "app": "pi.py", "args": ["2"], "conf": {"spark.ui.enabled": "false"}, "executor": {"instances": 1, "cores": 1, "memory": "512m"}}' "$1"; }
mid() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (a + b) / 2 }'; }
mean() { awk '{ s += $1; n++ } END { if (n) printf "%.2f", s / n; else print "n/a" }'; }

phase_direct() { # phase_direct RUN
  local tag="${PREFIX}d$1" dir="$WORK/${PREFIX}d$1" load0 t0 t1 t2 p0 p1 n i rc=0 deadline running=
  mkdir -p "$dir"
  cp "$WORK/pi.py" "$dir/pi.py"
  for ((i = 1; i <= JOBS; i++)); do spec "$tag-$i" >"$dir/$tag-$i.json"; done
  : >"$dir/polls"
  load0=$(cut -d ' ' -f 1 /proc/loadavg)
  log "direct run $1: cms cluster submit --wait of $JOBS pi.py jobs ($tag-*)"
  t0=$(now)
  timeout "$PHASE_TIMEOUT" node bin/run.js cluster submit -n "$NAME" "$dir"/"$tag"-*.json --wait --json >"$dir/submit.json" 2>"$dir/submit.err" &
  SUBMIT_PID=$!
  deadline=$(($(date +%s) + PHASE_TIMEOUT))
  while [[ -z "$running" ]] && (($(date +%s) < deadline)); do
    p0=$(now)
    n=$(timeout 120 node bin/run.js job list -n "$NAME" --json 2>>"$dir/list.err" |
      jq --arg p "$tag-" '[.jobs[] | select((.name | startswith($p)) and (.state == "RUNNING" or .state == "SUCCEEDED"))] | length' 2>/dev/null) || n=0
    p1=$(now)
    echo "$(elapsed "$p0" "$p1")" >>"$dir/polls"
    if [[ "$n" == "$JOBS" ]]; then running=$(elapsed "$t0" "$(mid "$p0" "$p1")"); fi
    kill -0 "$SUBMIT_PID" 2>/dev/null || [[ -n "$running" ]] || break
    sleep 1
  done
  wait "$SUBMIT_PID" || rc=$?
  t2=$(now)
  SUBMIT_PID=
  ((rc == 0)) || { tail -n 20 "$dir/submit.err" >&2; log "direct run $1: cms cluster submit --wait exited $rc"; }
  D_RUN+=("${running:-n/a}") D_DONE+=("$(elapsed "$t0" "$t2")") D_POLL+=("$(mean <"$dir/polls")") D_POLLS+=("$(wc -l <"$dir/polls")")
  D_OK+=("$(jq --arg p "$tag-" '[.jobs[]? | select((.name | startswith($p)) and .state == "SUCCEEDED")] | length' "$dir/submit.json" 2>/dev/null || echo 0)")
  D_LOADS+=("$load0 / $(cut -d ' ' -f 1 /proc/loadavg)")
  log "direct run $1: all RUNNING ${D_RUN[-1]} s, all done ${D_DONE[-1]} s, ${D_OK[-1]}/$JOBS succeeded"
}

phase_service() { # phase_service RUN
  local tag="${PREFIX}s$1" dir="$WORK/${PREFIX}s$1" load0 t0 p0 p1 i r d deadline running= done_at= counts ok=0
  local -a args=()
  mkdir -p "$dir"
  cp "$WORK/pi.py" "$dir/pi.py"
  for ((i = 1; i <= JOBS; i++)); do
    printf '{"id": "%s", "cluster": "%s", "spec": %s}' "$tag-$i" "$NAME" "$(spec "$tag-$i")" >"$dir/$tag-$i.task.json"
    ((i == 1)) || args+=(--next)
    args+=(-sS -m 300 -o /dev/null -w '%{http_code}\n' -H "$AUTH" -F "task=<$dir/$tag-$i.task.json" -F "file=@$dir/pi.py;filename=pi.py" "$URL/task")
  done
  : >"$dir/polls"
  load0=$(cut -d ' ' -f 1 /proc/loadavg)
  log "service run $1: $JOBS multipart POST /task with pi.py ($tag-*)"
  t0=$(now)
  curl --parallel --parallel-max "$JOBS" "${args[@]}" >"$dir/post.codes" 2>"$dir/post.err" || true
  [[ "$(grep -c '^201$' "$dir/post.codes")" == "$JOBS" ]] ||
    { cat "$dir/post.err" >&2; tail -n 20 "$WORK/serve.err" >&2; die "POST /task: expected $JOBS x 201, got $(sort "$dir/post.codes" | uniq -c | tr '\n' ' ')"; }
  S_POST+=("$(elapsed "$t0" "$(now)")")
  deadline=$(($(date +%s) + PHASE_TIMEOUT))
  while [[ -z "$done_at" ]] && (($(date +%s) < deadline)); do
    p0=$(now)
    counts=$(curl -fsS -m 60 -H "$AUTH" "$URL/tasks?limit=1000" 2>>"$dir/poll.err" |
      jq -r --arg p "$tag-" '[.tasks[] | select(.id | startswith($p))] | "\([.[] | select(.state == "RUNNING" or .state == "SUCCEEDED" or .state == "KILLED" or .state == "DEAD")] | length) \([.[] | select(.state == "SUCCEEDED" or .state == "KILLED" or .state == "DEAD")] | length) \([.[] | select(.state == "SUCCEEDED")] | length)"' 2>/dev/null) || counts="0 0 0"
    p1=$(now)
    echo "$(elapsed "$p0" "$p1")" >>"$dir/polls"
    read -r r d ok <<<"$counts"
    if [[ -z "$running" && "$r" == "$JOBS" ]]; then running=$(elapsed "$t0" "$(mid "$p0" "$p1")"); fi
    if [[ "$d" == "$JOBS" ]]; then done_at=$(elapsed "$t0" "$(mid "$p0" "$p1")"); fi
    [[ -n "$done_at" ]] || sleep 0.5
  done
  [[ -n "$done_at" ]] || log "service run $1: not every task finished within $PHASE_TIMEOUT s"
  curl -fsS -m 60 -H "$AUTH" "$URL/tasks?limit=1000" >"$dir/tasks.json" 2>/dev/null || true
  # Where the service's time went: the last task's claim, the engine's acceptance, and the RUNNING and SUCCEEDED
  # the tracker saw, from each task's audit trail (seconds after t0).
  for ((i = 1; i <= JOBS; i++)); do curl -fsS -m 60 -H "$AUTH" "$URL/task/$tag-$i/events" 2>/dev/null || echo '{"events": []}'; echo; done >"$dir/events.jsonl"
  cp "$dir/events.jsonl" "$RESULTS_DIR/serve-overhead-events-run$1.jsonl"
  S_TIMELINE+=("$(node -e '
    const t0 = Number(process.argv[1]) * 1000
    const tasks = require("fs").readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l).events)
    const first = (evs, ok) => { const e = evs.find(ok); return e ? Date.parse(e.at) : NaN }
    const last = (ok) => Math.max(...tasks.map((evs) => first(evs, ok)))
    const s = (ms) => (Number.isFinite(ms) ? ((ms - t0) / 1000).toFixed(2) : "n/a")
    console.log([
      last((e) => e.from === "QUEUED" && e.to === "SUBMITTED"),
      last((e) => e.to === "SUBMITTED" && /accepted by the engine/.test(e.detail ?? "")),
      last((e) => e.to === "RUNNING"),
      last((e) => e.to === "SUCCEEDED"),
    ].map(s).join(" "))' "$t0" "$dir/events.jsonl" 2>/dev/null || echo "n/a n/a n/a n/a")")
  S_RUN+=("${running:-n/a}") S_DONE+=("${done_at:-n/a}") S_POLL+=("$(mean <"$dir/polls")") S_POLLS+=("$(wc -l <"$dir/polls")") S_OK+=("$ok")
  S_LOADS+=("$load0 / $(cut -d ' ' -f 1 /proc/loadavg)")
  log "service run $1: all RUNNING ${S_RUN[-1]} s, all done ${S_DONE[-1]} s, $ok/$JOBS succeeded"
}

D_RUN=() D_DONE=() D_POLL=() D_POLLS=() D_OK=() D_LOADS=()
S_RUN=() S_DONE=() S_POLL=() S_POLLS=() S_OK=() S_LOADS=() S_POST=() S_TIMELINE=()
CODE=$(code_line)
LOAD_BEFORE=$(load_avg)
for ((r = 1; r <= RUNS; r++)); do
  if ((r % 2)); then phase_direct "$r"; phase_service "$r"; else phase_service "$r"; phase_direct "$r"; fi
done
LOAD_AFTER=$(load_avg)
cp "$WORK/serve.err" "$RESULTS_DIR/serve-overhead.serve.log" 2>/dev/null || true

# ---------------------------------------------------------------- report
med() { echo "$*" | tr ' ' '\n' | grep -v '^n/a$' | median; }
DR=$(med "${D_RUN[*]}") DD=$(med "${D_DONE[*]}") SR=$(med "${S_RUN[*]}") SD=$(med "${S_DONE[*]}")
RR=$(ratio "$SR" "$DR") RD=$(ratio "$SD" "$DD")
verdict() { awk -v r="$1" 'BEGIN { print (r != "n/a" && r + 0 <= 1.1 ? "met" : "NOT met") }'; }
{
  echo "### cms serve overhead: $JOBS pi.py jobs through the service vs cms cluster submit"
  echo
  echo "Machine: $(machine_line); cluster: $HOSTS docker hosts (Spark ${CMS_SPARK_VERSION:-?}, ${CMS_CREATE_ARGS[*]}); $(node --version). Code: $CODE."
  echo "Load average (1/5/15 min) at start: $LOAD_BEFORE; at end: $LOAD_AFTER ($(nproc) CPUs). Runs: $RUNS (median)."
  echo
  echo "| path | run | all RUNNING (s) | all done (s) | succeeded | polls | poll (s) | load avg start / end |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for ((i = 0; i < RUNS; i++)); do
    echo "| direct: cms cluster submit --wait (1 call) | $((i + 1)) | ${D_RUN[$i]} | ${D_DONE[$i]} | ${D_OK[$i]}/$JOBS | ${D_POLLS[$i]} | ${D_POLL[$i]} | ${D_LOADS[$i]} |"
    echo "| service: $JOBS x POST /task (multipart) | $((i + 1)) | ${S_RUN[$i]} | ${S_DONE[$i]} | ${S_OK[$i]}/$JOBS | ${S_POLLS[$i]} | ${S_POLL[$i]} | ${S_LOADS[$i]} |"
  done
  echo
  for ((i = 0; i < RUNS; i++)); do
    read -r tc ta tr ts <<<"${S_TIMELINE[$i]}"
    echo "- run $((i + 1)): service/direct all RUNNING $(ratio "${S_RUN[$i]}" "${D_RUN[$i]}")x, all done $(ratio "${S_DONE[$i]}" "${D_DONE[$i]}")x; the service's audit trail (last of the $JOBS tasks, s after t0): POSTs answered ${S_POST[$i]}, claimed $tc, accepted by Spark $ta, RUNNING recorded $tr, SUCCEEDED recorded $ts"
  done
  echo "- median: service/direct all RUNNING **${RR}x** (goal <= 1.1: $(verdict "$RR")), all done **${RD}x** (goal <= 1.1: $(verdict "$RD"))"
  echo
} >"$RESULTS_DIR/serve-overhead.md"

jarr() { local IFS=,; echo "[$*]" | sed 's/n\/a/null/g'; }
jnum() { [[ -n "$1" && "$1" != n/a ]] && echo "$1" || echo null; }
cat >"$RESULTS_DIR/serve-overhead.json" <<EOF
{
  "jobs": $JOBS, "runs": $RUNS, "hosts": $HOSTS,
  "code": "$CODE",
  "loadBefore": "$LOAD_BEFORE", "loadAfter": "$LOAD_AFTER",
  "direct": {"allRunningSeconds": $(jarr "${D_RUN[@]}"), "allDoneSeconds": $(jarr "${D_DONE[@]}"), "succeeded": $(jarr "${D_OK[@]}"), "meanPollSeconds": $(jarr "${D_POLL[@]}")},
  "service": {"allRunningSeconds": $(jarr "${S_RUN[@]}"), "allDoneSeconds": $(jarr "${S_DONE[@]}"), "succeeded": $(jarr "${S_OK[@]}"), "meanPollSeconds": $(jarr "${S_POLL[@]}"), "postSeconds": $(jarr "${S_POST[@]}"), "timelineClaimedAcceptedRunningSucceeded": [$(for x in "${S_TIMELINE[@]}"; do echo "[${x// /,}]"; done | paste -sd, | sed 's/n\/a/null/g')]},
  "ratioAllRunning": $(jnum "$RR"),
  "ratioAllDone": $(jnum "$RD")
}
EOF
jq . "$RESULTS_DIR/serve-overhead.json" >/dev/null || die "wrote invalid JSON to $RESULTS_DIR/serve-overhead.json"
cat "$RESULTS_DIR/serve-overhead.md"
ok=1
for ((i = 0; i < RUNS; i++)); do [[ "${D_OK[$i]}" == "$JOBS" && "${S_OK[$i]}" == "$JOBS" ]] || ok=0; done
((ok)) || die "not every job succeeded in every phase"
