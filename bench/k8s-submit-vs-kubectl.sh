#!/usr/bin/env bash
# Peer comparison: creating BENCH_JOBS (20) Kubernetes Jobs on one Kubernetes cluster (2 docker hosts)
#   cms:  ONE `cms cluster submit -n NAME job-1.yaml ... job-20.yaml` call (no --wait): cms resolves each object's
#         kind on the API, dry-runs every object (server-side apply, dryRun=All), then applies each one (server-side
#         apply, field manager cms), over an SSH forward to the API server on the head, with the admin certificate;
#   peer: BENCH_JOBS `kubectl apply --server-side -f FILE` invocations (kubectl from the same Kubernetes archive cms
#         ships), one after another, through `cms cluster tunnel -n NAME -- ...` (which sets KUBECONFIG to a 0600
#         kubeconfig for the tunnel's local port). Only the loop is timed (date +%s%N inside the command), so the
#         tunnel's own start is not counted against kubectl.
# Measured per side: wall time until every Job is created and client CPU (user+sys): cms with /usr/bin/time (the
# whole command: Node start, SSH, forward, the dry runs and the applies), kubectl with bash's `times` for the kubectl
# processes of the loop (and, as context, /usr/bin/time of the whole tunnel command). kubectl's discovery cache is a
# fresh folder per phase (--cache-dir): the first invocation fills it, the other ones reuse it, as on a user's machine.
# Creation is checked on the API (kubectl get jobs -l PHASE-LABEL through the tunnel): each phase must create
# BENCH_JOBS Jobs. Between phases the script waits (bounded) until the phase's Jobs are Complete, then deletes them
# with their pods (foreground, waited for), so the next phase starts on an idle cluster.
# For context (BENCH_K8S_WAIT=0 skips it): one more cms phase with --wait, a fresh set of Jobs: time until all are
# Complete (pods scheduled, started and finished on the 2 nodes).
#
# Env knobs:
#   BENCH_JOBS=20          Jobs per phase
#   BENCH_RUNS=1           phases per side (alternating; the median is reported)
#   BENCH_K8S_WAIT=1       0 skips the cms --wait phase
#   BENCH_PAUSE=10         seconds of quiet after each phase's Jobs are deleted (the nodes tear their pods down)
#   BENCH_PREFIX=ksbench<pid>   names of this run's cluster and Jobs
#   BENCH_SETUP=0          skip testbed/build setup (run.sh already did it)
#   CMS_K8S_DIST, CMS_COREDNS_DIST   the archives (else `scripts/testbed.sh --kubernetes`)
# Writes bench/results/k8s-submit-vs-kubectl.{md,json}; prints the table to stdout. Progress goes to stderr.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

JOBS=${BENCH_JOBS:-20}
RUNS=${BENCH_RUNS:-1}
WAIT_PHASE=${BENCH_K8S_WAIT:-1}
PAUSE=${BENCH_PAUSE:-10}
PREFIX=${BENCH_PREFIX:-ksbench$$}
[[ "$JOBS" =~ ^[1-9][0-9]*$ && "$JOBS" -le 200 ]] || die "BENCH_JOBS must be 1..200"
[[ "$RUNS" =~ ^[1-9]$ ]] || die "BENCH_RUNS must be 1..9"
[[ "$PAUSE" =~ ^[0-9]+$ && "$PAUSE" -le 300 ]] || die "BENCH_PAUSE must be 0..300"
[[ "$PREFIX" =~ ^[a-z][a-z0-9]{0,15}$ ]] || die "BENCH_PREFIX must be a lowercase name of at most 16 characters"
NAME=${PREFIX}sub
# Every Job carries this label with its phase as value: how the API is asked for a phase's Jobs.
PHASE_LABEL=cms-bench-phase
# A pod image every node has without a registry (cms imports it for cluster DNS): prints its version and exits 0.
IMAGE=cms.local/coredns:1.12.4

if [[ "${BENCH_SETUP:-1}" != 0 ]]; then
  ensure_testbed
