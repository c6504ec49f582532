#!/usr/bin/env bash
# Peer comparison: `cms cluster create` vs an Ansible playbook doing the same work on the same kind of fresh
# container hosts (same host image, same Spark tarball). Both timings include starting the containers.
#
# Env knobs:
#   BENCH_HOSTS=8          hosts for the head-to-head comparison
#   BENCH_RUNS=1           repetitions of each timed create (median is reported)
#   BENCH_RATIO_SIZES="1 3 8"  cluster sizes for cms's upload ratio (and 1-vs-N timing)
#   BENCH_SKIP_CMS=1 / BENCH_SKIP_ANSIBLE=1   run only one half
#   BENCH_SETUP=0          skip tool/testbed setup (run.sh already did it)
# Writes bench/results/create-vs-ansible.{md,json}; prints the markdown table to stdout.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

N=${BENCH_HOSTS:-8}
RUNS=${BENCH_RUNS:-1}
RATIO_SIZES=${BENCH_RATIO_SIZES:-"1 3 $N"}
SKIP_CMS=${BENCH_SKIP_CMS:-0}
SKIP_ANSIBLE=${BENCH_SKIP_ANSIBLE:-0}
LABEL=cms.bench=1
NET=cms-bench-net
IMAGE=cms-bench-host
CMS_PREFIX=bench$$

if [[ "${BENCH_SETUP:-1}" != 0 ]]; then
  ensure_tools
  ensure_testbed
fi
[[ -f "${CMS_SPARK_DIST:-}" ]] || die "CMS_SPARK_DIST is not set (eval \"\$(bash scripts/testbed.sh)\")"
docker info >/dev/null 2>&1 || die "docker engine is not running"

WORK="$(mktemp -d /tmp/cms-bench.XXXXXX)"
export CMS_HOME="$WORK/cms-home"
mkdir -p "$CMS_HOME"

remove_bench_docker() { remove_by_label "$LABEL"; }

