#!/usr/bin/env bash
# Peer comparison: one Spark Python job (Spark's examples/src/main/python/pi.py) on YARN, from submit to its end,
#   cms:  `cms cluster submit -n NAME pi.json --wait --json` from this machine: Node start, SSH to the head, pi.py
#         uploaded (SFTP), spark-submit on the head in cluster deploy mode (it returns once YARN accepted the
#         application), then the ResourceManager's REST API polled over SSH until the application ended;
#   peer: a stock `spark-submit --master yarn --deploy-mode cluster` run on the head over OpenSSH
#         (`ssh root@HEAD bash peer.sh`), with the same settings: the Spark install and configuration cms put on the
#         head (spark-env.sh: SPARK_HOME, SPARK_CONF_DIR, HADOOP_CONF_DIR; spark-defaults.conf), the very argv cms ran
#         for the warm-up job (read from its job record on the head: resources, spark.yarn.* settings), and
#         `--conf spark.yarn.submit.waitAppCompletion=true`, so spark-submit itself waits for the application's end.
# Both end when the client returns; both must report success, and the ResourceManager must report the application
# FINISHED/SUCCEEDED. The peer's copy of pi.py and its script on the head are made before its timing (cms uploads
# pi.py inside its own). One cms cluster (untimed create), one untimed warm-up job through cms first (HDFS folders,
# Spark's staging folder, the page cache of Spark's jars), then the phases alternate (cms, peer, peer, cms, ...).
#
# Env knobs:
#   BENCH_HADOOP_HOSTS=2   hosts of the cluster
#   BENCH_RUNS=1           pairs of phases (median is reported)
#   BENCH_PI_ARGS=10       pi.py's argument (partitions)
#   BENCH_PAUSE=5          seconds between phases
#   BENCH_PREFIX=hsbench<pid>   the cluster's name
#   BENCH_SETUP=0          skip tool/testbed setup (run.sh already did it)
#   CMS_HADOOP_DIST / CMS_SPARK_DIST   the archives (default: `scripts/testbed.sh --hadoop`)
# Writes bench/results/hadoop-submit-vs-spark-submit.{md,json}; prints the markdown table to stdout.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

HOSTS=${BENCH_HADOOP_HOSTS:-2}
RUNS=${BENCH_RUNS:-1}
PI_ARGS=${BENCH_PI_ARGS:-10}
PAUSE=${BENCH_PAUSE:-5}
PREFIX=${BENCH_PREFIX:-hsbench$$}
[[ "$HOSTS" =~ ^[1-9]$ ]] || die "BENCH_HADOOP_HOSTS must be 1..9"
[[ "$RUNS" =~ ^[1-9]$ ]] || die "BENCH_RUNS must be 1..9"
[[ "$PI_ARGS" =~ ^[1-9][0-9]{0,3}$ ]] || die "BENCH_PI_ARGS must be 1..9999"
[[ "$PAUSE" =~ ^[0-9]{1,3}$ ]] || die "BENCH_PAUSE must be 0..999 seconds"
[[ "$PREFIX" =~ ^[a-z][a-z0-9]{0,15}$ ]] || die "BENCH_PREFIX must be a lowercase name of at most 16 characters"

if [[ "${BENCH_SETUP:-1}" != 0 ]]; then
  ensure_tools
  ensure_testbed
fi
if [[ ! -f "${CMS_HADOOP_DIST:-}" || ! -f "${CMS_SPARK_DIST:-}" ]]; then
  out="$(bash scripts/testbed.sh --hadoop)" || die "scripts/testbed.sh --hadoop failed"
  eval "$out"
fi
[[ -f "${CMS_HADOOP_DIST:-}" ]] || die "no Hadoop runtime archive: set CMS_HADOOP_DIST"
[[ -f "${CMS_SPARK_DIST:-}" ]] || die "no Spark archive: set CMS_SPARK_DIST"
docker info >/dev/null 2>&1 || die "docker engine is not running"
ensure_gnu_time
for t in curl jq ssh; do command -v "$t" >/dev/null || die "$t is required"; done
ensure_cms_built || die "cms does not build"

WORK="$(mktemp -d /tmp/cms-bench-hsubmit.XXXXXX)"
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

cms() { node bin/run.js "$@"; }
load1() { cut -d ' ' -f 1 /proc/loadavg; }