fi
ensure_k8s_dist
ensure_cms_built || die "cms does not build"
ensure_gnu_time
command -v jq >/dev/null || die "jq is required"
docker info >/dev/null 2>&1 || die "docker engine is not running"

WORK="$(mktemp -d /tmp/cms-bench-k8s-submit.XXXXXX)"
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
pin_k8s_dist "$WORK"
CMS_CREATE_ARGS=(-e kubernetes --k8s-dist "$CMS_K8S_DIST" --coredns-dist "$CMS_COREDNS_DIST" --local-path-dist "$CMS_LOCAL_PATH_DIST")

# ---------------------------------------------------------------- fixtures (cached, untimed)
# The native client: kubectl from the archive cms ships.
CACHE="$REPO_DIR/.cache/bench-k8s/$(basename "$CMS_K8S_DIST" .tgz)"
KUBECTL="$CACHE/kubectl"
if [[ ! -x "$KUBECTL" ]]; then
  log "unpacking kubectl from $(basename "$CMS_K8S_DIST") into $CACHE (once)"
  rm -rf "$CACHE" && mkdir -p "$CACHE"
  tar -xzf "$CMS_K8S_DIST" -C "$CACHE" --strip-components=1 bin/kubectl
  chmod 0755 "$KUBECTL"
fi
"$KUBECTL" version --client >/dev/null || die "$KUBECTL does not run"

# write_jobs DIR PHASE: BENCH_JOBS Jobs PHASE-1 ... PHASE-N in the default namespace, identical but for their names,
# one file each; one pod each that prints the image's version and exits 0 (no retries, small requests).
write_jobs() {
  local dir=$1 p=$2 i
  mkdir -p "$dir"
  for ((i = 1; i <= JOBS; i++)); do
    cat >"$dir/job-$i.yaml" <<EOF
apiVersion: batch/v1
kind: Job
metadata:
  name: $p-$i
  labels:
    $PHASE_LABEL: $p
spec:
  backoffLimit: 0
  template:
    metadata:
      labels:
        $PHASE_LABEL: $p
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: $IMAGE
          imagePullPolicy: Never
          args: ["-version"]
          resources:
            requests:
              cpu: 10m
              memory: 16Mi
EOF
  done
}

# The peer's loop, run inside the tunnel: one invocation per file, one after another. Writes
# "<wall ms> <failed> <children user s> <children sys s>" to $4 (CPU of the kubectl processes, from bash's `times`).
cat >"$WORK/native-loop.sh" <<'EOF'
#!/usr/bin/env bash
kubectl=$1 dir=$2 cache=$3 out=$4 failed=0
t0=$(date +%s%N)
for f in "$dir"/job-*.yaml; do "$kubectl" apply --server-side --cache-dir "$cache" -f "$f" >/dev/null || failed=$((failed + 1)); done
t1=$(date +%s%N)
times >"$out.times" # in this shell: its second line is the CPU of the children it waited for (the kubectl runs)
cpu=$(sed -n 2p "$out.times" | awk '{ for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); printf "%.3f ", a[1] * 60 + a[2] } }')
echo "$(( (t1 - t0) / 1000000 )) $failed $cpu" >"$out"
EOF
chmod +x "$WORK/native-loop.sh"

# ---------------------------------------------------------------- cluster (untimed)
log "creating Kubernetes cluster $NAME (2 hosts)"
cms_create "$NAME" 2 "$WORK/create.json" || { tail -n 20 "$WORK/create.json.err" >&2; die "cluster create failed"; }
NAME=$CMS_NAME
K8S_VERSION=$("$KUBECTL" version --client -o json | jq -r '.clientVersion.gitVersion')