cleanup() {
  local rc=$?
  set +e
  kill_cms_clusters
  remove_bench_docker
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

DIST_BYTES=$(stat -c %s "$CMS_SPARK_DIST")
DIST_MB=$(awk -v b="$DIST_BYTES" 'BEGIN { printf "%.0f", b / 1048576 }')
log "Spark dist: $CMS_SPARK_DIST ($DIST_MB MiB), hosts=$N, runs=$RUNS"

# ---------------------------------------------------------------- Ansible
ANSIBLE_TIMES=()
ANSIBLE_RX=""
ANSIBLE_1_TIME=""
ANSIBLE_1_RX=""
ANSIBLE_ERROR=""

ansible_setup() {
  log "building $IMAGE from images/host (should hit the layer cache)"
  docker build -q -t "$IMAGE" images/host >/dev/null || { ANSIBLE_ERROR="docker build of images/host failed"; return 1; }
  ssh-keygen -q -t ed25519 -N '' -C cms-bench -f "$WORK/bench_key"
  # Top-level directories to strip so the tree lands directly in spark_home.
  local first
  first="$(tar -tzf "$CMS_SPARK_DIST" | head -n 1 || true)"
  STRIP=0
  [[ "$first" == */* || "$first" == */ ]] && STRIP=1
  [[ "$first" == ./* ]] && STRIP=$((STRIP + 1))
  write_ansible_cfg "$WORK/ansible.cfg"
}

# ansible_run HOSTS -> sets LAST_SECONDS, LAST_RX
ansible_run() {
  local hosts=$1 t0 t1
  remove_bench_docker
  : >"$WORK/known_hosts"

  t0=$(now)
  # ---- timed: network + containers (cms create does the same), then the playbook
  bench_hosts_up "$NET" cms-bench "$hosts" "$IMAGE" -e CMS_AUTHORIZED_KEY="$(cat "$WORK/bench_key.pub")" ||
    { ANSIBLE_ERROR="docker run failed ($hosts hosts)"; return 1; }
  write_inventory spark "$WORK/inventory.ini" "$WORK/bench_key" "$WORK/known_hosts"
  if ! ANSIBLE_CONFIG="$WORK/ansible.cfg" timeout 900 ansible-playbook -i "$WORK/inventory.ini" \
    -e "spark_dist=$CMS_SPARK_DIST" -e "spark_strip=$STRIP" "$BENCH_DIR/ansible/site.yml" >"$WORK/ansible.log" 2>&1; then
    tail -n 40 "$WORK/ansible.log" >&2
    cp "$WORK/ansible.log" "$RESULTS_DIR/ansible-$hosts-hosts.log"
    ANSIBLE_ERROR="ansible-playbook failed ($hosts hosts; see bench/results/ansible-$hosts-hosts.log): $(grep -m1 -E 'fatal:|FAILED' "$WORK/ansible.log" | cut -c1-300)"
    return 1
  fi
  t1=$(now)
  # ---- untimed
  LAST_SECONDS=$(elapsed "$t0" "$t1")
  LAST_RX=$(rx_sum "${BENCH_HOST_NAMES[@]}")
  grep -E ' -+ +[0-9.]+s$' "$WORK/ansible.log" | sed 's/^/  ansible task: /' >&2 || true
  cp "$WORK/ansible.log" "$RESULTS_DIR/ansible-$hosts-hosts.log"
  remove_bench_docker
}

# ---------------------------------------------------------------- cms
declare -A CMS_TIMELIST=() CMS_TIMES=() CMS_RATIO=() CMS_UPLOADED=() CMS_SECONDS=() CMS_HEAD_RX=()
CMS_ERROR=""
CMS_OK=0


cms_warm() {
  if ! { ensure_cms_built && node bin/run.js --version >/dev/null 2>&1; }; then
    CMS_ERROR="cms does not build or run (npm run build / node bin/run.js --version)"
    log "cms: $CMS_ERROR"
    return 0
  fi
  log "cms: warm-up create+kill of 1 host (builds the host image if needed; untimed)"
  if cms_create "${CMS_PREFIX}w" 1 "$WORK/warm.json"; then
    cms_kill "$CMS_NAME" || true
    CMS_OK=1
  else
    CMS_ERROR="warm-up create failed: $(tail -n 5 "$WORK/warm.json.err" | tr '\n' ' ')"
    log "cms: $CMS_ERROR"
    cms_kill "$CMS_NAME" || true
  fi
}

cms_measure() { # cms_measure HOSTS RUN
  local n=$1 r=$2 out t0 t1 head
  ((CMS_OK)) || return 0
  out="$WORK/cms-$n-$r.json"
  log "cms: create $n hosts, run $r"
  t0=$(now)
  if ! cms_create "${CMS_PREFIX}n${n}r${r}" "$n" "$out"; then
    CMS_ERROR="create --hosts $n failed: $(grep -v -e '^❯' -e '^✔' "$out.err" | tail -n 5 | tr '\n' ' ')"
    log "cms: $CMS_ERROR"
    cms_kill "$CMS_NAME" || true
    CMS_OK=0
    return 0
  fi
  t1=$(now)
  CMS_TIMELIST[$n]="${CMS_TIMELIST[$n]:-} $(elapsed "$t0" "$t1")"
  head="$(docker ps -q --filter "label=cms.cluster=$CMS_NAME" --filter label=cms.role=head | head -n 1)"
  CMS_HEAD_RX[$n]=$([[ -n "$head" ]] && rx_sum "$head" || echo "")
  CMS_RATIO[$n]=$(json_get "$out" transfer.uploadRatio)
  CMS_UPLOADED[$n]=$(json_get "$out" transfer.uploadedBytes)
  CMS_SECONDS[$n]=$(json_get "$out" seconds)
  cp "$out" "$RESULTS_DIR/cms-create-$n-hosts.json"
  log "cms: $n hosts took $(elapsed "$t0" "$t1")s (cms says ${CMS_SECONDS[$n]}s), uploadRatio=${CMS_RATIO[$n]}"
  cms_kill "$CMS_NAME" || true
}

ansible_measure() { # ansible_measure HOSTS RUN
  [[ "$SKIP_ANSIBLE" == 0 && -z "$ANSIBLE_ERROR" ]] || return 0
  log "ansible: $1 hosts, run $2"
  if ! ansible_run "$1"; then
    log "ansible: $ANSIBLE_ERROR"
    remove_bench_docker
    return 0
  fi
  log "ansible: $1 hosts took ${LAST_SECONDS}s, containers received $LAST_RX bytes"
  if [[ "$1" == "$N" ]]; then
    ANSIBLE_TIMES+=("$LAST_SECONDS")
    ANSIBLE_RX=$LAST_RX
  else
    ANSIBLE_1_TIME=$LAST_SECONDS
    ANSIBLE_1_RX=$LAST_RX
  fi
}

# ---------------------------------------------------------------- schedule
# The N-host timings alternate tool by tool, so a change in machine load hits both alike.
[[ "$SKIP_ANSIBLE" != 0 ]] || ansible_setup || log "ansible: ${ANSIBLE_ERROR:=setup failed}"
[[ "$SKIP_CMS" != 0 ]] || cms_warm
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= RUNS; r++)); do
  ansible_measure "$N" "$r"
  cms_measure "$N" "$r"
done
for ((r = 1; r <= RUNS; r++)); do cms_measure 1 "$r"; done
ansible_measure 1 1
for n in $RATIO_SIZES; do
  [[ "$n" == 1 || "$n" == "$N" ]] || cms_measure "$n" 1
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
for n in "${!CMS_TIMELIST[@]}"; do CMS_TIMES[$n]=$(echo "${CMS_TIMELIST[$n]}" | median); done

# ---------------------------------------------------------------- report
A8=$( ((${#ANSIBLE_TIMES[@]})) && echo "${ANSIBLE_TIMES[*]}" | median || echo "")
C8=${CMS_TIMES[$N]:-}
C1=${CMS_TIMES[1]:-}
R=$([[ -n "$A8" && -n "$C8" ]] && ratio "$C8" "$A8" || echo "n/a")
ANS_RX_RATIO=$([[ -n "$ANSIBLE_RX" ]] && ratio "$ANSIBLE_RX" "$DIST_BYTES" || echo "n/a")

{
  echo "### Cluster create: cms vs Ansible"
  echo
  echo "Spark distribution: $(basename "$CMS_SPARK_DIST"), $DIST_BYTES bytes ($DIST_MB MiB). Runs per timing: $RUNS (median)."
  echo "Both timings include creating the bridge network and starting the containers, and end when the master reports every worker alive."
  echo "The $N-host runs alternate Ansible, cms, Ansible, cms... Load average (1/5/15 min) at start: $LOAD_BEFORE; at end: $LOAD_AFTER ($(nproc) CPUs)."
  echo
  echo "| measure | cms | Ansible | cms/Ansible | goal |"
  echo "|---|---:|---:|---:|---|"
  echo "| create $N hosts (s) | $(fmt "$C8") | $(fmt "$A8") | $R | <= 0.50 ($(pass "$R" 0.5)) |"
  A1R=$([[ -n "$C1" && -n "$ANSIBLE_1_TIME" ]] && ratio "$C1" "$ANSIBLE_1_TIME" || echo "n/a")
  echo "| create 1 host (s) | $(fmt "$C1") | $(fmt "$ANSIBLE_1_TIME") | $A1R | |"
  S1=$([[ -n "$C1" && -n "$C8" ]] && ratio "$C8" "$C1" || echo "n/a")
  SA=$([[ -n "$ANSIBLE_1_TIME" && -n "$A8" ]] && ratio "$A8" "$ANSIBLE_1_TIME" || echo "n/a")
  echo "| $N hosts / 1 host | $S1 | $SA | | |"
  echo
  echo "| upload (controller -> hosts) | hosts | cms uploadRatio (--json) | cms head eth0 rx / dist | Ansible (computed N x dist) | Ansible measured rx / dist | goal |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  for n in $(echo "$RATIO_SIZES $N" | tr ' ' '\n' | grep -v '^$' | sort -nu); do
    hr=$([[ -n "${CMS_HEAD_RX[$n]:-}" ]] && ratio "${CMS_HEAD_RX[$n]}" "$DIST_BYTES" || echo "n/a")
    mr="n/a"
    [[ "$n" == "$N" ]] && mr=$ANS_RX_RATIO
    [[ "$n" == 1 && -n "$ANSIBLE_1_RX" ]] && mr=$(ratio "$ANSIBLE_1_RX" "$DIST_BYTES")
    echo "| | $n | $(fmt "${CMS_RATIO[$n]:-}") | $hr | $n.00 | $mr | cms <= 1.1 ($(pass "${CMS_RATIO[$n]:-}" 1.1)) |"
  done
  echo
  echo "Ansible measured rx = sum of eth0 rx_bytes over its $N containers (SSH + module traffic included)."
  echo "cms head eth0 rx = bytes the head received (controller upload + small replies from workers)."
  report_notes
} >"$RESULTS_DIR/create-vs-ansible.md"

cat >"$RESULTS_DIR/create-vs-ansible.json" <<EOF
{
  "hosts": $N,
  "runs": $RUNS,
  "distributionBytes": $DIST_BYTES,
  "loadBefore": "$LOAD_BEFORE", "loadAfter": "$LOAD_AFTER",
  "cmsCreateSeconds": {$(first=1; for n in "${!CMS_TIMELIST[@]}"; do ((first)) || printf ', '; first=0; printf '"%s": [%s]' "$n" "$(echo "${CMS_TIMELIST[$n]}" | xargs | tr ' ' ',')"; done)},
  "ansible": {"createSeconds": [$(IFS=,; echo "${ANSIBLE_TIMES[*]}")], "oneHostSeconds": ${ANSIBLE_1_TIME:-null}, "rxBytes": ${ANSIBLE_RX:-null}, "oneHostRxBytes": ${ANSIBLE_1_RX:-null}},
  "cms": {$(first=1; for n in "${!CMS_TIMES[@]}"; do
    ((first)) || printf ', '; first=0
    printf '"%s": {"wallSeconds": %s, "reportedSeconds": %s, "uploadRatio": %s, "uploadedBytes": %s, "headRxBytes": %s}' \
      "$n" "${CMS_TIMES[$n]:-null}" "${CMS_SECONDS[$n]:-null}" "${CMS_RATIO[$n]:-null}" "${CMS_UPLOADED[$n]:-null}" "${CMS_HEAD_RX[$n]:-null}"
  done)},
  "cmsRetries": ${#CMS_RETRIES[@]},
  "ansibleError": $(node -e 'console.log(JSON.stringify(process.argv[1] || null))' "$ANSIBLE_ERROR"),
  "cmsError": $(node -e 'console.log(JSON.stringify(process.argv[1] || null))' "$CMS_ERROR"),
  "ratioCmsOverAnsible": $([[ "$R" == n/a ]] && echo null || echo "$R")
}
EOF

cat "$RESULTS_DIR/create-vs-ansible.md"
[[ -z "$CMS_ERROR" && -z "$ANSIBLE_ERROR" ]]
