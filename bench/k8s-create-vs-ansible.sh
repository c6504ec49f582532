#!/usr/bin/env bash
# Peer comparison: `cms cluster create -e kubernetes` vs an Ansible playbook (bench/ansible/kubernetes.yml) doing the
# same work on the same kind of fresh container hosts: the k8s-host image cms's docker provider uses, started with
# the same run options (src/engines/kubernetes/node-container.ts, never --privileged), the same Kubernetes and
# CoreDNS archives, the same files and command lines (rendered beforehand by bench/k8s-render.ts with cms's own
# renderers), ending, for both, when every node is Ready and CoreDNS is available. Then the memory the cms
# cluster's head uses: the RSS of each Kubernetes component and the head container's cgroup.
#
# Env knobs:
#   BENCH_K8S_HOSTS=3      hosts of each cluster (its own knob: run.sh's other benches default BENCH_HOSTS to 8)
#   BENCH_RUNS=1           repetitions (median is reported; they alternate Ansible, cms, ...)
#   BENCH_SETTLE=30        seconds the cms cluster idles before the second memory sample (0: one sample only)
#   BENCH_SKIP_CMS=1 / BENCH_SKIP_ANSIBLE=1   run only one half
#   BENCH_PREFIX=kbench<pid>   names of this run's clusters, containers and network (and its cleanup label)
#   BENCH_SETUP=0          skip tool/testbed setup (run.sh already did it)
#   BENCH_KEEP_FAILED=1    leave the Ansible hosts of a failed playbook running (to look inside; remove them with
#                          docker rm -f -v $(docker ps -aq --filter label=cms.bench.run=PREFIX), then the network)
#   CMS_K8S_DIST / CMS_COREDNS_DIST   the archives (default: `scripts/testbed.sh --kubernetes`)
# Writes bench/results/k8s-create-vs-ansible.{md,json}; prints the markdown table to stdout.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

N=${BENCH_K8S_HOSTS:-3}
RUNS=${BENCH_RUNS:-1}
SETTLE=${BENCH_SETTLE:-30}
SKIP_CMS=${BENCH_SKIP_CMS:-0}
SKIP_ANSIBLE=${BENCH_SKIP_ANSIBLE:-0}
PREFIX=${BENCH_PREFIX:-kbench$$}
[[ "$N" =~ ^[1-9]$|^1[0-9]$ ]] || die "BENCH_K8S_HOSTS must be 1..19"
[[ "$RUNS" =~ ^[1-9]$ ]] || die "BENCH_RUNS must be 1..9"
[[ "$SETTLE" =~ ^[0-9]{1,3}$ ]] || die "BENCH_SETTLE must be 0..999 seconds"
[[ "$PREFIX" =~ ^[a-z][a-z0-9]{0,15}$ ]] || die "BENCH_PREFIX must be a lowercase name of at most 16 characters"
BENCH_LABELS=(cms.bench=1 "cms.bench.run=$PREFIX")
NET=$PREFIX-net
# The Ansible cluster's name: its folders on the hosts (~/.cms/clusters/NAME, /var/lib/cms/NAME) as cms lays them out.
ACLUSTER=${PREFIX}a

if [[ "${BENCH_SETUP:-1}" != 0 ]]; then
  ensure_tools
  ensure_testbed
fi
ensure_k8s_dist
docker info >/dev/null 2>&1 || die "docker engine is not running"
ensure_cms_built || die "cms does not build"

WORK="$(mktemp -d /tmp/cms-bench-k8s.XXXXXX)"
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
pin_k8s_dist "$WORK"

K8S_BYTES=$(stat -c %s "$CMS_K8S_DIST")
COREDNS_BYTES=$(stat -c %s "$CMS_COREDNS_DIST")
COREDNS_VERSION=$(basename "$CMS_COREDNS_DIST" | sed -n 's/^coredns_\([0-9.]*\)_.*/\1/p')
[[ -n "$COREDNS_VERSION" ]] || die "cannot read the CoreDNS version from $(basename "$CMS_COREDNS_DIST")"
log "Kubernetes: $(basename "$CMS_K8S_DIST") ($K8S_BYTES bytes), CoreDNS: $(basename "$CMS_COREDNS_DIST") ($COREDNS_BYTES bytes), hosts=$N, runs=$RUNS, prefix=$PREFIX"