# kube ARGS...: kubectl through a fresh tunnel (its own discovery cache in WORK, so none lands in ~/.kube).
kube() { timeout 300 node bin/run.js cluster tunnel -n "$NAME" -- "$KUBECTL" --cache-dir "$WORK/kube-cache-checks" "$@" 2>>"$WORK/tunnel.err"; }
created() { kube get jobs -l "$PHASE_LABEL=$1" -o json | jq '.items | length'; }
# Waits (bounded by kubectl's --timeout) until every Job of a phase is Complete, then deletes them and their pods
# (foreground: kubectl returns once the API shows them gone, bounded too), then pauses BENCH_PAUSE seconds: the
# kubelets and containerd tear the pods' sandboxes down after the API forgets them, and that work must not land in
# the next phase's timing.
settle() {
  local p=$1 done_n
  kube wait --for=condition=complete job -l "$PHASE_LABEL=$p" --timeout=240s >/dev/null ||
    log "warning: not every Job of $p is Complete after 240 s"
  done_n=$(kube get jobs -l "$PHASE_LABEL=$p" -o json | jq '[.items[] | select(.status.succeeded == 1)] | length') || done_n=0
  kube delete jobs -l "$PHASE_LABEL=$p" --cascade=foreground --wait --timeout=180s >/dev/null ||
    log "warning: the Jobs of $p are not all gone after 180 s"
  sleep "$PAUSE"
  echo "$done_n"
}

# Untimed: both nodes Ready and the API answering before any phase (the create ends there already; this checks it).
nodes_ready() { [[ "$(kube get nodes -o json | jq '[.items[] | select(any(.status.conditions[]; .type == "Ready" and .status == "True"))] | length')" == 2 ]]; }
wait_for 60 nodes_ready || die "the cluster does not report 2 Ready nodes"

CMS_WALLS=() CMS_CPUS=() CMS_USERS=() CMS_SYSS=() CMS_SELFS=() CMS_MADE=() CMS_DONE=() CMS_LOADS=()
KC_WALLS=() KC_CPUS=() KC_USERS=() KC_SYSS=() KC_FAILS=() KC_MADE=() KC_DONE=() KC_LOADS=() KC_TUNNEL=()
cpu() { awk -v u="$1" -v s="$2" 'BEGIN { printf "%.2f", u + s }'; }

phase_cms() { # phase_cms RUN
  local p="${PREFIX}-cms$1" load0 t0 t1 u s
  write_jobs "$WORK/$p" "$p"
  load0=$(cut -d ' ' -f 1 /proc/loadavg)
  log "cms: submitting $JOBS Job manifests in one call ($p-*)"
  t0=$(now)
  /usr/bin/time -f '%U %S' -o "$WORK/$p.time" \
    timeout 600 node bin/run.js cluster submit -n "$NAME" "$WORK/$p"/job-*.yaml --json >"$WORK/$p.json" 2>"$WORK/$p.err" ||
    { tail -n 20 "$WORK/$p.err" >&2; die "cms cluster submit failed"; }
  t1=$(now)
  read -r u s <"$WORK/$p.time"
  CMS_WALLS+=("$(elapsed "$t0" "$t1")") CMS_USERS+=("$u") CMS_SYSS+=("$s") CMS_CPUS+=("$(cpu "$u" "$s")")
  CMS_SELFS+=("$(jq -r '.seconds // "n/a"' "$WORK/$p.json")")
  CMS_LOADS+=("$load0 / $(cut -d ' ' -f 1 /proc/loadavg)")
  [[ "$(jq '.jobs | length' "$WORK/$p.json")" == "$JOBS" ]] || die "cms printed $(jq '.jobs | length' "$WORK/$p.json") jobs, not $JOBS"
  CMS_MADE+=("$(created "$p")")
  log "cms: ${CMS_WALLS[-1]}s wall, ${u}+${s}s CPU, the API lists ${CMS_MADE[-1]} Jobs $p-*"
  CMS_DONE+=("$(settle "$p")")
}

