#!/usr/bin/env bash
# Peer comparison on LXD: `cms cluster create -p lxd -e spark` vs the docker benchmark's Spark playbook
# (bench/ansible/site.yml, behind bench/ansible/lxd-site.yml) on the same kind of fresh LXD instances: the private
# daemon the tests use (scripts/lxd.sh: its own network namespace, bridge cmsbr0 on 10.214.0.0/24, routed from this
# machine), the same image (cms-debian-12), no limits, the same Spark tarball (CMS_SPARK_DIST). Both timings start at
# the first instance request and end when the Spark master's /json/ (asked from this machine, the same curl for both)
# reports every worker alive.
#
# - cms: `cluster create -n NAME -p lxd --hosts N -e spark --json` with a private CMS_HOME (as the e2e tests run it),
#   wall time measured outside the CLI, then `cluster kill`.
# - Ansible, all inside the timed window: an ed25519 host key per instance (ssh-keygen) and cloud-init user data that
#   installs it and lets the bench's login key in as cloud-init's default user (admin: cms's hosts get the same), N
#   `lxc launch cms-debian-12` in parallel against the same daemon, a wait (one `lxc list` a second) until each has
#   its address, a known_hosts written from those addresses and the host keys handed to cloud-init (host key
#   checking stays on: StrictHostKeyChecking=yes, nothing learnt on first use, as cms), the inventory (head first),
#   then the playbook: wait for SSH, `cloud-init status --wait`, then site.yml as root via sudo (push + unarchive the
#   tarball to every host, spark-env.sh, master on the head, a worker on every host, wait for N alive workers).
#
# Env knobs:
#   BENCH_LXD_HOSTS=4      hosts of each cluster (its own knob: run.sh's docker benches default BENCH_HOSTS to 8)
#   BENCH_RUNS=1           repetitions (median is reported; they alternate Ansible, cms, Ansible, cms, ...)
#   BENCH_SKIP_CMS=1 / BENCH_SKIP_ANSIBLE=1   run only one half
#   BENCH_WARMUP=0         skip the untimed launch + delete of one instance first (reads the image into the page cache
#                          so neither side's first run pays for it)
#   BENCH_PREFIX=lbench<pid>   names of this run: cms clusters PREFIXrNc (instances cms-PREFIXrNc-I), Ansible's
#                          instances PREFIX-aR-I; cleanup deletes every instance whose name starts with PREFIX- or
#                          cms-PREFIX, and nothing else
#   BENCH_SETUP=0          skip tool/testbed setup (run.sh already did it)
#   BENCH_LXD_KEEP=1       leave a daemon this script started running (default: stopped again on exit, when no
#                          other instance is on it; a daemon that was already running is never stopped)
# Writes bench/results/lxd-create-vs-ansible.{md,json}; prints the markdown table to stdout. Every wait is bounded:
# lxc launch 300 s, addresses 120 s, playbook 900 s (SSH 180 s with keep-alives, cloud-init 600 s), cms create 900 s, the master
# query 120 s.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

N=${BENCH_LXD_HOSTS:-4}
RUNS=${BENCH_RUNS:-1}
SKIP_CMS=${BENCH_SKIP_CMS:-0}
SKIP_ANSIBLE=${BENCH_SKIP_ANSIBLE:-0}
PREFIX=${BENCH_PREFIX:-lbench$$}
IMAGE_ALIAS=cms-debian-12
[[ "$N" =~ ^[1-9]$|^1[0-9]$ ]] || die "BENCH_LXD_HOSTS must be 1..19"
[[ "$RUNS" =~ ^[1-9]$ ]] || die "BENCH_RUNS must be 1..9"
[[ "$PREFIX" =~ ^[a-z][a-z0-9]{0,15}$ ]] || die "BENCH_PREFIX must be a lowercase name of at most 16 characters"

if [[ "${BENCH_SETUP:-1}" != 0 ]]; then
  ensure_tools
  ensure_testbed
fi
[[ -f "${CMS_SPARK_DIST:-}" ]] || die "CMS_SPARK_DIST is not set (eval \"\$(bash scripts/testbed.sh)\")"
command -v jq >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y jq >&2 || die "jq is missing"

# The tests' private daemon. Remember whether it already answered: one this script starts, it stops again.
LXD_WAS_UP=0
if [[ -S "${CMS_LXD_SOCKET:-/var/lib/cms-lxd/unix.socket}" ]] &&
  timeout 10 curl -sf --unix-socket "${CMS_LXD_SOCKET:-/var/lib/cms-lxd/unix.socket}" http://lxd/1.0 >/dev/null 2>&1; then
  LXD_WAS_UP=1
