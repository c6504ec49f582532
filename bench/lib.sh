# Shared helpers for the bench scripts. Source it; do not run it.
# shellcheck shell=bash

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
RESULTS_DIR="$BENCH_DIR/results"
mkdir -p "$RESULTS_DIR"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Monotonic-ish wall clock in seconds with ms resolution.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

# Bounded wait: retry "$@" every second up to $1 seconds.
wait_for() {
  local limit=$1; shift
  local i
  for ((i = 0; i < limit; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  return 1
}

# Idempotent: installs the peers (ansible, hyperfine) if missing.
ensure_tools() {
  local missing=()
  command -v ansible-playbook >/dev/null 2>&1 || missing+=(ansible)
  command -v hyperfine >/dev/null 2>&1 || missing+=(hyperfine)
  command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2 ||
      { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2; }
  fi
}

# Idempotent: Docker engine, base image and Spark distribution from the project's testbed script.
ensure_testbed() {
  if [[ -n "${CMS_SPARK_DIST:-}" && -f "${CMS_SPARK_DIST}" ]] && docker info >/dev/null 2>&1; then
    return 0
  fi
  [[ -f "$REPO_DIR/scripts/testbed.sh" ]] || die "scripts/testbed.sh not found"
  log "running scripts/testbed.sh"
  local out
  out="$(cd "$REPO_DIR" && bash scripts/testbed.sh)" || die "scripts/testbed.sh failed"
  eval "$out"
  export CMS_SPARK_DIST CMS_SPARK_VERSION
  [[ -f "${CMS_SPARK_DIST:-}" ]] || die "testbed did not produce CMS_SPARK_DIST"
}

# Idempotent: cms built (dist/ newer than src/).
ensure_cms_built() {
  if [[ -f "$REPO_DIR/dist/commands/cluster/create.js" ]] &&
    [[ -z "$(find "$REPO_DIR/src" -newer "$REPO_DIR/dist/commands/cluster/create.js" -name '*.ts' -print -quit 2>/dev/null)" ]]; then
    return 0
  fi
  log "building cms (npm run build)"
  (cd "$REPO_DIR" && { [[ -d node_modules ]] || npm ci --no-audit --no-fund >&2; } && npm run build >&2)
}

machine_line() {
  printf 'nproc=%s, mem=%s, kernel=%s, date=%s' "$(nproc)" \
    "$(awk '/MemTotal/ { printf "%.1fGiB", $2 / 1048576 }' /proc/meminfo)" "$(uname -r)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}

# Removes every container and network carrying a docker label filter ("key=value" or "key").
remove_by_label() {
  local ids=()
  mapfile -t ids < <(docker ps -aq --filter "label=$1" 2>/dev/null)
  ((${#ids[@]} == 0)) || docker rm -f -v "${ids[@]}" >/dev/null 2>&1 || true
  mapfile -t ids < <(docker network ls -q --filter "label=$1" 2>/dev/null)
  ((${#ids[@]} == 0)) || docker network rm "${ids[@]}" >/dev/null 2>&1 || true
}

# Idempotent: GNU time (/usr/bin/time) for client CPU measurements.
ensure_gnu_time() {
  [[ -x /usr/bin/time ]] && return 0
  log "installing GNU time"
  DEBIAN_FRONTEND=noninteractive apt-get install -y time >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y time >&2; }
}

# The Nomad release zip cms ships (CMS_NOMAD_DIST): from the environment, else scripts/nomad-dist.sh (which builds
# or fetches it), else the testbed's cached build.
ensure_nomad_dist() {
  if [[ -z "${CMS_NOMAD_DIST:-}" || ! -f "${CMS_NOMAD_DIST:-}" ]]; then
    if [[ -f "$REPO_DIR/scripts/nomad-dist.sh" ]]; then
      local out
      out="$(cd "$REPO_DIR" && bash scripts/nomad-dist.sh)" || die "scripts/nomad-dist.sh failed"
      eval "$out"
    else
      CMS_NOMAD_DIST="$(find "$HOME/.cache/cms-testbed/nomad" -maxdepth 1 -name 'nomad_*_linux_amd64.zip' 2>/dev/null | sort | tail -n 1)"
    fi
  fi
  [[ -f "${CMS_NOMAD_DIST:-}" ]] || die "no Nomad release zip: set CMS_NOMAD_DIST"
  export CMS_NOMAD_DIST
}

# pin_nomad_dist DIR: points CMS_NOMAD_DIST at a private copy in DIR (same file name), so a testbed rebuilding its
# cache during a long run cannot pull the zip from under either tool.
pin_nomad_dist() {
  cp "$CMS_NOMAD_DIST" "$1/" || die "cannot copy $CMS_NOMAD_DIST to $1"
  CMS_NOMAD_DIST="$1/$(basename "$CMS_NOMAD_DIST")"
  export CMS_NOMAD_DIST
}

# The Kubernetes, CoreDNS and local-path-provisioner archives cms ships (CMS_K8S_DIST, CMS_COREDNS_DIST,
# CMS_LOCAL_PATH_DIST): from the environment, else `scripts/testbed.sh --kubernetes` (which builds them once and
# caches them).
ensure_k8s_dist() {
  if [[ ! -f "${CMS_K8S_DIST:-}" || ! -f "${CMS_COREDNS_DIST:-}" || ! -f "${CMS_LOCAL_PATH_DIST:-}" ]]; then
    local out
    out="$(cd "$REPO_DIR" && bash scripts/testbed.sh --kubernetes)" || die "scripts/testbed.sh --kubernetes failed"
    eval "$out"
  fi
  [[ -f "${CMS_K8S_DIST:-}" ]] || die "no Kubernetes archive: set CMS_K8S_DIST"
  [[ -f "${CMS_COREDNS_DIST:-}" ]] || die "no CoreDNS archive: set CMS_COREDNS_DIST"
  [[ -f "${CMS_LOCAL_PATH_DIST:-}" ]] || die "no local-path-provisioner archive: set CMS_LOCAL_PATH_DIST"
  export CMS_K8S_DIST CMS_COREDNS_DIST CMS_LOCAL_PATH_DIST
}

# pin_k8s_dist DIR: private copies of the archives in DIR (same file names), as pin_nomad_dist.
pin_k8s_dist() {
  cp "$CMS_K8S_DIST" "$CMS_COREDNS_DIST" "$CMS_LOCAL_PATH_DIST" "$1/" || die "cannot copy the Kubernetes archives to $1"
  CMS_K8S_DIST="$1/$(basename "$CMS_K8S_DIST")"
  CMS_COREDNS_DIST="$1/$(basename "$CMS_COREDNS_DIST")"
  CMS_LOCAL_PATH_DIST="$1/$(basename "$CMS_LOCAL_PATH_DIST")"
  export CMS_K8S_DIST CMS_COREDNS_DIST CMS_LOCAL_PATH_DIST
}

# The machine's 1/5/15-minute load averages.
load_avg() { cut -d ' ' -f 1-3 /proc/loadavg; }

# Median of the numbers on stdin (spaces or newlines); prints nothing when there are none.
median() { tr ' ' '\n' | { grep -v '^$' || true; } | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# Sum of eth0 rx bytes over a set of containers: what the network delivered to them.
rx_sum() {
  local total=0 c b
  for c in "$@"; do
    b=$(docker exec "$c" cat /sys/class/net/eth0/statistics/rx_bytes 2>/dev/null || echo 0)
    total=$((total + b))
  done
  echo "$total"
}

# json_get FILE a.b.c: one field of a cms --json result ("" when absent).
json_get() { node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); const v=process.argv[2].split(".").reduce((o,k)=>o==null?o:o[k], j.result ?? j); console.log(v ?? "")' "$1" "$2"; }

# ---------------------------------------------------------------- the peer's hosts (Ansible)
# Labels on every container and network the peer's hosts use; a script may add a label of its own run.
BENCH_LABELS=(cms.bench=1)

# bench_hosts_up NETWORK NAME_PREFIX N IMAGE [docker run options...]: a new bridge network and N containers on it
# (NAME_PREFIX-1 ... NAME_PREFIX-N) started in parallel, all labelled with BENCH_LABELS. Sets BENCH_HOST_NAMES and
# BENCH_HOST_IPS; returns non-zero if a container did not start.
bench_hosts_up() {
  local net=$1 prefix=$2 n=$3 image=$4 i c rc=0 pids=() labels=()
  shift 4
  for i in "${BENCH_LABELS[@]}"; do labels+=(--label "$i"); done
  BENCH_HOST_NAMES=()
  BENCH_HOST_IPS=()
  for ((i = 1; i <= n; i++)); do BENCH_HOST_NAMES+=("$prefix-$i"); done
  docker network create "${labels[@]}" "$net" >/dev/null || return 1
  for c in "${BENCH_HOST_NAMES[@]}"; do
    docker run -d --name "$c" --hostname "$c" "${labels[@]}" --network "$net" "$@" "$image" >/dev/null &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  ((rc == 0)) || return 1
  for c in "${BENCH_HOST_NAMES[@]}"; do
    BENCH_HOST_IPS+=("$(docker inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$c")")
  done
}

# ansible_net: a bridge network NET with a subnet of its own (the hosts' addresses are fixed before the timed window:
# they are in their rendered configuration or certificates): Docker picks a free subnet, then the network is made
# again with it as a configured subnet, which `docker run --ip` needs. The second create is timed
# (ANSIBLE_NET_SECONDS) and added to Ansible's time, as cms's create makes its network inside its time. Sets
# BENCH_HOST_IPS and BENCH_HOST_NAMES (PREFIX-a-1..N); reads NET, N, PREFIX and BENCH_LABELS.
ansible_net() {
  local labels=() l subnet t0
  for l in "${BENCH_LABELS[@]}"; do labels+=(--label "$l"); done
  docker network create "${labels[@]}" "$NET" >/dev/null || return 1
  subnet=$(docker network inspect -f '{{(index .IPAM.Config 0).Subnet}}' "$NET") || return 1
  docker network rm "$NET" >/dev/null || return 1
  t0=$(now)
  docker network create "${labels[@]}" --subnet "$subnet" "$NET" >/dev/null || return 1
  ANSIBLE_NET_SECONDS=$(elapsed "$t0" "$(now)")
  mapfile -t BENCH_HOST_IPS < <(python3 -c 'import ipaddress, sys; n = ipaddress.ip_network(sys.argv[1]); h = list(n.hosts()); [print(h[i + 9]) for i in range(int(sys.argv[2]))]' "$subnet" "$N")
  BENCH_HOST_NAMES=()
  for ((l = 1; l <= N; l++)); do BENCH_HOST_NAMES+=("$PREFIX-a-$l"); done
}

# Report helpers of the peer benches: a value or n/a; PASS/FAIL of a ratio against its goal (at most GOAL).
fmt() { [[ -n "$1" ]] && echo "$1" || echo "n/a"; }
pass() { awk -v v="$1" -v g="$2" 'BEGIN { if (v == "" || v == "n/a") print "n/a"; else if (v + 0 <= g + 0) print "PASS"; else print "FAIL" }'; }

# The notes every create-vs-Ansible report ends with: a half that failed or was skipped, and cms's retried runs.
report_notes() {
  [[ -z "$CMS_ERROR" ]] || { echo; echo "**cms half incomplete:** $CMS_ERROR"; }
  [[ -z "$ANSIBLE_ERROR" ]] || { echo; echo "**Ansible half incomplete:** $ANSIBLE_ERROR"; }
  for r in "${CMS_RETRIES[@]}"; do echo; echo "Note: cms $r"; done
  [[ "$SKIP_CMS" == 0 ]] || { echo; echo "cms half skipped (BENCH_SKIP_CMS=1)."; }
  [[ "$SKIP_ANSIBLE" == 0 ]] || { echo; echo "Ansible half skipped (BENCH_SKIP_ANSIBLE=1)."; }
}

# write_inventory GROUP FILE KEY KNOWN_HOSTS: an Ansible inventory of BENCH_HOST_NAMES / BENCH_HOST_IPS, as root with
# the bench key; host keys are recorded into a fresh known_hosts on first contact (accept-new: checking stays on).
write_inventory() {
  local group=$1 file=$2 key=$3 known=$4 i
  {
    echo "[$group]"
    for ((i = 0; i < ${#BENCH_HOST_NAMES[@]}; i++)); do echo "${BENCH_HOST_NAMES[$i]} ansible_host=${BENCH_HOST_IPS[$i]}"; done
    echo "[$group:vars]"
    echo "ansible_user=root"
    echo "ansible_ssh_private_key_file=$key"
    echo "ansible_ssh_common_args='-o UserKnownHostsFile=$known -o StrictHostKeyChecking=accept-new'"
  } >"$file"
}

# write_ansible_cfg FILE [FORKS]: the settings every bench playbook runs with (pipelining, per-task times).
write_ansible_cfg() {
  printf '%s\n' '[defaults]' "forks = ${2:-8}" 'host_key_checking = True' 'retry_files_enabled = False' \
    'interpreter_python = /usr/bin/python3' 'timeout = 30' 'callbacks_enabled = ansible.posix.profile_tasks' \
    '[ssh_connection]' 'pipelining = True' >"$1"
}

# ---------------------------------------------------------------- cms clusters
# The calling script sets WORK (a temp dir) and CMS_HOME. CMS_CREATE_ARGS adds flags to every create (-e nomad).
# CMS_CLUSTERS lists every cluster a create was started for (kill_cms_clusters removes them); CMS_RETRIES notes each
# create that failed once and was retried.
CMS_CLUSTERS=()
CMS_RETRIES=()
CMS_CREATE_ARGS=()

cms_create_once() { # cms_create_once NAME HOSTS OUTFILE; keeps the output of a failed create in bench/results
  local rc=0
  CMS_CLUSTERS+=("$1")
  timeout 900 node "$REPO_DIR/bin/run.js" cluster create -n "$1" --hosts "$2" "${CMS_CREATE_ARGS[@]}" --json >"$3" 2>"$3.err" || rc=$?
  if ((rc != 0)); then
    echo "exit status $rc" >>"$3.err"
    cp "$3" "$RESULTS_DIR/cms-failed-$1.json"
    cp "$3.err" "$RESULTS_DIR/cms-failed-$1.err"
  fi
  return "$rc"
}
# One retry on a fresh cluster if a create fails (recorded in CMS_RETRIES): a benchmark measures speed, and one rare
# failure should not void a long run. Sets CMS_NAME to the cluster that was made.
cms_create() { # cms_create NAME HOSTS OUTFILE
  CMS_NAME=$1
  cms_create_once "$1" "$2" "$3" && return 0
  local why
  why="$(grep -v -e '^❯' -e '^✔' "$3.err" | tail -n 3 | tr '\n' ' ')"
  log "cms: create $1 ($2 hosts) failed, retrying once with a new cluster: $why"
  CMS_RETRIES+=("create --hosts $2 failed once and was retried: $why")
  cms_kill "$1" || true
  CMS_NAME="${1}x"
  cms_create_once "$CMS_NAME" "$2" "$3"
}
cms_kill() {
  timeout 300 node "$REPO_DIR/bin/run.js" cluster kill -n "$1" --yes >/dev/null 2>"$WORK/kill.err" ||
    { log "cms kill $1 failed: $(tail -n 3 "$WORK/kill.err")"; return 1; }
}
# For EXIT traps: kills each cluster in CMS_CLUSTERS that still has containers, then removes those by label.
kill_cms_clusters() {
  local c
  for c in "${CMS_CLUSTERS[@]}"; do
    if [[ -n "$(docker ps -aq --filter "label=cms.cluster=$c")" ]]; then
      log "cleanup: killing cms cluster $c"
      timeout 120 node "$REPO_DIR/bin/run.js" cluster kill -n "$c" --yes >/dev/null 2>&1
      remove_by_label "cms.cluster=$c"
    fi
  done
}