# ---------------------------------------------------------------- cluster (untimed)
CMS_CREATE_ARGS=(-e hadoop --hadoop-dist "$CMS_HADOOP_DIST" --spark-dist "$CMS_SPARK_DIST")
log "creating hadoop cluster $PREFIX ($HOSTS hosts)"
cms_create "$PREFIX" "$HOSTS" "$WORK/create.json" || { tail -n 20 "$WORK/create.json.err" >&2; die "cluster create failed"; }
NAME=$CMS_NAME
HEAD=$(jq -r '.head.host' "$CMS_HOME/access/$NAME.json" 2>/dev/null || true)
HEAD_C=$(docker ps -q --filter "label=cms.cluster=$NAME" --filter "label=cms.role=head" | head -n 1)
[[ -n "$HEAD" && "$HEAD" != null && -n "$HEAD_C" ]] || die "cannot find the head of $NAME (access file, container)"
SSH=(ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$CMS_HOME/known_hosts" -i "$CMS_HOME/keys/$NAME" "root@$HEAD")
"${SSH[@]}" true || die "OpenSSH cannot reach the head with the cluster's key: ${SSH[*]}"
RM="http://$HEAD:8088/ws/v1/cluster"
curl -fsS --max-time 10 "$RM/info" >/dev/null || die "the ResourceManager at $RM does not answer"
log "head $HEAD; ResourceManager: $(curl -fsS --max-time 10 "$RM/metrics" | jq -c '.clusterMetrics | {activeNodes, totalMB, totalVirtualCores}')"

# The job: pi.py of the Spark the cluster runs (from the head's copy), one executor of 1 core and 512m, a 512m driver.
mkdir -p "$WORK/job"
PI_REMOTE=$(docker exec "$HEAD_C" sh -c 'find /root/.cms/dist -path "*/examples/src/main/python/pi.py" | head -n 1')
[[ -n "$PI_REMOTE" ]] || die "no examples/src/main/python/pi.py in the head's Spark"
docker exec "$HEAD_C" cat "$PI_REMOTE" >"$WORK/job/pi.py"
printf '{"name": "pi", "app": "pi.py", "args": ["%s"], "driver": {"memory": "512m"}, "executor": {"instances": 1, "cores": 1, "memory": "512m"}}\n' \
  "$PI_ARGS" >"$WORK/job/pi.json"

# app_check APP_ID -> "STATE FINALSTATUS STARTED_MS FINISHED_MS ELAPSED_SECONDS" as the ResourceManager reports the
# application (startedTime: YARN accepted it; the hosts share this machine's clock).
app_check() { curl -fsS --max-time 10 "$RM/apps/$1" | jq -r '.app | "\(.state) \(.finalStatus) \(.startedTime) \(.finishedTime) \(.elapsedTime / 1000)"'; }

# cms_phase OUT -> P_WALL P_CPU P_APP P_OK
cms_phase() {
  local out=$1 state
  P_OK=0 P_APP=""
  /usr/bin/time -f '%e %U %S' -o "$out.time" timeout 900 node bin/run.js cluster submit -n "$NAME" "$WORK/job/pi.json" --wait --json \
    >"$out" 2>"$out.err" || { tail -n 20 "$out.err" >&2; log "cms: cluster submit --wait failed"; }
  read -r P_WALL u s <"$out.time"
  P_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
  P_APP=$(jq -r '.jobs[0].applicationId // empty' "$out" 2>/dev/null || true)
  state=$(jq -r '"\(.ok) \(.jobs[0].state)"' "$out" 2>/dev/null || true)
  [[ "$state" == "true SUCCEEDED" ]] && P_OK=1
  return 0
}

# ---------------------------------------------------------------- warm-up (untimed) and the peer's script
log "warm-up: one pi.py through cms (untimed)"
cms_phase "$WORK/warm.json"
((P_OK)) || die "the warm-up job did not succeed: $(jq -c '.jobs[0] | {state, applicationId}' "$WORK/warm.json" 2>/dev/null)"
WARM_ID=$(jq -r '.jobs[0].id' "$WORK/warm.json")
log "warm-up: ${P_WALL}s, $P_APP"
JOB_RECORD=$(docker exec "$HEAD_C" sh -c "cat /root/.cms/clusters/$NAME/jobs/$WARM_ID/job.json") || die "no job record of $WARM_ID on the head"
# peer.sh: cms's own argv for the job, the app pointing at the peer's copy, a tag of its own, and spark-submit waiting.
PEER_DIR=/root/bench-peer
docker exec "$HEAD_C" mkdir -p "$PEER_DIR"
docker cp -q "$WORK/job/pi.py" "$HEAD_C:$PEER_DIR/pi.py"
node -e '
const [record, dir, sparkConf] = process.argv.slice(1)
const job = JSON.parse(record)
const q = (s) => `'"'"'${String(s).replace(/'"'"'/g, `'"'"'\\'"'"''"'"'`)}'"'"'`
const argv = job.argv.map((a) => (a === job.staged.app ? `${dir}/pi.py` : a.startsWith("spark.yarn.tags=") ? "spark.yarn.tags=cms-bench-peer" : a))
const at = argv.indexOf(`${dir}/pi.py`)
if (at < 0) throw new Error(`the app ${job.staged.app} is not in the recorded argv`)
argv.splice(at, 0, "--conf", "spark.yarn.submit.waitAppCompletion=true")
console.log(["#!/usr/bin/env bash", `. ${q(sparkConf + "/spark-env.sh")}`, "export SPARK_HOME SPARK_CONF_DIR HADOOP_CONF_DIR YARN_CONF_DIR", `cd ${q(dir)}`, `exec "$SPARK_HOME/bin/spark-submit" ${argv.map(q).join(" ")}`, ""].join("\n"))
' "$JOB_RECORD" "$PEER_DIR" "/root/.cms/clusters/$NAME/spark-conf" >"$WORK/peer.sh" || die "cannot write the peer's script"
docker cp -q "$WORK/peer.sh" "$HEAD_C:$PEER_DIR/peer.sh"
log "peer: $(tail -n 2 "$WORK/peer.sh" | head -n 1 | cut -c1-400)"

# peer_phase OUT -> P_WALL P_CPU P_APP P_OK
peer_phase() {
  local out=$1 rc=0
  P_OK=0 P_APP=""
  /usr/bin/time -f '%e %U %S' -o "$out.time" timeout 900 "${SSH[@]}" bash "$PEER_DIR/peer.sh" >"$out" 2>&1 || rc=$?
  read -r P_WALL u s <"$out.time"
  P_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
  P_APP=$(grep -oE 'application_[0-9]+_[0-9]+' "$out" | tail -n 1 || true)
  ((rc == 0)) && grep -q 'final status: SUCCEEDED' "$out" && P_OK=1
  ((P_OK)) || { log "peer: spark-submit exited $rc"; tail -n 20 "$out" >&2; }
  return 0
}

# ---------------------------------------------------------------- phases
CMS_WALLS=() CMS_CPUS=() CMS_APPS=() CMS_LOADS=() CMS_OVER=() CMS_SPLIT=()
PEER_WALLS=() PEER_CPUS=() PEER_APPS=() PEER_LOADS=() PEER_OVER=() PEER_SPLIT=()
FAILED=""
phase() { # phase cms|peer N
  local side=$1 n=$2 l0 check over t0 t1 started finished split
  sleep "$PAUSE"
  l0=$(load1)
  log "$side: run $n"
  t0=$(date +%s%3N)
  "${side}_phase" "$WORK/$side-$n.out"
  t1=$(date +%s%3N)
  check=$([[ -n "$P_APP" ]] && app_check "$P_APP" || echo "no application")
  log "$side: run $n took ${P_WALL}s (client CPU ${P_CPU}s), $P_APP: $check"
  if ((P_OK == 0)) || [[ "$check" != "FINISHED SUCCEEDED "* ]]; then
    FAILED+="$side run $n: ok=$P_OK, $P_APP $check; "
    return 0
  fi
  read -r _ _ started finished _ <<<"$check"
  over=$(awk -v w="$P_WALL" -v a="${check##* }" 'BEGIN { printf "%.2f", w - a }')
  # Before YARN accepted the application / after it finished until the client returned.
  split="$(awk -v a="$t0" -v b="$started" 'BEGIN { printf "%.2f", (b - a) / 1000 }')+$(awk -v a="$finished" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1000 }')"
  if [[ $side == cms ]]; then
    CMS_SPLIT+=("$split")
    CMS_OVER+=("$over")
    CMS_WALLS+=("$P_WALL") CMS_CPUS+=("$P_CPU") CMS_APPS+=("${check##* }") CMS_LOADS+=("$l0/$(load1)")
  else
    PEER_SPLIT+=("$split")
    PEER_OVER+=("$over")
    PEER_WALLS+=("$P_WALL") PEER_CPUS+=("$P_CPU") PEER_APPS+=("${check##* }") PEER_LOADS+=("$l0/$(load1)")
  fi
}
LOAD_BEFORE=$(load_avg)
for ((r = 1; r <= RUNS; r++)); do
  if ((r % 2)); then phase cms "$r"; phase peer "$r"; else phase peer "$r"; phase cms "$r"; fi
done
LOAD_AFTER=$(load_avg)

# ---------------------------------------------------------------- report
C=$( ((${#CMS_WALLS[@]})) && echo "${CMS_WALLS[*]}" | median || echo "")
P=$( ((${#PEER_WALLS[@]})) && echo "${PEER_WALLS[*]}" | median || echo "")
CA=$( ((${#CMS_APPS[@]})) && echo "${CMS_APPS[*]}" | median || echo "")
CO=$( ((${#CMS_OVER[@]})) && echo "${CMS_OVER[*]}" | median || echo "")
PO=$( ((${#PEER_OVER[@]})) && echo "${PEER_OVER[*]}" | median || echo "")
PA=$( ((${#PEER_APPS[@]})) && echo "${PEER_APPS[*]}" | median || echo "")
R=$([[ -n "$C" && -n "$P" ]] && ratio "$C" "$P" || echo "n/a")
{
  echo "### pi.py on YARN: cms cluster submit --wait vs spark-submit --deploy-mode cluster on the head"
  echo
  echo "Machine: $(machine_line); cluster: $HOSTS docker hosts made by cms -e hadoop ($(basename "$CMS_HADOOP_DIST"), $(basename "$CMS_SPARK_DIST")); pi.py $PI_ARGS, a 512m driver (the ApplicationMaster), one executor of 1 core and 512m. Runs: $RUNS per side (median; they alternate cms, peer, peer, cms, ...)."
  echo "Load average (1/5/15 min) at start: $LOAD_BEFORE; at end: $LOAD_AFTER ($(nproc) CPUs)."
  echo
  echo "| client | wall until the client returns (s) | the application in YARN: elapsedTime (s) | wall - elapsedTime (s) | client CPU user+sys (s) | load avg 1 min, start/end |"
  echo "|---|---:|---:|---:|---:|---|"
  echo "| cms cluster submit --wait | $(fmt "$C") ($(fmt "${CMS_WALLS[*]}")) | $(fmt "$CA") ($(fmt "${CMS_APPS[*]}")) | $(fmt "$CO") ($(fmt "${CMS_OVER[*]}")) | $(fmt "${CMS_CPUS[*]}") | $(fmt "${CMS_LOADS[*]}") |"
  echo "| ssh head spark-submit (waitAppCompletion=true) | $(fmt "$P") ($(fmt "${PEER_WALLS[*]}")) | $(fmt "$PA") ($(fmt "${PEER_APPS[*]}")) | $(fmt "$PO") ($(fmt "${PEER_OVER[*]}")) | $(fmt "${PEER_CPUS[*]}") | $(fmt "${PEER_LOADS[*]}") |"
  echo
  echo "cms / spark-submit, wall: **$R** (goal <= 1.10: $(pass "$R" 1.1)); the time outside the application (wall - elapsedTime: submission, the client JVM, the wait's polling): $([[ -n "$CO" && -n "$PO" ]] && ratio "$CO" "$PO" || echo n/a)x."
  echo "Outside the application, each run as (client start to YARN's startedTime)+(finishedTime to the client's exit), s: cms $(fmt "${CMS_SPLIT[*]}"); spark-submit $(fmt "${PEER_SPLIT[*]}")."
  echo "Medians with each run in parentheses. The application's own time varies by several seconds between runs on this shared machine; "wall - elapsedTime" is what the client adds around it."
  echo "Client CPU is this machine's (cms: Node; the peer: the ssh client only: spark-submit's JVM runs on the head in both cases)."
  echo "cms's wall includes Node start, the SSH connect, pi.py's upload and the job record; the peer's copy of pi.py is made beforehand."
  [[ -z "$FAILED" ]] || { echo; echo "**Failed phases (not counted):** $FAILED"; }
  for r in "${CMS_RETRIES[@]}"; do echo; echo "Note: cms $r"; done
} >"$RESULTS_DIR/hadoop-submit-vs-spark-submit.md"

jnum() { [[ -n "$1" && "$1" != n/a ]] && echo "$1" || echo null; }
jlist() { local IFS=,; echo "[$*]"; }
cat >"$RESULTS_DIR/hadoop-submit-vs-spark-submit.json" <<EOF
{
  "hosts": $HOSTS,
  "runs": $RUNS,
  "piArgs": $PI_ARGS,
  "loadBefore": "$LOAD_BEFORE", "loadAfter": "$LOAD_AFTER",
  "cms": {"wallSeconds": $(jlist "${CMS_WALLS[@]}"), "medianSeconds": $(jnum "$C"), "appSeconds": $(jlist "${CMS_APPS[@]}"), "cpuSeconds": $(jlist "${CMS_CPUS[@]}"), "outsideAppSeconds": $(jlist "${CMS_OVER[@]}"), "beforePlusAfterApp": "${CMS_SPLIT[*]}"},
  "sparkSubmit": {"wallSeconds": $(jlist "${PEER_WALLS[@]}"), "medianSeconds": $(jnum "$P"), "appSeconds": $(jlist "${PEER_APPS[@]}"), "cpuSeconds": $(jlist "${PEER_CPUS[@]}"), "outsideAppSeconds": $(jlist "${PEER_OVER[@]}"), "beforePlusAfterApp": "${PEER_SPLIT[*]}"},
  "failed": $(node -e 'console.log(JSON.stringify(process.argv[1] || null))' "$FAILED"),
  "ratioCmsOverSparkSubmit": $(jnum "$R")
}
EOF
cat "$RESULTS_DIR/hadoop-submit-vs-spark-submit.md"
[[ -z "$FAILED" && -n "$C" && -n "$P" ]]
