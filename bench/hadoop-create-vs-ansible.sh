#!/usr/bin/env bash
# Peer comparison: `cms cluster create -e hadoop` vs an Ansible playbook (bench/ansible/hadoop.yml) doing the same
# work on the same kind of fresh container hosts: the host image cms's docker provider gives hadoop hosts (images/host,
# no extra docker run options), the same Hadoop runtime archive (CMS_HADOOP_DIST) and the same Spark archive cms ships
# beside it for Spark on YARN (CMS_SPARK_DIST; unpacked on the head only, its jars put into HDFS as one tar with
# PySpark's zips, which spark.yarn.archive names), the same configuration files (rendered beforehand, untimed, by
# bench/hadoop-render.ts with cms's own renderers in src/engines/hadoop), the NameNode formatted once and the same
# daemons started the same way (NameNode + ResourceManager on the head, DataNode + NodeManager on every host, the
# head included), ending when the NameNode reports every DataNode live and safe mode off, the ResourceManager
# reports every NodeManager RUNNING and Spark's jars are in HDFS. Both timings include creating the network and
# starting the containers.
#
# The playbook ships the Hadoop archive the way cms does (BENCH_ANSIBLE_SHIP=head, the default): one copy from this
# machine to the head, the other hosts fetch it from an HTTP server on the head (`python3 -m http.server`) with
# `unarchive` (remote_src). BENCH_ANSIBLE_SHIP=each pushes them from this machine to every host instead.
#
# Env knobs:
#   BENCH_HADOOP_HOSTS=4   hosts of each cluster (its own knob: run.sh's other benches default BENCH_HOSTS to 8)
#   BENCH_RUNS=1           repetitions (median is reported; they alternate Ansible, cms, ...)
#   BENCH_ANSIBLE_SHIP=head|each   how the playbook ships the archives (above)
#   BENCH_ANSIBLE_UNPACK=unarchive|stream   how it unpacks them with BENCH_ANSIBLE_SHIP=head: Ansible's unarchive
#                          module (the default: it lists and diffs each archive before extracting it) or one
#                          streamed `curl | tar -xz` per archive and host, as cms does (bench/ansible/hadoop.yml)
#   BENCH_SKIP_CMS=1 / BENCH_SKIP_ANSIBLE=1   run only one half
#   BENCH_PREFIX=hbench<pid>   names of this run's clusters, containers and network (and its cleanup label)
#   BENCH_SETUP=0          skip tool/testbed setup (run.sh already did it)
#   BENCH_KEEP_FAILED=1    leave the Ansible hosts of a failed playbook running (to look inside; remove them with
#                          docker rm -f -v $(docker ps -aq --filter label=cms.bench.run=PREFIX), then the network)
#   CMS_HADOOP_DIST / CMS_SPARK_DIST   the archives (default: `scripts/testbed.sh --hadoop`)
# Writes bench/results/hadoop-create-vs-ansible.{md,json}; prints the markdown table to stdout.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

N=${BENCH_HADOOP_HOSTS:-4}
RUNS=${BENCH_RUNS:-1}
SHIP=${BENCH_ANSIBLE_SHIP:-head}
UNPACK=${BENCH_ANSIBLE_UNPACK:-unarchive}
SKIP_CMS=${BENCH_SKIP_CMS:-0}
SKIP_ANSIBLE=${BENCH_SKIP_ANSIBLE:-0}
PREFIX=${BENCH_PREFIX:-hbench$$}
[[ "$N" =~ ^[1-9]$|^1[0-9]$ ]] || die "BENCH_HADOOP_HOSTS must be 1..19"
[[ "$RUNS" =~ ^[1-9]$ ]] || die "BENCH_RUNS must be 1..9"
[[ "$SHIP" == head || "$SHIP" == each ]] || die "BENCH_ANSIBLE_SHIP must be head or each"
[[ "$UNPACK" == unarchive || "$UNPACK" == stream ]] || die "BENCH_ANSIBLE_UNPACK must be unarchive or stream"
[[ "$PREFIX" =~ ^[a-z][a-z0-9]{0,15}$ ]] || die "BENCH_PREFIX must be a lowercase name of at most 16 characters"
BENCH_LABELS=(cms.bench=1 "cms.bench.run=$PREFIX")
NET=$PREFIX-net
IMAGE=cms-bench-host
# The Ansible cluster's name: its folders on the hosts (~/.cms/clusters/NAME) as cms lays them out.
ACLUSTER=${PREFIX}a

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

WORK="$(mktemp -d /tmp/cms-bench-hadoop.XXXXXX)"
export CMS_HOME="$WORK/cms-home"
mkdir -p "$CMS_HOME"