fi
LXD_ENV="$(bash scripts/lxd.sh)" || die "scripts/lxd.sh failed"
eval "$LXD_ENV"
export CMS_LXD_SOCKET
LXD_DIR="$(dirname "$CMS_LXD_SOCKET")"
export LXD_DIR # the lxc client talks to this daemon over its unix socket
lxc image info "$IMAGE_ALIAS" >/dev/null || die "image $IMAGE_ALIAS is not on the daemon at $CMS_LXD_SOCKET"

WORK="$(mktemp -d /tmp/cms-lxdbench.XXXXXX)"
export CMS_HOME="$WORK/cms-home"
mkdir -p "$CMS_HOME"
# As the e2e tests: cms asks only LXD (an lxd cluster needs no Docker engine).
export DOCKER_HOST=unix:///nonexistent/docker.sock

# Another user of the daemon may stop it (scripts/test.sh does when it ends): say so instead of failing obscurely.
daemon_answers() { timeout 10 curl -sf --unix-socket "$CMS_LXD_SOCKET" http://lxd/1.0 >/dev/null 2>&1; }
DAEMON_GONE="the LXD daemon at $CMS_LXD_SOCKET stopped answering during the run (scripts/lxd.sh --stop, e.g. at the end of scripts/test.sh?)"

# Names of this run's instances, on either side (and only those).
OURS_RE="^(${PREFIX}-|cms-${PREFIX}r[0-9]+cx?-)"
ours() { lxc list --format csv -c n 2>/dev/null | grep -E "$OURS_RE" || true; }
delete_instances() { # delete_instances NAME...
  local n pids=()
  for n in "$@"; do timeout 120 lxc delete --force "$n" >/dev/null 2>&1 & pids+=($!); done
  for n in "${pids[@]}"; do wait "$n" || true; done
}

cleanup() {
  local rc=$? c left
  set +e
  for c in "${CMS_CLUSTERS[@]}"; do
    if [[ -n "$(lxc list --format csv -c n "cms-$c-" 2>/dev/null)" ]]; then
      log "cleanup: killing cms cluster $c"
      timeout 300 node "$REPO_DIR/bin/run.js" cluster kill -n "$c" --yes >/dev/null 2>&1
    fi
  done
  mapfile -t left < <(ours)
  if ((${#left[@]})); then log "cleanup: deleting ${left[*]}"; delete_instances "${left[@]}"; fi
  if [[ "$LXD_WAS_UP" == 0 && "${BENCH_LXD_KEEP:-0}" == 0 ]]; then
    if [[ -z "$(lxc list --format csv -c n 2>/dev/null)" ]]; then
      log "cleanup: stopping the LXD daemon this script started"
      bash scripts/lxd.sh --stop
    else
      log "cleanup: the LXD daemon this script started has other instances now: left running"
    fi
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

DIST_BYTES=$(stat -c %s "$CMS_SPARK_DIST")
DIST_MB=$(awk -v b="$DIST_BYTES" 'BEGIN { printf "%.0f", b / 1048576 }')
log "Spark dist: $CMS_SPARK_DIST ($DIST_MB MiB), hosts=$N, runs=$RUNS, LXD $(lxd --version) at $CMS_LXD_SOCKET, prefix $PREFIX"

# The same query for both sides, from this machine: the master's alive workers.
alive_workers() { timeout 10 curl -sf "http://$1:8080/json/" | jq -r '.aliveworkers // 0' 2>/dev/null || echo 0; }
wait_alive() { # wait_alive HEAD N: bounded (120 s)
  local i
  for ((i = 0; i < 120; i++)); do
    [[ "$(alive_workers "$1")" == "$2" ]] && return 0
    sleep 1
  done
  return 1
}
# "NAME ADDRESS" per instance whose name starts with $1 (address empty while it has none), sorted by name.
addresses() {
  lxc list "$1" --format json |
    jq -r '.[] | [.name, ([.state.network // {} | to_entries[] | select(.key != "lo") | .value.addresses[]?
      | select(.family == "inet" and .scope == "global") | .address] | first // "")] | @tsv' | sort -V
}

# ---------------------------------------------------------------- Ansible
ANSIBLE_TIMES=()
ANSIBLE_ERROR=""
ANSIBLE_PLAYBOOK_TIMES=()

ansible_setup() {
  ssh-keygen -q -t ed25519 -N '' -C cms-lxd-bench -f "$WORK/bench_key"
  local first
  first="$(tar -tzf "$CMS_SPARK_DIST" | head -n 1 || true)"
  STRIP=0
  [[ "$first" == */* || "$first" == */ ]] && STRIP=1
  [[ "$first" == ./* ]] && STRIP=$((STRIP + 1))
  write_ansible_cfg "$WORK/ansible.cfg"
}

# user_data HOSTKEY_FILE: cloud-config that installs the host key and lets the bench key in as the default user.
user_data() {
  echo '#cloud-config'
  echo 'system_info: {default_user: {name: admin}}'
  echo 'ssh_deletekeys: true'
  echo 'ssh_genkeytypes: []'
  echo 'disable_root: true'
  echo 'ssh_keys:'
  echo '  ed25519_private: |'
  sed 's/^/    /' "$1"
  echo "  ed25519_public: $(cut -d ' ' -f 1-2 "$1.pub")"
  echo 'ssh_authorized_keys:'
  echo "  - $(cat "$WORK/bench_key.pub")"
}

# ansible_run RUN -> sets LAST_SECONDS, LAST_PLAYBOOK_SECONDS
ansible_run() {
  local r=$1 t0 t1 tp i name rc=0 pids=() rows=() head="" dir="$WORK/a$r"
  local base="$PREFIX-a$r"
  mkdir -p "$dir"
  t0=$(now)
  # ---- timed: host keys, user data, instances (cms create does the same), addresses, known_hosts, playbook
  for ((i = 1; i <= N; i++)); do
    name="$base-$i"
    ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$dir/host_$i"
    user_data "$dir/host_$i" >"$dir/user-data-$i"
    timeout 300 lxc launch "$IMAGE_ALIAS" "$name" -c user.user-data="$(cat "$dir/user-data-$i")" \
      -c "user.bench.run=$PREFIX" >"$dir/launch-$i.log" 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  ((rc == 0)) || { ANSIBLE_ERROR="lxc launch failed: $(cat "$dir"/launch-*.log | grep -iv '^creating\|^starting' | head -n 3 | tr '\n' ' ')"; return 1; }
  for ((i = 0; i < 120; i++)); do
    mapfile -t rows < <(addresses "$base-")
    ((${#rows[@]} == N)) && ! printf '%s\n' "${rows[@]}" | grep -qP '\t$' && break
    rows=()
    sleep 1
  done
  ((${#rows[@]} == N)) || { ANSIBLE_ERROR="instances without an address after 120 s"; return 1; }
  : >"$dir/known_hosts"
  {
    echo "[spark]"
    for row in "${rows[@]}"; do
      name=${row%%$'\t'*}
      i=${name##*-}
      echo "$name ansible_host=${row#*$'\t'}"
      echo "${row#*$'\t'} $(cut -d ' ' -f 1-2 "$dir/host_$i.pub")" >>"$dir/known_hosts"
      [[ -n "$head" ]] || head=${row#*$'\t'}
    done
    echo "[spark:vars]"
    echo "ansible_user=admin"
    echo "ansible_become=true"
    echo "ansible_ssh_private_key_file=$WORK/bench_key"
    echo "ansible_ssh_common_args='-o UserKnownHostsFile=$dir/known_hosts -o StrictHostKeyChecking=yes -o ServerAliveInterval=15 -o ServerAliveCountMax=4'"
  } >"$dir/inventory.ini"
  tp=$(now)
  if ! ANSIBLE_CONFIG="$WORK/ansible.cfg" timeout 900 ansible-playbook -i "$dir/inventory.ini" \
    -e "spark_dist=$CMS_SPARK_DIST" -e "spark_strip=$STRIP" "$BENCH_DIR/ansible/lxd-site.yml" >"$dir/ansible.log" 2>&1; then
    tail -n 40 "$dir/ansible.log" >&2
    cp "$dir/ansible.log" "$RESULTS_DIR/lxd-ansible-$N-hosts.log"
    ANSIBLE_ERROR="ansible-playbook failed ($N hosts; see bench/results/lxd-ansible-$N-hosts.log): $(grep -m1 -E 'fatal:|FAILED' "$dir/ansible.log" | cut -c1-300)"
    daemon_answers || ANSIBLE_ERROR+="; $DAEMON_GONE"
    return 1
  fi
  wait_alive "$head" "$N" || { ANSIBLE_ERROR="the master at $head does not report $N alive workers"; return 1; }
  t1=$(now)
  # ---- untimed
  LAST_SECONDS=$(elapsed "$t0" "$t1")
  LAST_PLAYBOOK_SECONDS=$(elapsed "$tp" "$t1")
  grep -E ' -+ +[0-9.]+s$' "$dir/ansible.log" | sed 's/^/  ansible task: /' >&2 || true
  cp "$dir/ansible.log" "$RESULTS_DIR/lxd-ansible-$N-hosts.log"
}

ansible_measure() { # ansible_measure RUN
  [[ "$SKIP_ANSIBLE" == 0 && -z "$ANSIBLE_ERROR" ]] || return 0
  daemon_answers || { ANSIBLE_ERROR=$DAEMON_GONE; log "ansible: $ANSIBLE_ERROR"; return 0; }
  log "ansible: $N hosts, run $1"
  if ansible_run "$1"; then
    log "ansible: $N hosts took ${LAST_SECONDS}s (playbook ${LAST_PLAYBOOK_SECONDS}s)"
    ANSIBLE_TIMES+=("$LAST_SECONDS")
    ANSIBLE_PLAYBOOK_TIMES+=("$LAST_PLAYBOOK_SECONDS")
  else
    log "ansible: $ANSIBLE_ERROR"
  fi
  local left
  mapfile -t left < <(lxc list --format csv -c n "$PREFIX-a$1-" 2>/dev/null)
  ((${#left[@]} == 0)) || delete_instances "${left[@]}"
}

# ---------------------------------------------------------------- cms
CMS_CREATE_ARGS=(-p lxd -e spark)
CMS_TIMES=()
CMS_REPORTED=()
CMS_ERROR=""
CMS_OK=1

cms_measure() { # cms_measure RUN
  local r=$1 out="$WORK/cms-$1.json" t0 t1 head
  [[ "$SKIP_CMS" == 0 ]] && ((CMS_OK)) || return 0
  daemon_answers || { CMS_ERROR=$DAEMON_GONE CMS_OK=0; log "cms: $CMS_ERROR"; return 0; }
  log "cms: create $N hosts, run $r"
  t0=$(now)
  if ! cms_create "${PREFIX}r${r}c" "$N" "$out"; then
    # With --json the error is on stdout.
    CMS_ERROR="create --hosts $N failed: $(jq -r '.error.message // empty' "$out" 2>/dev/null) $(grep -v -e '^❯' -e '^✔' "$out.err" | tail -n 5 | tr '\n' ' ')"
  else
    head=$(addresses "cms-$CMS_NAME-" | head -n 1 | cut -f 2)
    if [[ -z "$head" ]] || ! wait_alive "$head" "$N"; then
      CMS_ERROR="the master at ${head:-?} does not report $N alive workers after create"
    fi
  fi
  t1=$(now)
  if [[ -n "$CMS_ERROR" ]]; then
    log "cms: $CMS_ERROR"
    CMS_OK=0
  else
    CMS_TIMES+=("$(elapsed "$t0" "$t1")")
    CMS_REPORTED+=("$(json_get "$out" seconds)")
    cp "$out" "$RESULTS_DIR/lxd-cms-create-$N-hosts.json"
    log "cms: $N hosts took $(elapsed "$t0" "$t1")s (cms says $(json_get "$out" seconds)s)"
  fi
  cms_kill "$CMS_NAME" || true
}

# ---------------------------------------------------------------- schedule
if [[ "${BENCH_WARMUP:-1}" != 0 ]]; then
  log "warm-up: launch + delete of one instance (untimed; reads the image into the page cache)"
  timeout 300 lxc launch "$IMAGE_ALIAS" "$PREFIX-warm" -c "user.bench.run=$PREFIX" >/dev/null 2>&1 || log "warm-up launch failed"
  delete_instances "$PREFIX-warm"
fi
[[ "$SKIP_ANSIBLE" != 0 ]] || ansible_setup
if [[ "$SKIP_CMS" == 0 ]] && ! { ensure_cms_built && node bin/run.js --version >/dev/null 2>&1; }; then
  CMS_ERROR="cms does not build or run (npm run build / node bin/run.js --version)"
  CMS_OK=0
fi
code_line() {
  local rev dirty=
  rev=$(git -C "$REPO_DIR" log -1 --format=%h 2>/dev/null || echo unknown)
  [[ -z "$(git -C "$REPO_DIR" status --porcelain -- src 2>/dev/null)" ]] || dirty=" + uncommitted changes in src/"
  echo "commit $rev$dirty, dist/ built $(date -u -r "$REPO_DIR/dist/commands/cluster/create.js" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo '?')"
}
CODE=$(code_line)
BUSY=$(lxc list --format csv -c n 2>/dev/null | grep -cvE "$OURS_RE" || true)
LOAD_BEFORE=$(load_avg)
for ((r = 1; r <= RUNS; r++)); do
  ansible_measure "$r"
  cms_measure "$r"
done
LOAD_AFTER=$(load_avg)

# ---------------------------------------------------------------- report
A=$( ((${#ANSIBLE_TIMES[@]})) && echo "${ANSIBLE_TIMES[*]}" | median || echo "")
AP=$( ((${#ANSIBLE_PLAYBOOK_TIMES[@]})) && echo "${ANSIBLE_PLAYBOOK_TIMES[*]}" | median || echo "")
C=$( ((${#CMS_TIMES[@]})) && echo "${CMS_TIMES[*]}" | median || echo "")
CR=$( ((${#CMS_REPORTED[@]})) && echo "${CMS_REPORTED[*]}" | median || echo "")
R=$([[ -n "$A" && -n "$C" ]] && ratio "$C" "$A" || echo "n/a")
json_list() { local IFS=,; echo "[$*]"; }

{
  echo "### Cluster create on LXD: cms vs Ansible"
  echo
  echo "Machine: $(machine_line). Measured: $CODE. LXD $(lxd --version) (scripts/lxd.sh's private daemon, image $IMAGE_ALIAS, containers, no limits)."
  echo "Spark distribution: $(basename "$CMS_SPARK_DIST"), $DIST_BYTES bytes ($DIST_MB MiB). Runs: $RUNS (median; they alternate Ansible, cms, ...)."
  echo "Both timings start at the first instance request and end when the master's /json/ (the same curl from this machine) reports $N alive workers."
  echo "Load average (1/5/15 min) at start: $LOAD_BEFORE; at end: $LOAD_AFTER ($(nproc) CPUs). Other instances on the daemon at start: $BUSY."
  echo
  echo "| measure | cms | Ansible | cms/Ansible | goal |"
  echo "|---|---:|---:|---:|---|"
  echo "| create $N hosts (s) | $(fmt "$C") | $(fmt "$A") | $R | <= 0.50 ($(pass "$R" 0.5)) |"
  echo "| of which: after the instances have addresses (s) | $(fmt "$CR") | $(fmt "$AP") | $([[ -n "$CR" && -n "$AP" ]] && ratio "$CR" "$AP" || echo "n/a") | |"
  echo
  echo "The second row is cms's own \`seconds\` in --json (its converge: SSH, cloud-init wait, Spark shipped, started, healthy) and, for Ansible, from the inventory written to the end (the playbook and the final query): the engine half alone, without making the instances."
  echo
  echo "Ansible's side: N \`lxc launch\` in parallel with cloud-init user data (a host key made per instance, the bench's login key for admin), addresses from \`lxc list\`, known_hosts written from them (StrictHostKeyChecking=yes: host key checking on, nothing accepted on first use), then bench/ansible/lxd-site.yml: SSH and \`cloud-init status --wait\`, then bench/ansible/site.yml through sudo (the tarball pushed to every host)."
  report_notes
} >"$RESULTS_DIR/lxd-create-vs-ansible.md"

cat >"$RESULTS_DIR/lxd-create-vs-ansible.json" <<EOF
{
  "hosts": $N,
  "runs": $RUNS,
  "code": $(jq -Rn --arg v "$CODE" '$v'),
  "machine": $(jq -Rn --arg v "$(machine_line)" '$v'),
  "lxd": $(jq -Rn --arg v "$(lxd --version)" '$v'),
  "distributionBytes": $DIST_BYTES,
  "loadBefore": "$LOAD_BEFORE", "loadAfter": "$LOAD_AFTER",
  "otherInstancesAtStart": $BUSY,
  "cms": {"createSeconds": $(json_list "${CMS_TIMES[@]}"), "reportedSeconds": $(json_list "${CMS_REPORTED[@]}"), "median": ${C:-null}},
  "ansible": {"createSeconds": $(json_list "${ANSIBLE_TIMES[@]}"), "playbookSeconds": $(json_list "${ANSIBLE_PLAYBOOK_TIMES[@]}"), "median": ${A:-null}},
  "cmsRetries": ${#CMS_RETRIES[@]},
  "ansibleError": $(jq -Rn --arg v "$ANSIBLE_ERROR" 'if $v == "" then null else $v end'),
  "cmsError": $(jq -Rn --arg v "$CMS_ERROR" 'if $v == "" then null else $v end'),
  "ratioCmsOverAnsible": $([[ "$R" == n/a ]] && echo null || echo "$R")
}
EOF

cat "$RESULTS_DIR/lxd-create-vs-ansible.md"
[[ -z "$CMS_ERROR" && -z "$ANSIBLE_ERROR" ]]