phase_kubectl() { # phase_kubectl RUN
  local p="${PREFIX}-kc$1" load0 ms failed u s tu ts
  write_jobs "$WORK/$p" "$p"
  load0=$(cut -d ' ' -f 1 /proc/loadavg)
  log "kubectl: $JOBS x kubectl apply --server-side through cms cluster tunnel ($p-*)"
  /usr/bin/time -f '%U %S' -o "$WORK/$p.tunnel-time" \
    timeout 900 node bin/run.js cluster tunnel -n "$NAME" -- "$WORK/native-loop.sh" "$KUBECTL" "$WORK/$p" "$WORK/$p.kube-cache" "$WORK/$p.loop" \
    >/dev/null 2>"$WORK/$p.err" || { tail -n 20 "$WORK/$p.err" >&2; die "cms cluster tunnel -- kubectl loop failed"; }
  read -r ms failed u s <"$WORK/$p.loop"
  read -r tu ts <"$WORK/$p.tunnel-time"
  KC_WALLS+=("$(awk -v m="$ms" 'BEGIN { printf "%.2f", m / 1000 }')") KC_FAILS+=("$failed")
  KC_USERS+=("$u") KC_SYSS+=("$s") KC_CPUS+=("$(cpu "$u" "$s")") KC_TUNNEL+=("$(cpu "$tu" "$ts")")
  KC_LOADS+=("$load0 / $(cut -d ' ' -f 1 /proc/loadavg)")
  KC_MADE+=("$(created "$p")")
  log "kubectl: ${KC_WALLS[-1]}s loop, ${u}+${s}s CPU (whole tunnel command: ${KC_TUNNEL[-1]}s), $failed failed, the API lists ${KC_MADE[-1]} Jobs $p-*"
  KC_DONE+=("$(settle "$p")")
}

# Context: a fresh set with --wait, timed until cms reports every Job Complete.
WAIT_WALL="" WAIT_OK="" WAIT_DONE="" WAIT_LOAD=""
phase_wait() {
  local p="${PREFIX}-wait" load0 t0 t1
  write_jobs "$WORK/$p" "$p"
  load0=$(cut -d ' ' -f 1 /proc/loadavg)
  log "cms --wait: submitting $JOBS Job manifests in one call and following them to the end ($p-*)"
  t0=$(now)
  timeout 600 node bin/run.js cluster submit -n "$NAME" "$WORK/$p"/job-*.yaml --wait --timeout 300 --json >"$WORK/$p.json" 2>"$WORK/$p.err" ||
    log "warning: cms cluster submit --wait exited non-zero: $(tail -n 3 "$WORK/$p.err" | tr '\n' ' ')"
  t1=$(now)
  WAIT_WALL=$(elapsed "$t0" "$t1")
  WAIT_OK=$(jq -r '.ok // false' "$WORK/$p.json" 2>/dev/null || echo false)
  WAIT_LOAD="$load0 / $(cut -d ' ' -f 1 /proc/loadavg)"
  WAIT_DONE=$(settle "$p")
  log "cms --wait: ${WAIT_WALL}s until cms reported the end (ok=$WAIT_OK), $WAIT_DONE Jobs Complete per the API"
}

LOAD_BEFORE=$(load_avg)
for ((r = 1; r <= RUNS; r++)); do
  if ((r % 2)); then phase_cms "$r"; phase_kubectl "$r"; else phase_kubectl "$r"; phase_cms "$r"; fi
done
[[ "$WAIT_PHASE" == 0 ]] || phase_wait
LOAD_AFTER=$(load_avg)

