#!/usr/bin/env bash
# cms serve intake: BENCH_SERVE_TASKS (10,000) tasks sent as POST /tasks batches of BENCH_SERVE_BATCH (500), one
# batch in flight, while a second client loop samples GET /task/{id} of tasks already accepted (one request at a
# time, one every BENCH_READ_EVERY_MS ms, at most BENCH_READ_MAX). Measured: tasks/s accepted (first request sent
# to last answer) and the p50/p99 latency of those reads; then the same reads on the quiet service (all tasks
# queued, no intake).
#   - SQLite (the default store): goal >= 5,000 tasks/s.
#   - PostgreSQL (scripts/postgres.sh, database cms_bench, a fresh schema per phase) against the peer pg-boss 10
#     (devDependency) inserting the same jobs (the same JSON payloads) into the same database (its own schema,
#     dropped before each phase) with boss.insert(), BENCH_SERVE_BATCH per call, one call in flight, with the same
#     read loop on boss.getJobById(). Goal: cms/pg-boss >= 1.0. A third side, not a peer: cms's own store alone
#     (src/serve/store, in the client's process, schema PREFIX_store) writing the same tasks, B per call, one call in
#     flight, with no HTTP, key or validation: how much of a cms batch the database's work is.
# Every task names a real 1-host docker Spark cluster (the service refuses unknown clusters) and asks for 100,000
# cores (`resources`), more than the cluster has in all: admission (src/serve/queue/admission.ts) lets such a task
# wait without blocking the others, and the service runs with --max-running 1 and --cluster NAME, so nothing is
# submitted and no other cluster on the machine is asked anything. The client checks afterwards that all N tasks
# are QUEUED and none was admitted. The client (bench/serve-intake.ts, bundled with esbuild) runs in its own Node
# process; the service is `node bin/run.js serve` as a user starts it (log level info, one stderr line a request).
#
# Env knobs:
#   BENCH_SERVE_TASKS=10000  BENCH_SERVE_BATCH=500  BENCH_RUNS=3 (phases per store; the median is reported)
#   BENCH_READ_EVERY_MS=5  BENCH_READ_MAX=2000  BENCH_AFTER_READS=200
#   BENCH_SERVE_PG=1       0: SQLite only (no PostgreSQL, no pg-boss)
#   BENCH_PREFIX=sb<pid>   names of this run's cluster (PREFIXq) and PostgreSQL schemas (PREFIX_cms, PREFIX_pgboss)
#   BENCH_SETUP=0          skip testbed setup and the build (run.sh already did them)
#   BENCH_SERVE_NODE_FLAGS  node flags for the service only (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof)
# Writes bench/results/serve-intake.{md,json}; prints the table to stdout. Progress goes to stderr.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

TASKS=${BENCH_SERVE_TASKS:-10000}
BATCH=${BENCH_SERVE_BATCH:-500}
RUNS=${BENCH_RUNS:-3}
READ_EVERY=${BENCH_READ_EVERY_MS:-5}
READ_MAX=${BENCH_READ_MAX:-2000}
AFTER_READS=${BENCH_AFTER_READS:-200}
PREFIX=${BENCH_PREFIX:-sb$$}
[[ "$TASKS" =~ ^[1-9][0-9]*$ && "$TASKS" -le 100000 ]] || die "BENCH_SERVE_TASKS must be 1..100000"
[[ "$BATCH" =~ ^[1-9][0-9]*$ && "$BATCH" -le 1000 ]] || die "BENCH_SERVE_BATCH must be 1..1000 (the API's limit)"
[[ "$RUNS" =~ ^[1-9]$ ]] || die "BENCH_RUNS must be 1..9"
[[ "$READ_EVERY" =~ ^[0-9]+$ && "$READ_MAX" =~ ^[0-9]+$ && "$AFTER_READS" =~ ^[0-9]+$ ]] || die "BENCH_READ_* must be numbers"
[[ "$PREFIX" =~ ^[a-z][a-z0-9]{0,15}$ ]] || die "BENCH_PREFIX must be a lowercase name of at most 16 characters"
NAME=${PREFIX}q
WITH_PG=${BENCH_SERVE_PG:-1}

if [[ "${BENCH_SETUP:-1}" != 0 ]]; then
  ensure_testbed
  ensure_cms_built || die "cms does not build"
fi
[[ -f dist/commands/serve/index.js ]] || die "cms is not built (npm run build)"
command -v jq >/dev/null || die "jq is required"
docker info >/dev/null 2>&1 || die "docker engine is not running"

WORK="$(mktemp -d /tmp/cms-bench-serve-intake.XXXXXX)"
export CMS_HOME="$WORK/cms-home"
mkdir -p "$CMS_HOME"
BUNDLE="$RESULTS_DIR/serve-intake.bundle.mjs"
SERVE_PID=
PG_URL=