KEEP_HOSTS=0
remove_bench_docker() { ((KEEP_HOSTS)) || remove_by_label "cms.bench.run=$PREFIX"; }
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

# Private copies (hard links when on the same file system), so a testbed rebuilding its cache during the run cannot
# pull an archive from under either tool; same file names.
pin() { mkdir -p "$WORK/dist" && { ln "$1" "$WORK/dist/" 2>/dev/null || cp "$1" "$WORK/dist/"; } && echo "$WORK/dist/$(basename "$1")"; }
CMS_HADOOP_DIST=$(pin "$CMS_HADOOP_DIST") || die "cannot copy $CMS_HADOOP_DIST"
CMS_SPARK_DIST=$(pin "$CMS_SPARK_DIST") || die "cannot copy $CMS_SPARK_DIST"
export CMS_HADOOP_DIST CMS_SPARK_DIST
HADOOP_BYTES=$(stat -c %s "$CMS_HADOOP_DIST")
SPARK_BYTES=$(stat -c %s "$CMS_SPARK_DIST")
TOTAL_BYTES=$((HADOOP_BYTES + SPARK_BYTES))
# The archives' top folders (the homes the renderer writes into the configuration).
top_dir() { tar -tzf "$1" 2>/dev/null | head -n 1 | cut -d / -f 1 || true; }
HADOOP_TOP=$(top_dir "$CMS_HADOOP_DIST")
SPARK_TOP=$(top_dir "$CMS_SPARK_DIST")
# PySpark's zips (python/lib/*.zip), which both tools put into HDFS beside Spark's jars: a JSON array of names.
PY_ZIPS=$(tar -tzf "$CMS_SPARK_DIST" | python3 -c 'import json, re, sys; print(json.dumps(sorted({l.strip().rsplit("/", 1)[1] for l in sys.stdin if re.search(r"/python/lib/[^/]+[.]zip$", l.strip())})))')
[[ -n "$HADOOP_TOP" && -n "$SPARK_TOP" ]] || die "cannot read the archives' top folders"
# What cms's docker provider makes each host count (engine.ts plan(): the machine's memory split over the hosts).
HOST_MEMORY_MB=$(docker info -f '{{.MemTotal}}' | awk -v n="$N" '{ printf "%d", $1 / 1048576 / n }')
HOST_CORES=$(docker info -f '{{.NCPU}}')
log "Hadoop: $(basename "$CMS_HADOOP_DIST") ($HADOOP_BYTES bytes), Spark: $(basename "$CMS_SPARK_DIST") ($SPARK_BYTES bytes), hosts=$N, runs=$RUNS, ship=$SHIP, unpack=$UNPACK, prefix=$PREFIX"

# The renderer: bench/hadoop-render.ts bundled with cms's sources.
RENDER="$RESULTS_DIR/hadoop-render.bundle.mjs"
npx esbuild bench/hadoop-render.ts --bundle --platform=node --format=esm --target=node20.18 --main-fields=module,main \
  --packages=external --outfile="$RENDER" --log-level=warning || die "cannot bundle bench/hadoop-render.ts"

# ---------------------------------------------------------------- Ansible
ANSIBLE_TIMES=()
ANSIBLE_LOADS=()
ANSIBLE_NET_SECONDS=""
ANSIBLE_RX=""
ANSIBLE_ERROR=""

ansible_setup() {
  log "ansible: building $IMAGE from images/host (should hit the layer cache), key"
  docker build -q -t "$IMAGE" images/host >/dev/null || { ANSIBLE_ERROR="docker build of images/host failed"; return 1; }
  ssh-keygen -q -t ed25519 -N '' -C cms-bench -f "$WORK/bench_key"
  write_ansible_cfg "$WORK/ansible.cfg"
}