# ---------------------------------------------------------------- report
med() { echo "$*" | median; }
CW=$(med "${CMS_WALLS[*]}") CC=$(med "${CMS_CPUS[*]}") KW=$(med "${KC_WALLS[*]}") KCC=$(med "${KC_CPUS[*]}")
RT=$(ratio "$KW" "$CW")
RC=$(ratio "$KCC" "$CC")
{
  echo "### Create $JOBS Kubernetes Jobs: cms vs kubectl apply"
  echo
  echo "Machine: $(machine_line); cluster: 2 docker hosts (Kubernetes $K8S_VERSION, API server on the head, client certificate); $(node --version)."
  echo "Load average (1/5/15 min) at start: $LOAD_BEFORE; at end: $LOAD_AFTER ($(nproc) CPUs). Runs per side: $RUNS (median)."
  echo
  echo "| client | run | wall until all created (s) | client CPU user+sys (s) | created (API) | Complete (API) | failed | load avg start / end |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for ((i = 0; i < RUNS; i++)); do
    echo "| cms cluster submit, 1 call x $JOBS files | $((i + 1)) | ${CMS_WALLS[$i]} | ${CMS_CPUS[$i]} (${CMS_USERS[$i]}+${CMS_SYSS[$i]}) | ${CMS_MADE[$i]} | ${CMS_DONE[$i]} | 0 | ${CMS_LOADS[$i]} |"
    echo "| kubectl apply --server-side x $JOBS (loop only) | $((i + 1)) | ${KC_WALLS[$i]} | ${KC_CPUS[$i]} (${KC_USERS[$i]}+${KC_SYSS[$i]}) | ${KC_MADE[$i]} | ${KC_DONE[$i]} | ${KC_FAILS[$i]} | ${KC_LOADS[$i]} |"
  done
  echo
  echo "- kubectl / cms: time **${RT}x**, client CPU **${RC}x** (same run)"
  echo "- cms wall is the whole command (Node start, SSH connect, forward, kind resolution, a dry run of all $JOBS Jobs, then $JOBS applies); cms's own \`seconds\`: ${CMS_SELFS[*]}"
  echo "- kubectl's wall and CPU cover only its loop (\`date +%s%N\` and bash's \`times\` inside the tunnel command); the whole tunnel command (cms tunnel process included) used ${KC_TUNNEL[*]} s CPU"
  if [[ "$WAIT_PHASE" != 0 ]]; then
    echo "- context: \`cms cluster submit --wait\` of $JOBS fresh Jobs: **${WAIT_WALL} s** until every one Complete (cms says ok=$WAIT_OK; the API: $WAIT_DONE Complete; load $WAIT_LOAD)"
  fi
  echo
} >"$RESULTS_DIR/k8s-submit-vs-kubectl.md"

jnum() { [[ -n "$1" && "$1" != n/a ]] && echo "$1" || echo null; }
cat >"$RESULTS_DIR/k8s-submit-vs-kubectl.json" <<EOF
{
  "jobs": $JOBS,
  "runs": $RUNS,
  "kubernetes": "$K8S_VERSION",
  "loadBefore": "$LOAD_BEFORE", "loadAfter": "$LOAD_AFTER",
  "cms": {"wallSeconds": [$(IFS=,; echo "${CMS_WALLS[*]}")], "cpuSeconds": [$(IFS=,; echo "${CMS_CPUS[*]}")], "selfSeconds": [$(IFS=,; echo "${CMS_SELFS[*]}")], "created": [$(IFS=,; echo "${CMS_MADE[*]}")], "complete": [$(IFS=,; echo "${CMS_DONE[*]}")]},
  "kubectl": {"wallSeconds": [$(IFS=,; echo "${KC_WALLS[*]}")], "cpuSeconds": [$(IFS=,; echo "${KC_CPUS[*]}")], "tunnelCommandCpuSeconds": [$(IFS=,; echo "${KC_TUNNEL[*]}")], "failed": [$(IFS=,; echo "${KC_FAILS[*]}")], "created": [$(IFS=,; echo "${KC_MADE[*]}")], "complete": [$(IFS=,; echo "${KC_DONE[*]}")]},
  "cmsWait": $(if [[ "$WAIT_PHASE" == 0 ]]; then echo null; else echo "{\"wallSeconds\": $(jnum "$WAIT_WALL"), \"ok\": ${WAIT_OK:-false}, \"complete\": $(jnum "$WAIT_DONE")}"; fi),
  "ratioTime": $(jnum "$RT"),
  "ratioCpu": $(jnum "$RC")
}
EOF
cat "$RESULTS_DIR/k8s-submit-vs-kubectl.md"
ok=1
for ((i = 0; i < RUNS; i++)); do
  [[ "${CMS_MADE[$i]}" == "$JOBS" && "${KC_MADE[$i]}" == "$JOBS" && "${KC_FAILS[$i]}" == 0 ]] || ok=0
done
((ok)) || die "the API did not list $JOBS new Jobs in every phase"