stop_serve() {
  [[ -n "$SERVE_PID" ]] || return 0
  kill -TERM "$SERVE_PID" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVE_PID" 2>/dev/null || true
  wait "$SERVE_PID" 2>/dev/null || true
  SERVE_PID=
}
cleanup() {
  local rc=$?
  set +e
  stop_serve
  if [[ -n "$PG_URL" && -f "$BUNDLE" ]]; then
    node "$BUNDLE" schema --pg "$PG_URL" --schema "${PREFIX}_cms" --drop 2>/dev/null
    node "$BUNDLE" schema --pg "$PG_URL" --schema "${PREFIX}_pgboss" --drop 2>/dev/null
    node "$BUNDLE" schema --pg "$PG_URL" --schema "${PREFIX}_store" --drop 2>/dev/null
  fi
  kill_cms_clusters
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- setup (untimed)
npx esbuild bench/serve-intake.ts --bundle --platform=node --format=esm --target=node20.18 --main-fields=module,main \
  --packages=external --outfile="$BUNDLE" --log-level=warning || die "esbuild of bench/serve-intake.ts failed"
if [[ "$WITH_PG" != 0 ]]; then
  out="$(bash scripts/postgres.sh)" || die "scripts/postgres.sh failed"
  eval "$out"
  PG_URL="${CMS_TEST_PG_URL%/cms_test}/cms_bench"
  [[ "$PG_URL" == postgres://*/cms_bench ]] || die "unexpected CMS_TEST_PG_URL from scripts/postgres.sh"
fi

log "creating Spark cluster $NAME (1 host; its tasks never run)"
cms_create "$NAME" 1 "$WORK/create.json" || { tail -n 20 "$WORK/create.json.err" >&2; die "cluster create failed"; }
NAME=$CMS_NAME

# The code measured: the commit, whether src/ differs from it, and when dist/ (what bin/run.js runs) was built.
code_line() {
  local rev dirty=
  rev=$(git -C "$REPO_DIR" log -1 --format=%h 2>/dev/null || echo unknown)
  [[ -z "$(git -C "$REPO_DIR" status --porcelain -- src 2>/dev/null)" ]] || dirty=" + uncommitted changes in src/"
  echo "commit $rev$dirty, dist/ built $(date -u -r "$REPO_DIR/dist/commands/serve/index.js" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo '?')"
}
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# start_serve DB TAG: a fresh key, then `cms serve` on a free port (SERVE_URL, SERVE_PID, KEY), ready (/health).
start_serve() {
  local db=$1 tag=$2 port i
  KEY=$(timeout 120 node bin/run.js serve keys create --name bench --scope submit --db "$db" 2>"$WORK/$tag.keys.err") ||
    { cat "$WORK/$tag.keys.err" >&2; die "serve keys create failed"; }
  port=$(free_port)
  SERVE_URL="http://127.0.0.1:$port"
  # shellcheck disable=SC2086 # node flags, split on spaces
  node ${BENCH_SERVE_NODE_FLAGS:-} bin/run.js serve --listen "127.0.0.1:$port" --db "$db" --data-dir "$WORK/data-$tag" --cluster "$NAME" \
    --max-running 1 >"$WORK/$tag.serve.out" 2>"$WORK/$tag.serve.err" &
  SERVE_PID=$!
  for ((i = 0; i < 120; i++)); do
    curl -fsS "$SERVE_URL/health" >/dev/null 2>&1 && break
    kill -0 "$SERVE_PID" 2>/dev/null || { tail -n 20 "$WORK/$tag.serve.err" >&2; die "cms serve exited"; }
    sleep 0.5
  done
  curl -fsS "$SERVE_URL/health" >/dev/null || { tail -n 20 "$WORK/$tag.serve.err" >&2; die "cms serve did not answer /health in 60 s"; }
  sleep 2 # the loops' first steps
}
rss_mb() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo n/a; }

CLIENT_ARGS=(--tasks "$TASKS" --batch "$BATCH" --read-every "$READ_EVERY" --read-max "$READ_MAX" --after-reads "$AFTER_READS")
SQLITE=() PGCMS=() PGBOSS=() PGSTORE=() SQLITE_RSS=() PG_RSS=() LOADS_S=() LOADS_C=() LOADS_B=() LOADS_T=()

phase_sqlite() { # phase_sqlite RUN
  local tag="sqlite$1" load0 line
  start_serve "$WORK/$tag.db" "$tag"
  load0=$(cut -d ' ' -f 1 /proc/loadavg)
  log "cms serve (SQLite) run $1: $TASKS tasks in batches of $BATCH"
  line=$(BENCH_SERVE_KEY="$KEY" timeout 900 node "$BUNDLE" cms --url "$SERVE_URL" --cluster "$NAME" --tag "$tag" "${CLIENT_ARGS[@]}") ||
    { tail -n 20 "$WORK/$tag.serve.err" >&2; die "the cms intake (SQLite) failed"; }
  SQLITE_RSS+=("$(rss_mb "$SERVE_PID")")
  stop_serve
  SQLITE+=("$line") LOADS_S+=("$load0 / $(cut -d ' ' -f 1 /proc/loadavg)")
  log "  $(jq -r '"\(.perSecond) tasks/s, GET p99 \(.readsDuring.p99Ms) ms during (\(.readsDuring.n) reads)"' <<<"$line")"
}
phase_pg_cms() {
  local tag="pg$1" schema="${PREFIX}_cms" load0 line
  node "$BUNDLE" schema --pg "$PG_URL" --schema "$schema" || die "could not make schema $schema"
  start_serve "$PG_URL?options=-c%20search_path%3D$schema" "$tag"
  load0=$(cut -d ' ' -f 1 /proc/loadavg)
  log "cms serve (PostgreSQL) run $1: $TASKS tasks in batches of $BATCH"
  line=$(BENCH_SERVE_KEY="$KEY" timeout 900 node "$BUNDLE" cms --url "$SERVE_URL" --cluster "$NAME" --tag "$tag" "${CLIENT_ARGS[@]}") ||
    { tail -n 20 "$WORK/$tag.serve.err" >&2; die "the cms intake (PostgreSQL) failed"; }
  PG_RSS+=("$(rss_mb "$SERVE_PID")")
  stop_serve
  PGCMS+=("$line") LOADS_C+=("$load0 / $(cut -d ' ' -f 1 /proc/loadavg)")
  log "  $(jq -r '"\(.perSecond) tasks/s, GET p99 \(.readsDuring.p99Ms) ms during (\(.readsDuring.n) reads)"' <<<"$line")"
}
phase_pgboss() {
  local load0 line
  load0=$(cut -d ' ' -f 1 /proc/loadavg)
  log "pg-boss run $1: $TASKS jobs, boss.insert() $BATCH at a time"
  line=$(timeout 900 node "$BUNDLE" pgboss --pg "$PG_URL" --schema "${PREFIX}_pgboss" "${CLIENT_ARGS[@]}") || die "the pg-boss intake failed"
  PGBOSS+=("$line") LOADS_B+=("$load0 / $(cut -d ' ' -f 1 /proc/loadavg)")
  log "  $(jq -r '"\(.perSecond) jobs/s, getJobById p99 \(.readsDuring.p99Ms) ms during (\(.readsDuring.n) reads)"' <<<"$line")"
}
phase_store() {
  local load0 line
  load0=$(cut -d ' ' -f 1 /proc/loadavg)
  log "cms store alone run $1: $TASKS tasks, insertTasks() $BATCH at a time"
  line=$(timeout 900 node "$BUNDLE" store --pg "$PG_URL" --schema "${PREFIX}_store" --tasks "$TASKS" --batch "$BATCH" --tag "store$1") || die "the store-alone intake failed"
  PGSTORE+=("$line") LOADS_T+=("$load0 / $(cut -d ' ' -f 1 /proc/loadavg)")
  log "  $(jq -r '"\(.perSecond) tasks/s"' <<<"$line")"
}

CODE=$(code_line)
LOAD_BEFORE=$(load_avg)
for ((r = 1; r <= RUNS; r++)); do
  phase_sqlite "$r"
  if [[ "$WITH_PG" != 0 ]]; then
    # Alternating order, so a change in machine load hits both alike.
    if ((r % 2)); then phase_pg_cms "$r"; phase_pgboss "$r"; else phase_pgboss "$r"; phase_pg_cms "$r"; fi
    phase_store "$r"
  fi
done
LOAD_AFTER=$(load_avg)

# ---------------------------------------------------------------- report
field() { jq -r "$2 // \"n/a\"" <<<"$1"; }
col() { local f=$1 l; shift; for l in "$@"; do field "$l" "$f"; done | median; }
row() { # row LABEL RUN JSON RSS LOADS
  echo "| $1 | $2 | $(field "$3" .perSecond) | $(field "$3" .wallMs) | $(field "$3" .batchP50Ms) / $(field "$3" .batchMaxMs) | $(field "$3" .readsDuring.n) | $(field "$3" .readsDuring.p50Ms) | $(field "$3" .readsDuring.p99Ms) | $(field "$3" .readsAfter.p50Ms) / $(field "$3" .readsAfter.p99Ms) | $4 | $5 |"
}
S_TPS=$(col .perSecond "${SQLITE[@]}")
S_P99=$(col .readsDuring.p99Ms "${SQLITE[@]}")
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r + 0 >= g ? "met" : "NOT met") }'; }
{
  echo "### cms serve intake: $TASKS tasks in POST /tasks batches of $BATCH (SQLite; PostgreSQL vs pg-boss)"
  echo
  echo "Machine: $(machine_line); $(node --version); pg-boss $(node -p 'require("pg-boss/package.json").version'). Code: $CODE."
  echo "Load average (1/5/15 min) at start: $LOAD_BEFORE; at end: $LOAD_AFTER ($(nproc) CPUs). Runs per store: $RUNS (median)."
  echo "Reads: GET /task/{id} (pg-boss: getJobById) of a random accepted task, one at a time, one every $READ_EVERY ms, at most $READ_MAX during the intake; then $AFTER_READS on the quiet service."
  echo
  echo "| store / client | run | tasks/s | wall (ms) | batch p50 / max (ms) | reads during | read p50 (ms) | read p99 (ms) | quiet read p50 / p99 (ms) | serve RSS after (MB) | load avg start / end |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for ((i = 0; i < RUNS; i++)); do
    row "SQLite: cms serve" "$((i + 1))" "${SQLITE[$i]}" "${SQLITE_RSS[$i]}" "${LOADS_S[$i]}"
  done
  if [[ "$WITH_PG" != 0 ]]; then
    for ((i = 0; i < RUNS; i++)); do
      row "PostgreSQL: cms serve" "$((i + 1))" "${PGCMS[$i]}" "${PG_RSS[$i]}" "${LOADS_C[$i]}"
      row "PostgreSQL: pg-boss insert (peer)" "$((i + 1))" "${PGBOSS[$i]}" "-" "${LOADS_B[$i]}"
      row "PostgreSQL: cms store alone (no HTTP, key, validation)" "$((i + 1))" "${PGSTORE[$i]}" "-" "${LOADS_T[$i]}"
    done
  fi
  echo
  echo "- SQLite: **$S_TPS tasks/s** (median; goal >= 5,000: $(verdict "$S_TPS" 5000)), GET /task p99 during the intake $S_P99 ms"
  if [[ "$WITH_PG" != 0 ]]; then
    C_TPS=$(col .perSecond "${PGCMS[@]}") B_TPS=$(col .perSecond "${PGBOSS[@]}")
    RATIO=$(ratio "$C_TPS" "$B_TPS")
    echo "- PostgreSQL: cms **$C_TPS tasks/s**, pg-boss $B_TPS jobs/s: cms/pg-boss **${RATIO}x** (goal >= 1.0: $(verdict "$RATIO" 1.0)); read p99 during the intake: cms $(col .readsDuring.p99Ms "${PGCMS[@]}") ms, pg-boss $(col .readsDuring.p99Ms "${PGBOSS[@]}") ms"
    T_TPS=$(col .perSecond "${PGSTORE[@]}")
    echo "- PostgreSQL, the database's share: cms's store alone $T_TPS tasks/s, store/pg-boss $(ratio "$T_TPS" "$B_TPS")x, cms serve/store alone $(ratio "$C_TPS" "$T_TPS")x (the rest of a batch is the service's own work: HTTP, key, validation, reply)"
  fi
  echo "- cms: HTTP + JSON + API key + validation of every task (the portable spec's schema) + one transaction per batch (task and QUEUED event rows), with the service's loops running; pg-boss: one INSERT per call from the same process, no HTTP"
  echo
} >"$RESULTS_DIR/serve-intake.md"

