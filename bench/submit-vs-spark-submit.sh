#!/usr/bin/env bash
# Peer comparison: submitting BENCH_JOBS (50) JVM jobs to one Spark standalone cluster
#   cms:  ONE `cms cluster submit` call naming the same jar BENCH_JOBS times (master REST API over an SSH tunnel,
#         cluster deploy mode; the command returns once every job is accepted);
#   peer: BENCH_JOBS `spark-submit --deploy-mode cluster` invocations from this machine (the legacy RPC Client
#         gateway, which returns once the master has accepted the driver), run one after another (what 50 CI
#         steps do) and, as a second variant, BENCH_PEER_PARALLEL at a time.
# Measured per side: wall time until all jobs are accepted and client CPU (user+sys, /usr/bin/time, children
# included). Acceptance is verified on the master: its driver count (/json/ activedrivers + completeddrivers)
# must grow by BENCH_JOBS per phase. Between phases every live driver is killed through the REST API so the
# next phase starts on an idle cluster; the cluster has 2 hosts with 1 worker core each, so at most 2 drivers
# ever run and the rest queue.
#
# Env knobs:
#   BENCH_JOBS=50             jobs per phase
#   BENCH_PEER_PARALLEL=5     spark-submit invocations at once in the concurrent variant (0 = skip it)
#   BENCH_SETUP=0             skip testbed/build setup (run.sh already did it)
# Appends the table to bench/results/latest-submit.md and prints it to stdout. Progress goes to stderr.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

JOBS=${BENCH_JOBS:-50}
PAR=${BENCH_PEER_PARALLEL:-5}
[[ "$JOBS" =~ ^[1-9][0-9]*$ && "$JOBS" -le 500 ]] || die "BENCH_JOBS must be 1..500"
[[ "$PAR" =~ ^[0-9]+$ && "$PAR" -le 16 ]] || die "BENCH_PEER_PARALLEL must be 0..16"
NAME=benchsub$$
CLASS=CmsE2eJob
CONFS=(--conf spark.executor.memory=512m --conf spark.driver.memory=512m)
OUT_MD="$RESULTS_DIR/latest-submit.md"

if [[ "${BENCH_SETUP:-1}" != 0 ]]; then
  ensure_testbed
  ensure_cms_built
fi
[[ -f "${CMS_SPARK_DIST:-}" ]] || die "CMS_SPARK_DIST is not set (eval \"\$(bash scripts/testbed.sh)\")"
docker info >/dev/null 2>&1 || die "docker engine is not running"
if [[ ! -x /usr/bin/time ]]; then
  log "installing GNU time"
  DEBIAN_FRONTEND=noninteractive apt-get install -y time >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y time >&2; }
fi
for t in java javac jar curl jq; do command -v "$t" >/dev/null || die "$t is required"; done

WORK="$(mktemp -d /tmp/cms-bench-submit.XXXXXX)"
export CMS_HOME="$WORK/cms-home"
mkdir -p "$CMS_HOME"
CREATED=0