# The renderer: bench/k8s-render.ts bundled with cms's sources (its npm dependencies from node_modules).
RENDER="$RESULTS_DIR/k8s-render.bundle.mjs"
npx esbuild bench/k8s-render.ts --bundle --platform=node --format=esm --target=node20.18 --main-fields=module,main \
  --packages=external --outfile="$RENDER" --log-level=warning || die "cannot bundle bench/k8s-render.ts"

# ---------------------------------------------------------------- memory of a node container
# mem_sample CONTAINER: one line per component, `NAME RSS_KiB` (summed over its processes; comm is cut at 15
# characters, so kube-controller-manager is `kube-controller`), then `all` (every process in the container),
# `cgroup` (memory.usage_in_bytes / 1024: processes, page cache, kernel memory of the container and its pods) and
# `workingset` (usage minus inactive file cache, what `docker stats` shows) and `anonymous` (the cgroup's
# total_rss: anonymous memory, no file pages).
mem_sample() {
  docker exec "$1" sh -c '
    for p in /proc/[0-9]*; do
      c=$(cat "$p/comm" 2>/dev/null) || continue
      r=$(awk "/^VmRSS:/ {print \$2}" "$p/status" 2>/dev/null)
      [ -n "$r" ] && echo "$c $r"
    done | awk "{ s[\$1] += \$2; all += \$2 } END { for (c in s) print c, s[c]; print \"all\", all }"
    g=/sys/fs/cgroup/memory
    u=$(cat $g/memory.usage_in_bytes)
    i=$(awk "\$1 == \"total_inactive_file\" {print \$2}" $g/memory.stat)
    a=$(awk "\$1 == \"total_rss\" {print \$2}" $g/memory.stat)
    echo "cgroup $((u / 1024))"
    echo "workingset $(((u - i) / 1024))"
    echo "anonymous $((a / 1024))"'
}
COMPONENTS=(etcd kube-apiserver kube-controller kube-scheduler kubelet kube-proxy containerd containerd-shim coredns all cgroup workingset anonymous)
# mem_get FILE NAME -> MiB with one decimal ("" when absent)
mem_get() { awk -v n="$2" '$1 == n { printf "%.1f", $2 / 1024; found = 1 } END { if (!found) print "" }' "$1"; }

# ---------------------------------------------------------------- Ansible
ANSIBLE_TIMES=()
ANSIBLE_NET_SECONDS=""
ANSIBLE_ERROR=""
ANSIBLE_MEM=""

ansible_setup() {
  ssh-keygen -q -t ed25519 -N '' -C cms-bench -f "$WORK/bench_key"
  write_ansible_cfg "$WORK/ansible.cfg"
}