# ansible_render: cms's configuration for these hosts (files/<host>/ and group_vars/ beside the inventory).
ansible_render() {
  local spec=$WORK/spec.json i hosts=""
  for ((i = 0; i < ${#BENCH_HOST_NAMES[@]}; i++)); do hosts+="${hosts:+,}{\"name\":\"${BENCH_HOST_NAMES[$i]}\",\"address\":\"${BENCH_HOST_IPS[$i]}\"}"; done
  printf '{"cluster":"%s","home":"/root","hosts":[%s],"hadoopHome":"/root/bench/%s","sparkHome":"/root/bench/%s","sparkId":"bench","pyZips":%s,"hostMemoryMb":%s,"hostCores":%s}\n' \
    "$ACLUSTER" "$hosts" "$HADOOP_TOP" "$SPARK_TOP" "$PY_ZIPS" "$HOST_MEMORY_MB" "$HOST_CORES" >"$spec"
  rm -rf "$WORK/ansible" && mkdir -m 0700 "$WORK/ansible"
  node "$RENDER" "$spec" "$WORK/ansible" >/dev/null
}

ansible_run() { # -> LAST_SECONDS, LAST_RX
  local t0 t1 c i pids=() rc=0 labels=()
  remove_bench_docker
  : >"$WORK/known_hosts"
  ansible_net || { ANSIBLE_ERROR="docker network create failed"; return 1; }
  ansible_render || { ANSIBLE_ERROR="bench/hadoop-render.ts failed"; return 1; }
  for c in "${BENCH_LABELS[@]}"; do labels+=(--label "$c"); done

  LAST_LOAD=$(cut -d ' ' -f 1 /proc/loadavg)
  t0=$(now)
  # ---- timed: the containers as cms's docker provider makes hadoop hosts, then the playbook
  for ((i = 0; i < N; i++)); do
    c=${BENCH_HOST_NAMES[$i]}
    docker run -d --name "$c" --hostname "$c" "${labels[@]}" --network "$NET" --ip "${BENCH_HOST_IPS[$i]}" \
      -e CMS_AUTHORIZED_KEY="$(cat "$WORK/bench_key.pub")" "$IMAGE" >/dev/null &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  ((rc == 0)) || { ANSIBLE_ERROR="docker run failed"; return 1; }
  write_inventory hadoop "$WORK/ansible/inventory.ini" "$WORK/bench_key" "$WORK/known_hosts"
  if ! ANSIBLE_CONFIG="$WORK/ansible.cfg" timeout 900 ansible-playbook -i "$WORK/ansible/inventory.ini" \
    -e "hadoop_dist=$CMS_HADOOP_DIST" -e "spark_dist=$CMS_SPARK_DIST" -e "hadoop_files=$WORK/ansible/files" \
    -e "hadoop_ship=$SHIP" -e "hadoop_unpack=$UNPACK" "$BENCH_DIR/ansible/hadoop.yml" >"$WORK/ansible.log" 2>&1; then
    tail -n 40 "$WORK/ansible.log" >&2
    cp "$WORK/ansible.log" "$RESULTS_DIR/ansible-hadoop-$N-hosts.log"
    [[ "${BENCH_KEEP_FAILED:-0}" == 0 ]] || KEEP_HOSTS=1
    ANSIBLE_ERROR="ansible-playbook failed (see bench/results/ansible-hadoop-$N-hosts.log): $(grep -m1 -E 'fatal:|FAILED!' "$WORK/ansible.log" | cut -c1-300)"
    return 1
  fi
  t1=$(now)
  # ---- untimed
  LAST_SECONDS=$(elapsed "$t0" "$t1")
  LAST_SECONDS=$(awk -v a="$LAST_SECONDS" -v b="$ANSIBLE_NET_SECONDS" 'BEGIN { printf "%.2f", a + b }')
  LAST_RX=$(rx_sum "${BENCH_HOST_NAMES[@]}")
  LAST_LOAD="$LAST_LOAD/$(cut -d ' ' -f 1 /proc/loadavg)"
  grep -E ' -+ +[0-9.]+s$' "$WORK/ansible.log" | sed 's/^/  ansible task: /' >&2 || true
  cp "$WORK/ansible.log" "$RESULTS_DIR/ansible-hadoop-$N-hosts.log"
  remove_bench_docker
}

ansible_measure() { # ansible_measure RUN
  [[ "$SKIP_ANSIBLE" == 0 && -z "$ANSIBLE_ERROR" ]] || return 0
  log "ansible: $N hosts, run $1"
  if ! ansible_run; then
    log "ansible: $ANSIBLE_ERROR"
    remove_bench_docker
    return 0
  fi
  ANSIBLE_LOADS+=("$LAST_LOAD")
  log "ansible: $N hosts took ${LAST_SECONDS}s (network create ${ANSIBLE_NET_SECONDS}s included), containers received $LAST_RX bytes"
  ANSIBLE_TIMES+=("$LAST_SECONDS")
  ANSIBLE_RX=$LAST_RX
}

# ---------------------------------------------------------------- cms
CMS_CREATE_ARGS=(-e hadoop --hadoop-dist "$CMS_HADOOP_DIST" --spark-dist "$CMS_SPARK_DIST")
CMS_TIMES=()
CMS_LOADS=()
CMS_REPORTED=()
CMS_RATIO=""
CMS_RX=""
CMS_ERROR=""
CMS_OK=0

cms_warm() {
  if ! { ensure_cms_built && node bin/run.js --version >/dev/null 2>&1; }; then
    CMS_ERROR="cms does not build or run (npm run build / node bin/run.js --version)"
    log "cms: $CMS_ERROR"
    return 0
  fi
  # The host image under cms's own tag (layer cache), so no timed create builds it.
  log "cms: warm-up create+kill of 1 hadoop host (builds the host image if needed; untimed)"
  if cms_create "${PREFIX}w" 1 "$WORK/warm.json"; then
    cms_kill "$CMS_NAME" || true
    CMS_OK=1
  else
    CMS_ERROR="warm-up create failed: $(tail -n 5 "$WORK/warm.json.err" | tr '\n' ' ')"
    log "cms: $CMS_ERROR"
    cms_kill "$CMS_NAME" || true
  fi
}

# "live running safe" from a create's --json: live DataNodes, RUNNING NodeManagers, and whether HDFS is in safe mode.
ready_counts() { node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); const c=j.result?.cluster ?? j.cluster ?? j; console.log(`${c.hdfs?.liveDataNodes ?? 0} ${c.yarn?.runningNodeManagers ?? 0} ${c.hdfs?.safeMode ? "on" : "off"}`)' "$1"; }

cms_measure() { # cms_measure RUN
  local r=$1 out t0 t1 live running safe hosts=() l0
  ((CMS_OK)) || return 0
  out="$WORK/cms-$r.json"
  log "cms: create $N hadoop hosts, run $r"
  l0=$(cut -d ' ' -f 1 /proc/loadavg)
  t0=$(now)
  if ! cms_create "${PREFIX}r${r}" "$N" "$out"; then
    CMS_ERROR="create --hosts $N failed: $(grep -v -e '^❯' -e '^✔' "$out.err" | tail -n 5 | tr '\n' ' ')"
    log "cms: $CMS_ERROR"
    cms_kill "$CMS_NAME" || true
    CMS_OK=0
    return 0
  fi
  t1=$(now)
  read -r live running safe < <(ready_counts "$out")
  if [[ "$live" != "$N" || "$running" != "$N" || "$safe" != off ]]; then
    CMS_ERROR="create --hosts $N exited 0 with $live live DataNodes, $running RUNNING NodeManagers, safe mode $safe"
    CMS_OK=0
    cms_kill "$CMS_NAME" || true
    return 0
  fi
  CMS_TIMES+=("$(elapsed "$t0" "$t1")")
  CMS_LOADS+=("$l0/$(cut -d ' ' -f 1 /proc/loadavg)")
  CMS_REPORTED+=("$(json_get "$out" seconds)")
  CMS_RATIO=$(json_get "$out" transfer.uploadRatio)
  mapfile -t hosts < <(docker ps -q --filter "label=cms.cluster=$CMS_NAME")
  CMS_RX=$(rx_sum "${hosts[@]}")
  cp "$out" "$RESULTS_DIR/cms-hadoop-create-$N-hosts.json"
  log "cms: $N hosts took $(elapsed "$t0" "$t1")s (cms says $(json_get "$out" seconds)s), $live DataNodes live, $running NodeManagers RUNNING, uploadRatio=$CMS_RATIO"
  cms_kill "$CMS_NAME" || true
}

# ---------------------------------------------------------------- schedule
[[ "$SKIP_ANSIBLE" != 0 ]] || ansible_setup || log "ansible: ${ANSIBLE_ERROR:=setup failed}"
[[ "$SKIP_CMS" != 0 ]] || cms_warm
LOAD_BEFORE=$(load_avg)
for ((r = 1; r <= RUNS; r++)); do
  ansible_measure "$r"
  cms_measure "$r"
done
LOAD_AFTER=$(load_avg)

# ---------------------------------------------------------------- report
A=$( ((${#ANSIBLE_TIMES[@]})) && echo "${ANSIBLE_TIMES[*]}" | median || echo "")
C=$( ((${#CMS_TIMES[@]})) && echo "${CMS_TIMES[*]}" | median || echo "")
R=$([[ -n "$A" && -n "$C" ]] && ratio "$C" "$A" || echo "n/a")
ANS_RX_RATIO=$([[ -n "$ANSIBLE_RX" ]] && ratio "$ANSIBLE_RX" "$TOTAL_BYTES" || echo "n/a")
CMS_RX_RATIO=$([[ -n "$CMS_RX" ]] && ratio "$CMS_RX" "$TOTAL_BYTES" || echo "n/a")
SHIP_TEXT="one copy to the head, the other hosts fetch from an HTTP server there (unarchive remote_src)"
[[ "$UNPACK" == unarchive ]] || SHIP_TEXT="one copy to the head, the other hosts fetch from an HTTP server there, each archive unpacked in one streamed pass (cat|curl ... | tar -xz)"
[[ "$SHIP" == head ]] || SHIP_TEXT="unarchive from this machine to every host"

{
  echo "### Hadoop cluster create: cms vs Ansible"
  echo
  echo "Machine: $(machine_line). Hadoop archive: $(basename "$CMS_HADOOP_DIST"), $HADOOP_BYTES bytes; Spark archive (shipped beside it for Spark on YARN): $(basename "$CMS_SPARK_DIST"), $SPARK_BYTES bytes. Runs: $RUNS (median; they alternate Ansible, cms, ...)."
  echo "Both start from nothing (network, $N fresh containers of the same host image) and end when the NameNode reports $N DataNodes live and safe mode off and the ResourceManager reports $N NodeManagers RUNNING."
  echo "Load average (1/5/15 min) at start: $LOAD_BEFORE; at end: $LOAD_AFTER ($(nproc) CPUs)."
  echo
  echo "| measure | cms | Ansible | cms/Ansible | goal |"
  echo "|---|---:|---:|---:|---|"
  echo "| create $N hosts, HDFS + YARN report every node (s) | $(fmt "$C") | $(fmt "$A") | $R | <= 0.50 ($(pass "$R" 0.5)) |"
  echo "| bytes the $N hosts received (eth0 rx) / archives' size | $CMS_RX_RATIO | $ANS_RX_RATIO | | |"
  echo
  echo "Each run, wall / cms's own \`seconds\`: $(fmt "${CMS_TIMES[*]}") / $(fmt "${CMS_REPORTED[*]}"); Ansible: $(fmt "${ANSIBLE_TIMES[*]}") (its network create, $(fmt "$ANSIBLE_NET_SECONDS") s, included). 1-minute load average at each run's start/end: cms $(fmt "${CMS_LOADS[*]}"), Ansible $(fmt "${ANSIBLE_LOADS[*]}")."
  echo "cms's \`uploadRatio\` (archive bytes sent from this machine / archives' size): $(fmt "$CMS_RATIO"). Received bytes count head-to-host fetches too, SSH and module traffic included."
  echo "Ansible ships the archives: $SHIP_TEXT. Its configuration files are rendered by cms's own renderers before its timed window (bench/hadoop-render.ts); cms renders and writes its own inside its time."
  report_notes
} >"$RESULTS_DIR/hadoop-create-vs-ansible.md"

jnum() { [[ -n "$1" && "$1" != n/a ]] && echo "$1" || echo null; }
jlist() { local IFS=,; echo "[$*]"; }
cat >"$RESULTS_DIR/hadoop-create-vs-ansible.json" <<EOF
{
  "hosts": $N,
  "runs": $RUNS,
  "hadoopArchiveBytes": $HADOOP_BYTES,
  "sparkArchiveBytes": $SPARK_BYTES,
  "ansibleShip": "$SHIP",
  "ansibleUnpack": "$UNPACK",
  "loadBefore": "$LOAD_BEFORE", "loadAfter": "$LOAD_AFTER",
  "cms": {"createSeconds": $(jlist "${CMS_TIMES[@]}"), "medianSeconds": $(jnum "$C"), "reportedSeconds": $(jlist "${CMS_REPORTED[@]}"), "uploadRatio": $(jnum "$CMS_RATIO"), "rxBytes": $(jnum "$CMS_RX"), "load1StartEnd": "${CMS_LOADS[*]}"},
  "ansible": {"createSeconds": $(jlist "${ANSIBLE_TIMES[@]}"), "medianSeconds": $(jnum "$A"), "networkCreateSeconds": $(jnum "$ANSIBLE_NET_SECONDS"), "rxBytes": $(jnum "$ANSIBLE_RX"), "load1StartEnd": "${ANSIBLE_LOADS[*]}"},
  "cmsRetries": ${#CMS_RETRIES[@]},
  "ansibleError": $(node -e 'console.log(JSON.stringify(process.argv[1] || null))' "$ANSIBLE_ERROR"),
  "cmsError": $(node -e 'console.log(JSON.stringify(process.argv[1] || null))' "$CMS_ERROR"),
  "ratioCmsOverAnsible": $(jnum "$R")
}
EOF

cat "$RESULTS_DIR/hadoop-create-vs-ansible.md"
[[ -z "$CMS_ERROR" && -z "$ANSIBLE_ERROR" ]]