jarr() { local IFS=,; echo "[$*]"; }
jstr() { local s; for s in "$@"; do printf '"%s"\n' "$s"; done | paste -sd, | sed 's/^/[/; s/$/]/'; }
cat >"$RESULTS_DIR/serve-intake.json" <<EOF
{
  "tasks": $TASKS, "batch": $BATCH, "runs": $RUNS, "readEveryMs": $READ_EVERY, "readMax": $READ_MAX,
  "code": "$CODE",
  "loadBefore": "$LOAD_BEFORE", "loadAfter": "$LOAD_AFTER",
  "sqlite": $(jarr "${SQLITE[@]}"), "sqliteServeRssMb": $(jstr "${SQLITE_RSS[@]}"),
  "postgresCms": $(jarr "${PGCMS[@]}"), "postgresServeRssMb": $(jstr "${PG_RSS[@]}"),
  "postgresPgBoss": $(jarr "${PGBOSS[@]}"),
  "postgresStoreAlone": $(jarr "${PGSTORE[@]}")
}
EOF
jq . "$RESULTS_DIR/serve-intake.json" >/dev/null || die "wrote invalid JSON to $RESULTS_DIR/serve-intake.json"
cat "$RESULTS_DIR/serve-intake.md"
log "wrote $RESULTS_DIR/serve-intake.md"