cleanup() {
  local rc=$?
  set +e
  if ((CREATED)); then
    log "cleanup: killing cluster $NAME"
    timeout 120 node bin/run.js cluster kill -n "$NAME" --yes >/dev/null 2>&1
    remove_by_label "cms.cluster=$NAME"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- fixtures (cached, untimed)
# The Spark runtime (SPARK_HOME for the peer) and the e2e job jar compiled against its jars, keyed by the dist.
CACHE="$REPO_DIR/.cache/bench-submit/$(basename "$CMS_SPARK_DIST" .tgz)"
if [[ ! -f "$CACHE/.runtime-done" ]]; then
  log "extracting $(basename "$CMS_SPARK_DIST") into $CACHE (once)"
  rm -rf "$CACHE" && mkdir -p "$CACHE/runtime"
  tar -xzf "$CMS_SPARK_DIST" -C "$CACHE/runtime"
  touch "$CACHE/.runtime-done"
fi
SPARK_HOME="$(find "$CACHE/runtime" -mindepth 1 -maxdepth 1 -type d -name 'spark-*' | head -n 1)"
[[ -x "$SPARK_HOME/bin/spark-submit" ]] || die "no bin/spark-submit in $CACHE/runtime"
if [[ ! -f "$CACHE/cms-e2e-job.jar" ]]; then
  log "compiling $CLASS"
  rm -rf "$CACHE/classes" && mkdir -p "$CACHE/classes"
  javac -d "$CACHE/classes" -cp "$SPARK_HOME/jars/*" test/e2e/fixtures/CmsE2eJob.java
  jar cf "$CACHE/cms-e2e-job.jar.tmp" -C "$CACHE/classes" . && mv "$CACHE/cms-e2e-job.jar.tmp" "$CACHE/cms-e2e-job.jar"
fi
# The jar the jobs name: cms uploads it itself; the peer needs it at this same path on every host.
JAR="$WORK/app/cms-e2e-job.jar"
mkdir -p "$WORK/app" && cp "$CACHE/cms-e2e-job.jar" "$JAR"

# ---------------------------------------------------------------- cluster (untimed)
log "creating cluster $NAME (2 hosts, 1 worker core each)"
CREATED=1
timeout 900 node bin/run.js cluster create -n "$NAME" --hosts 2 --worker-cores 1 --json >"$WORK/create.json" 2>"$WORK/create.err" ||
  { tail -n 20 "$WORK/create.err" >&2; die "cluster create failed"; }
timeout 120 node bin/run.js cluster info -n "$NAME" --json >"$WORK/info.json" 2>"$WORK/info.err" ||
  { tail -n 20 "$WORK/info.err" >&2; die "cluster info failed"; }
HEAD_IP=$(jq -r '.head.privateAddress' "$WORK/info.json")
MASTER=$(jq -r '.master.url' "$WORK/info.json")
[[ "$MASTER" == spark://* && -n "$HEAD_IP" && "$HEAD_IP" != null ]] || die "no master url / head address in cluster info"
log "master $MASTER"

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
load1() { cut -d ' ' -f 1 /proc/loadavg; }
master_json() { curl -fsS --max-time 10 "http://$HEAD_IP:8080/json/"; }
driver_count() { master_json | jq '(.activedrivers | length) + (.completeddrivers | length)'; }
active_ids() { master_json | jq -r '.activedrivers[].id'; }
wait_for 60 master_json || die "master UI http://$HEAD_IP:8080/json/ does not answer"
curl -fsS --max-time 10 "http://$HEAD_IP:6066/v1/submissions/status/none" >/dev/null 2>&1 ||
  curl -sS --max-time 10 -o /dev/null "http://$HEAD_IP:6066/" || die "REST server on $HEAD_IP:6066 does not answer"

# Kills every driver the master still lists as active (bounded: 10 rounds, 60 s).
kill_all_drivers() {
  local round ids id deadline=$((SECONDS + 60))
  for ((round = 0; round < 10 && SECONDS < deadline; round++)); do
    mapfile -t ids < <(active_ids)
    ((${#ids[@]} == 0)) && return 0
    log "killing ${#ids[@]} active driver(s)"
    for id in "${ids[@]}"; do
      [[ "$id" =~ ^driver-[0-9-]+$ ]] || continue
      curl -fsS --max-time 10 -X POST "http://$HEAD_IP:6066/v1/submissions/kill/$id" >/dev/null 2>&1 || true
    done
    sleep 2
  done
  [[ -z "$(active_ids)" ]] || die "drivers still active after killing for 60 s"
}

# Waits (up to 30 s) until the master's driver count reaches $1; prints the count seen.
wait_count() {
  local want=$1 n=0 i
  for ((i = 0; i < 30; i++)); do
    n=$(driver_count) || n=0
    ((n >= want)) && break
    sleep 1
  done
  echo "$n"
}

# ---------------------------------------------------------------- phase 1: cms (one call, JOBS jars)
kill_all_drivers
before=$(driver_count)
CMS_LOAD0=$(load1)
args=()
for ((i = 0; i < JOBS; i++)); do args+=("$JAR"); done
log "cms: submitting $JOBS jobs in one call"
/usr/bin/time -f '%e %U %S' -o "$WORK/cms.time" \
  timeout 600 node bin/run.js cluster submit -n "$NAME" "${args[@]}" --class "$CLASS" "${CONFS[@]}" --json -- ok \
  >"$WORK/cms.json" 2>"$WORK/cms.err" || { tail -n 20 "$WORK/cms.err" >&2; die "cms cluster submit failed"; }
read -r CMS_WALL CMS_USER CMS_SYS <"$WORK/cms.time"
CMS_LOAD="$CMS_LOAD0 / $(load1)"
CMS_IDS=$(jq '[.jobs[].attempts[0].submissionId] | unique | length' "$WORK/cms.json")
CMS_SELF=$(jq -r '.seconds // "n/a"' "$WORK/cms.json")
CMS_ACCEPTED=$(($(wait_count $((before + JOBS))) - before))
log "cms: ${CMS_WALL}s wall, ${CMS_USER}+${CMS_SYS}s CPU, $CMS_IDS submission ids, master +$CMS_ACCEPTED drivers"

# ---------------------------------------------------------------- peer: spark-submit (JOBS invocations)
# Untimed: the jar at the same path on every host (cluster mode runs the driver on any worker).
while read -r c; do
  docker exec "$c" mkdir -p "$WORK/app" && docker cp -q "$JAR" "$c:$JAR"
done < <(docker ps -q --filter "label=cms.cluster=$NAME")

cat >"$WORK/peer-one.sh" <<EOF
#!/usr/bin/env bash
# One spark-submit; appends "<index> <seconds to exit> <exit code> <seconds to the accepted log line>" to peer.times.
# The last column comes from log4j's whole-second timestamps (yy/MM/dd HH:mm:ss), so it is good to about 1 s.
i=\$1; t0=\$(date +%s.%N)
SPARK_HOME='$SPARK_HOME' timeout 120 '$SPARK_HOME/bin/spark-submit' --master '$MASTER' --deploy-mode cluster \\
  --class $CLASS ${CONFS[*]} '$JAR' ok >"\$2/peer-\$i.log" 2>&1
rc=\$?; t1=\$(date +%s.%N)
line=\$(grep -m 1 'Driver successfully submitted' "\$2/peer-\$i.log" || true)
acc=n/a
if [[ \$line =~ ^([0-9]{2})/([0-9]{2})/([0-9]{2})\ ([0-9:]{8}) ]]; then
  e=\$(date -d "20\${BASH_REMATCH[1]}-\${BASH_REMATCH[2]}-\${BASH_REMATCH[3]} \${BASH_REMATCH[4]}" +%s)
  acc=\$(awk -v a="\$t0" -v b="\$e" 'BEGIN { printf "%.0f", b - a }')
fi
echo "\$i \$(awk -v a="\$t0" -v b="\$t1" 'BEGIN { printf "%.2f", b - a }') \$rc \$acc" >>"\$2/peer.times"
exit \$rc
EOF
chmod +x "$WORK/peer-one.sh"

# run_peer LABEL PARALLEL: sets P_WALL P_USER P_SYS P_FAIL P_MEDIAN P_ACC P_ACCEPTED P_LOAD
run_peer() {
  local label=$1 par=$2 dir="$WORK/peer-$1"
  mkdir -p "$dir"
  kill_all_drivers
  local before_n load0
  before_n=$(driver_count)
  load0=$(load1)
  log "spark-submit ($label): $JOBS invocations, $par at a time"
  # shellcheck disable=SC2016 # expanded by the inner bash
  /usr/bin/time -f '%e %U %S' -o "$dir/time" \
    bash -c 'seq 1 "$1" | xargs -P "$2" -I{} "$3" {} "$4"' _ "$JOBS" "$par" "$WORK/peer-one.sh" "$dir" || true
  read -r P_WALL P_USER P_SYS <"$dir/time"
  P_FAIL=$(awk '$3 != 0' "$dir/peer.times" | wc -l)
  P_MEDIAN=$(awk '{ print $2 }' "$dir/peer.times" | median)
  P_ACC=$(awk '$4 != "n/a" { print $4 }' "$dir/peer.times" | median)
  P_LOAD="$load0 / $(load1)"
  P_ACCEPTED=$(($(wait_count $((before_n + JOBS))) - before_n))
  ((P_FAIL == 0)) || { log "spark-submit ($label): $P_FAIL invocation(s) failed; log of call 1:"; tail -n 15 "$dir/peer-1.log" >&2; }
  grep -q 'RestSubmissionClient' "$dir/peer-1.log" && log "note: spark-submit used the REST client, not the legacy gateway"
  log "spark-submit ($label): ${P_WALL}s wall, ${P_USER}+${P_SYS}s CPU, median ${P_MEDIAN}s per call (accepted ${P_ACC}s in), $P_FAIL failed, master +$P_ACCEPTED drivers"
}

run_peer seq 1
SEQ=("$P_WALL" "$P_USER" "$P_SYS" "$P_FAIL" "$P_MEDIAN" "$P_ACCEPTED" "$P_ACC" "$P_LOAD")
CONC=()
if ((PAR > 1)); then
  run_peer "par$PAR" "$PAR"
  CONC=("$P_WALL" "$P_USER" "$P_SYS" "$P_FAIL" "$P_MEDIAN" "$P_ACCEPTED" "$P_ACC" "$P_LOAD")
fi
kill_all_drivers

# ---------------------------------------------------------------- report
cpu() { awk -v u="$1" -v s="$2" 'BEGIN { printf "%.2f", u + s }'; }
CMS_CPU=$(cpu "$CMS_USER" "$CMS_SYS")
SEQ_CPU=$(cpu "${SEQ[1]}" "${SEQ[2]}")
verdict() { awk -v r="$1" 'BEGIN { print (r + 0 >= 10 ? "met" : "NOT met") }'; }
{
  echo "### Submit $JOBS JVM jobs: cms (REST) vs spark-submit --deploy-mode cluster"
  echo
  echo "Machine: $(machine_line); cluster: 2 docker hosts, 1 worker core each; Spark ${CMS_SPARK_VERSION:-$(basename "$SPARK_HOME")}; $(node --version); $(java -version 2>&1 | head -n 1)"
  echo
  echo "| client | wall until all accepted (s) | client CPU user+sys (s) | per call: median to exit / to accepted (s) | accepted by master | failed | load avg start / end |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  echo "| cms cluster submit, 1 call x $JOBS jars | $CMS_WALL | $CMS_CPU ($CMS_USER+$CMS_SYS) | - | $CMS_ACCEPTED ($CMS_IDS ids) | 0 | $CMS_LOAD |"
  echo "| spark-submit x $JOBS, sequential | ${SEQ[0]} | $SEQ_CPU (${SEQ[1]}+${SEQ[2]}) | ${SEQ[4]} / ${SEQ[6]} | ${SEQ[5]} | ${SEQ[3]} | ${SEQ[7]} |"
  if ((${#CONC[@]})); then
    echo "| spark-submit x $JOBS, $PAR at a time | ${CONC[0]} | $(cpu "${CONC[1]}" "${CONC[2]}") (${CONC[1]}+${CONC[2]}) | ${CONC[4]} / ${CONC[6]} | ${CONC[5]} | ${CONC[3]} | ${CONC[7]} |"
  fi
  echo
  r_time=$(ratio "${SEQ[0]}" "$CMS_WALL")
  echo "- sequential spark-submit / cms: time **${r_time}x**, CPU **$(ratio "$SEQ_CPU" "$CMS_CPU")x** (goal >= 10x faster to accept: $(verdict "$r_time"))"
  if ((${#CONC[@]})); then
    echo "- $PAR-at-a-time spark-submit / cms: time $(ratio "${CONC[0]}" "$CMS_WALL")x, CPU $(ratio "$(cpu "${CONC[1]}" "${CONC[2]}")" "$CMS_CPU")x"
  fi
  echo "- cms wall includes node start, SSH connect, the jar upload to both hosts and the tunnel; cms's own \`seconds\`: $CMS_SELF"
  echo "- the peer's jar copy to the hosts (docker cp) is outside its timing; a spark-submit call exits a few seconds after"
  echo "  the master accepted its driver (the legacy Client waits, then polls the driver state once); \"to accepted\" is"
  echo "  read from its log (1 s resolution). Ratios use wall time to exit, what a CI step waits for."
  echo "- load avg is the machine's 1-minute load at the start / end of each phase (2 cores; other work shares them)"
  echo
} | tee -a "$OUT_MD"
log "appended to $OUT_MD"
if ((CMS_ACCEPTED != JOBS || SEQ[5] != JOBS)) || { ((${#CONC[@]})) && ((CONC[5] != JOBS)); }; then
  die "the master did not accept $JOBS drivers in every phase"
fi