# ansible_render: cms's files, scripts and templates for these hosts (host_vars/ and group_vars/ beside the
# inventory); sets IMAGE and RUN_ARGS (the k8s-host image cms uses and its docker run options).
ansible_render() {
  local spec=$WORK/spec.json i hosts="" out
  for ((i = 0; i < ${#BENCH_HOST_NAMES[@]}; i++)); do hosts+="${hosts:+,}{\"name\":\"${BENCH_HOST_NAMES[$i]}\",\"address\":\"${BENCH_HOST_IPS[$i]}\"}"; done
  printf '{"cluster":"%s","hosts":[%s],"binDir":"/opt/k8s/bin","corednsBinary":"/opt/coredns/coredns","corednsVersion":"%s","repoDir":"%s"}\n' \
    "$ACLUSTER" "$hosts" "$COREDNS_VERSION" "$REPO_DIR" >"$spec"
  rm -rf "$WORK/ansible" && mkdir -m 0700 "$WORK/ansible"
  out=$(node "$RENDER" "$spec" "$WORK/ansible") || return 1
  IMAGE=$(node -e 'console.log(JSON.parse(process.argv[1]).k8sImage)' "$out")
  HOST_IMAGE=$(node -e 'console.log(JSON.parse(process.argv[1]).hostImage)' "$out")
  mapfile -t RUN_ARGS < <(node -e 'for (const a of JSON.parse(process.argv[1]).runArgs) console.log(a)' "$out")
}

# ansible_images: the host and k8s-host images under the tags cms gives them (the layer cache, or a build once;
# cms finds them and builds nothing), so neither tool's time includes an image build.
ansible_images() {
  docker image inspect "$HOST_IMAGE" >/dev/null 2>&1 || docker build -q -t "$HOST_IMAGE" images/host >/dev/null || return 1
  docker image inspect "$IMAGE" >/dev/null 2>&1 || docker build -q --build-arg "HOST_IMAGE=$HOST_IMAGE" -t "$IMAGE" images/k8s-host >/dev/null
}

ansible_run() { # -> LAST_SECONDS, LAST_MEM (a mem_sample of the head)
  local t0 t1 c i pids=() rc=0 labels=()
  remove_bench_docker
  : >"$WORK/known_hosts"
  ansible_net || { ANSIBLE_ERROR="docker network create failed"; return 1; }
  ansible_render || { ANSIBLE_ERROR="bench/k8s-render.ts failed"; return 1; }
  ansible_images || { ANSIBLE_ERROR="cannot build $IMAGE from images/k8s-host"; return 1; }
  for c in "${BENCH_LABELS[@]}"; do labels+=(--label "$c"); done

  t0=$(now)
  # ---- timed: the containers as cms's docker provider makes Kubernetes hosts, then the playbook
  for ((i = 0; i < N; i++)); do
    c=${BENCH_HOST_NAMES[$i]}
    docker run -d --name "$c" --hostname "$c" "${labels[@]}" --network "$NET" --ip "${BENCH_HOST_IPS[$i]}" "${RUN_ARGS[@]}" \
      -e CMS_WRITABLE_CGROUPS=1 -e CMS_AUTHORIZED_KEY="$(cat "$WORK/bench_key.pub")" "$IMAGE" >/dev/null &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  ((rc == 0)) || { ANSIBLE_ERROR="docker run failed"; return 1; }
  write_inventory kubernetes "$WORK/ansible/inventory.ini" "$WORK/bench_key" "$WORK/known_hosts"
  if ! ANSIBLE_CONFIG="$WORK/ansible.cfg" timeout 900 ansible-playbook -i "$WORK/ansible/inventory.ini" \
    -e "k8s_dist=$CMS_K8S_DIST" -e "coredns_dist=$CMS_COREDNS_DIST" "$BENCH_DIR/ansible/kubernetes.yml" >"$WORK/ansible.log" 2>&1; then
    tail -n 40 "$WORK/ansible.log" >&2
    cp "$WORK/ansible.log" "$RESULTS_DIR/ansible-k8s-$N-hosts.log"
    [[ "${BENCH_KEEP_FAILED:-0}" == 0 ]] || KEEP_HOSTS=1
    ANSIBLE_ERROR="ansible-playbook failed (see bench/results/ansible-k8s-$N-hosts.log): $(grep -m1 -E 'fatal:|FAILED!' "$WORK/ansible.log" | cut -c1-300)"
    return 1
  fi
  t1=$(now)
  # ---- untimed
  LAST_SECONDS=$(elapsed "$t0" "$t1")
  LAST_SECONDS=$(awk -v a="$LAST_SECONDS" -v b="$ANSIBLE_NET_SECONDS" 'BEGIN { printf "%.2f", a + b }')
  LAST_MEM="$WORK/mem-ansible.txt"
  mem_sample "${BENCH_HOST_NAMES[0]}" >"$LAST_MEM" || true
  grep -E ' -+ +[0-9.]+s$' "$WORK/ansible.log" | sed 's/^/  ansible task: /' >&2 || true
  cp "$WORK/ansible.log" "$RESULTS_DIR/ansible-k8s-$N-hosts.log"
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
  log "ansible: $N hosts took ${LAST_SECONDS}s (network create ${ANSIBLE_NET_SECONDS}s included)"
  ANSIBLE_TIMES+=("$LAST_SECONDS")
  ANSIBLE_MEM=$LAST_MEM
}

# ---------------------------------------------------------------- cms
CMS_CREATE_ARGS=(-e kubernetes --k8s-dist "$CMS_K8S_DIST" --coredns-dist "$CMS_COREDNS_DIST" --local-path-dist "$CMS_LOCAL_PATH_DIST")
CMS_TIMES=()
CMS_REPORTED=()
CMS_ERROR=""
CMS_MEM=""
CMS_MEM_SETTLED=""

ready_nodes() { node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); const c=j.result?.cluster ?? j.cluster ?? j.result ?? j; console.log((c.hosts ?? []).filter((h)=>h.node?.status==="Ready").length)' "$1"; }

cms_measure() { # cms_measure RUN
  local r=$1 out t0 t1 ready head
  [[ "$SKIP_CMS" == 0 && -z "$CMS_ERROR" ]] || return 0
  out="$WORK/cms-$r.json"
  log "cms: create $N Kubernetes hosts, run $r"
  t0=$(now)
  if ! cms_create "${PREFIX}r${r}" "$N" "$out"; then
    CMS_ERROR="create --hosts $N failed: $(grep -v -e '^❯' -e '^✔' "$out.err" | tail -n 5 | tr '\n' ' ')"
    log "cms: $CMS_ERROR"
    cms_kill "$CMS_NAME" || true
    return 0
  fi
  t1=$(now)
  ready=$(ready_nodes "$out")
  if [[ "$ready" != "$N" ]]; then
    CMS_ERROR="create --hosts $N exited 0 with $ready Ready nodes"
    cms_kill "$CMS_NAME" || true
    return 0
  fi
  CMS_TIMES+=("$(elapsed "$t0" "$t1")")
  CMS_REPORTED+=("$(json_get "$out" seconds)")
  cp "$out" "$RESULTS_DIR/cms-k8s-create-$N-hosts.json"
  log "cms: $N hosts took $(elapsed "$t0" "$t1")s (cms says $(json_get "$out" seconds)s), $ready nodes Ready"
  head=$(docker ps -q --filter "label=cms.cluster=$CMS_NAME" --filter "label=cms.role=head" | head -n 1)
  if [[ -n "$head" ]]; then
    CMS_MEM="$WORK/mem-cms.txt"
    mem_sample "$head" >"$CMS_MEM" || true
    if ((SETTLE > 0)); then
      log "cms: memory sampled; idling ${SETTLE}s for a second sample"
      sleep "$SETTLE"
      CMS_MEM_SETTLED="$WORK/mem-cms-settled.txt"
      mem_sample "$head" >"$CMS_MEM_SETTLED" || true
    fi
  fi
  cms_kill "$CMS_NAME" || true
}

# ---------------------------------------------------------------- schedule
[[ "$SKIP_ANSIBLE" != 0 ]] || ansible_setup
# The images under cms's tags (the renderer names them) before anything is timed, so no create builds one.
BENCH_HOST_NAMES=("$PREFIX-probe") BENCH_HOST_IPS=(192.0.2.10)
ansible_render && ansible_images || die "cannot build $HOST_IMAGE / $IMAGE from images/host, images/k8s-host"
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
memcell() { [[ -n "$1" && -f "$1" ]] && fmt "$(mem_get "$1" "$2")" || echo "n/a"; }
memjson() {
  local f=$1 c v first=1
  [[ -n "$f" && -f "$f" ]] || { echo null; return; }
  printf '{'
  for c in "${COMPONENTS[@]}"; do
    v=$(mem_get "$f" "$c")
    ((first)) || printf ', '
    first=0
    printf '"%s": %s' "$c" "${v:-null}"
  done
  printf '}'
}

{
  echo "### Kubernetes cluster create: cms vs Ansible"
  echo
  echo "Machine: $(machine_line). Kubernetes archive: $(basename "$CMS_K8S_DIST"), $K8S_BYTES bytes; CoreDNS archive: $(basename "$CMS_COREDNS_DIST"), $COREDNS_BYTES bytes. Runs: $RUNS (median; they alternate Ansible, cms, ...)."
  echo "Both start from nothing (network, $N fresh k8s-host containers with the same image and run options) and end when every node is Ready, CoreDNS is available and the default service account exists."
  echo "Load average (1/5/15 min) at start: $LOAD_BEFORE; at end: $LOAD_AFTER ($(nproc) CPUs)."
  echo
  echo "| measure | cms | Ansible | cms/Ansible |"
  echo "|---|---:|---:|---:|"
  echo "| create $N hosts, all nodes Ready + CoreDNS (s) | $(fmt "$C") | $(fmt "$A") | $R |"
  echo
  echo "Each run, wall / cms's own \`seconds\`: $(fmt "${CMS_TIMES[*]}") / $(fmt "${CMS_REPORTED[*]}"); Ansible: $(fmt "${ANSIBLE_TIMES[*]}") (its network create, $(fmt "$ANSIBLE_NET_SECONDS") s, included)."
  echo "Ansible's certificates, kubeconfigs, configurations and start scripts are rendered by cms's own renderers before its timed window (bench/k8s-render.ts); cms makes its PKI inside its time."
  echo
  echo "Memory of the head (control plane + node), MiB: VmRSS summed per process name (\`kube-controller\` is kube-controller-manager; RSS counts the mapped pages of the static binaries, shared pages in each process); \`all\` is every process in the container; \`cgroup\` is the head container's memory.usage_in_bytes (processes, page cache, pods), \`workingset\` that minus inactive file cache (what \`docker stats\` shows, below the RSS sum because the binaries' file pages count as inactive cache), \`anonymous\` the cgroup's anonymous memory (total_rss)."
  echo
  echo "| component | cms head at create end | cms head after ${SETTLE} s idle | Ansible head at playbook end |"
  echo "|---|---:|---:|---:|"
  for c in "${COMPONENTS[@]}"; do
    echo "| $c | $(memcell "$CMS_MEM" "$c") | $(memcell "$CMS_MEM_SETTLED" "$c") | $(memcell "$ANSIBLE_MEM" "$c") |"
  done
  report_notes
} >"$RESULTS_DIR/k8s-create-vs-ansible.md"

jnum() { [[ -n "$1" && "$1" != n/a ]] && echo "$1" || echo null; }
jlist() { local IFS=,; echo "[$*]"; }
cat >"$RESULTS_DIR/k8s-create-vs-ansible.json" <<EOF
{
  "hosts": $N,
  "runs": $RUNS,
  "k8sArchiveBytes": $K8S_BYTES,
  "corednsArchiveBytes": $COREDNS_BYTES,
  "loadBefore": "$LOAD_BEFORE", "loadAfter": "$LOAD_AFTER",
  "cms": {"createSeconds": $(jlist "${CMS_TIMES[@]}"), "medianSeconds": $(jnum "$C"), "reportedSeconds": $(jlist "${CMS_REPORTED[@]}")},
  "ansible": {"createSeconds": $(jlist "${ANSIBLE_TIMES[@]}"), "medianSeconds": $(jnum "$A"), "networkCreateSeconds": $(jnum "$ANSIBLE_NET_SECONDS")},
  "memoryMiB": {"settleSeconds": $SETTLE, "cmsHead": $(memjson "$CMS_MEM"), "cmsHeadSettled": $(memjson "$CMS_MEM_SETTLED"), "ansibleHead": $(memjson "$ANSIBLE_MEM")},
  "cmsRetries": ${#CMS_RETRIES[@]},
  "ansibleError": $(node -e 'console.log(JSON.stringify(process.argv[1] || null))' "$ANSIBLE_ERROR"),
  "cmsError": $(node -e 'console.log(JSON.stringify(process.argv[1] || null))' "$CMS_ERROR"),
  "ratioCmsOverAnsible": $(jnum "$R")
}
EOF

cat "$RESULTS_DIR/k8s-create-vs-ansible.md"
[[ -z "$CMS_ERROR" && -z "$ANSIBLE_ERROR" ]]
