#!/usr/bin/env bash
# Peer comparison: `cms cluster create -e nomad` vs an Ansible playbook (bench/ansible/nomad.yml) doing the same
# work on the same kind of fresh container hosts: the same host image and docker run options cms's docker provider
# gives Nomad hosts (--cap-add SYS_ADMIN --cgroupns=private, CMS_WRITABLE_CGROUPS=1), the same Nomad release zip
# (CMS_NOMAD_DIST), the same agent configuration (mutual TLS with a per-cluster CA, gossip encryption, ACLs
# bootstrapped with a chosen token, private listeners, raw_exec), ending when Nomad reports every node ready and
# eligible. Both timings include creating the network and starting the containers.
#
# Env knobs:
#   BENCH_HOSTS=8          hosts for the head-to-head comparison
#   BENCH_RUNS=1           repetitions of each N-host timing (median is reported; they alternate Ansible, cms, ...)
#   BENCH_ONE_HOST=1       also time both on 1 host (0 to skip)
#   BENCH_SKIP_CMS=1 / BENCH_SKIP_ANSIBLE=1   run only one half
#   BENCH_PREFIX=nbench<pid>   names of this run's clusters, containers and network (and its cleanup label)
#   BENCH_SETUP=0          skip tool/testbed setup (run.sh already did it)
# Writes bench/results/nomad-create-vs-ansible.{md,json}; prints the markdown table to stdout.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

N=${BENCH_HOSTS:-8}
RUNS=${BENCH_RUNS:-1}
ONE_HOST=${BENCH_ONE_HOST:-1}
SKIP_CMS=${BENCH_SKIP_CMS:-0}
SKIP_ANSIBLE=${BENCH_SKIP_ANSIBLE:-0}
PREFIX=${BENCH_PREFIX:-nbench$$}
[[ "$N" =~ ^[1-9][0-9]?$ ]] || die "BENCH_HOSTS must be 1..99"
[[ "$RUNS" =~ ^[1-9]$ ]] || die "BENCH_RUNS must be 1..9"
[[ "$PREFIX" =~ ^[a-z][a-z0-9]{0,15}$ ]] || die "BENCH_PREFIX must be a lowercase name of at most 16 characters"
# Ansible's hosts carry the shared bench label plus this run's own, and only this run's are removed.
BENCH_LABELS=(cms.bench=1 "cms.bench.run=$PREFIX")
NET=$PREFIX-net
IMAGE=cms-bench-host
CMS_CREATE_ARGS=(-e nomad)

if [[ "${BENCH_SETUP:-1}" != 0 ]]; then
  ensure_tools
  ensure_testbed
fi
ensure_nomad_dist
command -v openssl >/dev/null || die "openssl is required"
docker info >/dev/null 2>&1 || die "docker engine is not running"

WORK="$(mktemp -d /tmp/cms-bench-nomad.XXXXXX)"
export CMS_HOME="$WORK/cms-home"
mkdir -p "$CMS_HOME"

remove_bench_docker() { remove_by_label "cms.bench.run=$PREFIX"; }

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
pin_nomad_dist "$WORK"

ZIP_BYTES=$(stat -c %s "$CMS_NOMAD_DIST")
log "Nomad dist: $CMS_NOMAD_DIST ($ZIP_BYTES bytes), hosts=$N, runs=$RUNS, prefix=$PREFIX"

# ---------------------------------------------------------------- Ansible
ANSIBLE_TIMES=()
ANSIBLE_RX=""
ANSIBLE_1_TIME=""
ANSIBLE_ERROR=""

# The PKI cms makes in its create, made here once beforehand (untimed) with openssl: an EC P-256 CA and one
# certificate per host with the names cms puts in its agents' certificates (server.global.nomad on the head,
# client.global.nomad, localhost, 127.0.0.1), serverAuth + clientAuth. cms also adds each host's private address;
# these hosts' addresses are only known once they run, and nothing in the playbook needs them (peers verify the
# server name, the CLI on the head sets NOMAD_TLS_SERVER_NAME).
make_pki() {
  local dir=$WORK/pki i names cn
  mkdir -p "$dir" && chmod 0700 "$dir"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=bench Nomad CA" -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" 2>/dev/null || return 1
  for ((i = 1; i <= N; i++)); do
    cn=client.global.nomad
    ((i == 1)) && cn=server.global.nomad
    names="DNS:$cn,DNS:localhost,IP:127.0.0.1"
    ((i == 1)) && names="DNS:server.global.nomad,DNS:client.global.nomad,DNS:localhost,IP:127.0.0.1"
    printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
      'extendedKeyUsage=serverAuth,clientAuth' "subjectAltName=$names" >"$dir/ext.cnf"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$cn" \
      -keyout "$dir/$PREFIX-a-$i-key.pem" -out "$dir/host.csr" 2>/dev/null &&
      openssl x509 -req -in "$dir/host.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial -days 3650 \
        -extfile "$dir/ext.cnf" -out "$dir/$PREFIX-a-$i.pem" 2>/dev/null || return 1
  done
  chmod 0600 "$dir"/*-key.pem
}

ansible_setup() {
  log "ansible: building $IMAGE from images/host (should hit the layer cache), key, PKI, gossip key, token"
  docker build -q -t "$IMAGE" images/host >/dev/null || { ANSIBLE_ERROR="docker build of images/host failed"; return 1; }
  ssh-keygen -q -t ed25519 -N '' -C cms-bench -f "$WORK/bench_key"
  make_pki || { ANSIBLE_ERROR="openssl could not make the bench PKI"; return 1; }
  (
    umask 077
    printf 'nomad_gossip_key: "%s"\n' "$(openssl rand -base64 32)" >"$WORK/secrets.yml"
    cat /proc/sys/kernel/random/uuid >"$WORK/management.token"
  )
  write_ansible_cfg "$WORK/ansible.cfg"
}

# ansible_run HOSTS -> sets LAST_SECONDS, LAST_RX
ansible_run() {
  local hosts=$1 t0 t1
  remove_bench_docker
  : >"$WORK/known_hosts"

  t0=$(now)
  # ---- timed: network + containers as cms's docker provider makes them for Nomad, then the playbook
  bench_hosts_up "$NET" "$PREFIX-a" "$hosts" "$IMAGE" --cap-add SYS_ADMIN --cgroupns=private \
    -e CMS_WRITABLE_CGROUPS=1 -e CMS_AUTHORIZED_KEY="$(cat "$WORK/bench_key.pub")" ||
    { ANSIBLE_ERROR="docker run failed ($hosts hosts)"; return 1; }
  write_inventory nomad "$WORK/inventory.ini" "$WORK/bench_key" "$WORK/known_hosts"
  if ! ANSIBLE_CONFIG="$WORK/ansible.cfg" timeout 900 ansible-playbook -i "$WORK/inventory.ini" \
    -e "nomad_zip=$CMS_NOMAD_DIST" -e "nomad_pki=$WORK/pki" -e "nomad_token_file=$WORK/management.token" \
    -e "@$WORK/secrets.yml" "$BENCH_DIR/ansible/nomad.yml" >"$WORK/ansible.log" 2>&1; then
    tail -n 40 "$WORK/ansible.log" >&2
    cp "$WORK/ansible.log" "$RESULTS_DIR/ansible-nomad-$hosts-hosts.log"
    ANSIBLE_ERROR="ansible-playbook failed ($hosts hosts; see bench/results/ansible-nomad-$hosts-hosts.log): $(grep -m1 -E 'fatal:|FAILED' "$WORK/ansible.log" | cut -c1-300)"
    return 1
  fi
  t1=$(now)
  # ---- untimed
  LAST_SECONDS=$(elapsed "$t0" "$t1")
  LAST_RX=$(rx_sum "${BENCH_HOST_NAMES[@]}")
  grep -E ' -+ +[0-9.]+s$' "$WORK/ansible.log" | sed 's/^/  ansible task: /' >&2 || true
  cp "$WORK/ansible.log" "$RESULTS_DIR/ansible-nomad-$hosts-hosts.log"
  remove_bench_docker
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
  fi
}

# ---------------------------------------------------------------- cms
CMS_TIMELIST=""
CMS_1_TIME=""
CMS_RATIO=""
CMS_SECONDS=""
CMS_ERROR=""
CMS_OK=0

cms_warm() {
  if ! { ensure_cms_built && node bin/run.js --version >/dev/null 2>&1; }; then
    CMS_ERROR="cms does not build or run (npm run build / node bin/run.js --version)"
    log "cms: $CMS_ERROR"
    return 0
  fi
  log "cms: warm-up create+kill of 1 Nomad host (builds the host image if needed; untimed)"
  if cms_create "${PREFIX}w" 1 "$WORK/warm.json"; then
    cms_kill "$CMS_NAME" || true
    CMS_OK=1
  else
    CMS_ERROR="warm-up create failed: $(tail -n 5 "$WORK/warm.json.err" | tr '\n' ' ')"
    log "cms: $CMS_ERROR"
    cms_kill "$CMS_NAME" || true
  fi
}

# Nodes Nomad reports ready and eligible in a create's --json result.
ready_nodes() { node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log((j.cluster?.hosts ?? []).filter((h)=>h.node?.status==="ready"&&h.node?.eligibility==="eligible").length)' "$1"; }

cms_measure() { # cms_measure HOSTS RUN
  local n=$1 r=$2 out t0 t1 ready
  ((CMS_OK)) || return 0
  out="$WORK/cms-$n-$r.json"
  log "cms: create $n Nomad hosts, run $r"
  t0=$(now)
  if ! cms_create "${PREFIX}n${n}r${r}" "$n" "$out"; then
    CMS_ERROR="create --hosts $n failed: $(grep -v -e '^❯' -e '^✔' "$out.err" | tail -n 5 | tr '\n' ' ')"
    log "cms: $CMS_ERROR"
    cms_kill "$CMS_NAME" || true
    CMS_OK=0
    return 0
  fi
  t1=$(now)
  ready=$(ready_nodes "$out")
  if [[ "$ready" != "$n" ]]; then
    CMS_ERROR="create --hosts $n exited 0 with $ready ready nodes"
    CMS_OK=0
    cms_kill "$CMS_NAME" || true
    return 0
  fi
  if [[ "$n" == "$N" ]]; then
    CMS_TIMELIST="$CMS_TIMELIST $(elapsed "$t0" "$t1")"
    CMS_RATIO=$(json_get "$out" transfer.uploadRatio)
    CMS_SECONDS="$CMS_SECONDS $(json_get "$out" seconds)"
    cp "$out" "$RESULTS_DIR/cms-nomad-create-$n-hosts.json"
  else
    CMS_1_TIME=$(elapsed "$t0" "$t1")
  fi
  log "cms: $n hosts took $(elapsed "$t0" "$t1")s (cms says $(json_get "$out" seconds)s), $ready nodes ready, uploadRatio=$(json_get "$out" transfer.uploadRatio)"
  cms_kill "$CMS_NAME" || true
}

# ---------------------------------------------------------------- schedule
[[ "$SKIP_ANSIBLE" != 0 ]] || ansible_setup || log "ansible: ${ANSIBLE_ERROR:=setup failed}"
[[ "$SKIP_CMS" != 0 ]] || cms_warm
LOAD_BEFORE=$(load_avg)
for ((r = 1; r <= RUNS; r++)); do
  ansible_measure "$N" "$r"
  cms_measure "$N" "$r"
done
if [[ "$ONE_HOST" != 0 && "$N" != 1 ]]; then
  cms_measure 1 1
  ansible_measure 1 1
fi
LOAD_AFTER=$(load_avg)

# ---------------------------------------------------------------- report
A8=$( ((${#ANSIBLE_TIMES[@]})) && echo "${ANSIBLE_TIMES[*]}" | median || echo "")
C8=$(echo "$CMS_TIMELIST" | median)
R=$([[ -n "$A8" && -n "$C8" ]] && ratio "$C8" "$A8" || echo "n/a")
R1=$([[ -n "$CMS_1_TIME" && -n "$ANSIBLE_1_TIME" ]] && ratio "$CMS_1_TIME" "$ANSIBLE_1_TIME" || echo "n/a")
ANS_RX_RATIO=$([[ -n "$ANSIBLE_RX" ]] && ratio "$ANSIBLE_RX" "$ZIP_BYTES" || echo "n/a")

{
  echo "### Nomad cluster create: cms vs Ansible"
  echo
  echo "Machine: $(machine_line). Nomad release zip: $(basename "$CMS_NOMAD_DIST"), $ZIP_BYTES bytes. Runs per $N-host timing: $RUNS (median; they alternate Ansible, cms, ...)."
  echo "Both include creating the network and starting the containers (same image and docker run options), and end when Nomad reports every node ready and eligible."
  echo "Load average (1/5/15 min) at start: $LOAD_BEFORE; at end: $LOAD_AFTER ($(nproc) CPUs)."
  echo
  echo "| measure | cms | Ansible | cms/Ansible | goal |"
  echo "|---|---:|---:|---:|---|"
  echo "| create $N hosts (s) | $(fmt "$C8") | $(fmt "$A8") | $R | <= 0.50 ($(pass "$R" 0.5)) |"
  [[ "$ONE_HOST" == 0 || "$N" == 1 ]] || echo "| create 1 host (s) | $(fmt "$CMS_1_TIME") | $(fmt "$ANSIBLE_1_TIME") | $R1 | |"
  echo "| zip bytes sent from this machine / zip size, $N hosts | $(fmt "$CMS_RATIO") | $ANS_RX_RATIO | | |"
  echo
  echo "cms: \`uploadRatio\` from its --json (the zip goes to the head once, the other hosts fetch it from there). Each $N-host run, wall / cms's own \`seconds\`: $(fmt "${CMS_TIMELIST# }") / $(fmt "${CMS_SECONDS# }"); Ansible: $(fmt "${ANSIBLE_TIMES[*]}")."
  echo "Ansible: eth0 rx bytes summed over its $N containers / zip size (the zip is pushed to every host; SSH and module traffic included)."
  echo "Ansible's PKI (CA, a certificate per host), gossip key and ACL token are made before the timed window; cms makes its own inside it."
  echo "Ansible's times are bimodal: its combined server+client agent on the head may register before the new server's keyring exists; Nomad refuses it (\"keyring has not been initialized yet\") and the client retries ~25 s later. cms starts clients only once the keyring exists."
  report_notes
} >"$RESULTS_DIR/nomad-create-vs-ansible.md"

jnum() { [[ -n "$1" && "$1" != n/a ]] && echo "$1" || echo null; }
cat >"$RESULTS_DIR/nomad-create-vs-ansible.json" <<EOF
{
  "hosts": $N,
  "runs": $RUNS,
  "nomadZipBytes": $ZIP_BYTES,
  "loadBefore": "$LOAD_BEFORE", "loadAfter": "$LOAD_AFTER",
  "cms": {"createSeconds": [$(echo "$CMS_TIMELIST" | xargs | tr ' ' ',')], "medianSeconds": $(jnum "$C8"), "reportedSeconds": [$(echo "$CMS_SECONDS" | xargs | tr ' ' ',')], "oneHostSeconds": $(jnum "$CMS_1_TIME"), "uploadRatio": $(jnum "$CMS_RATIO")},
  "ansible": {"createSeconds": [$(IFS=,; echo "${ANSIBLE_TIMES[*]}")], "medianSeconds": $(jnum "$A8"), "oneHostSeconds": $(jnum "$ANSIBLE_1_TIME"), "rxBytes": $(jnum "$ANSIBLE_RX")},
  "cmsRetries": ${#CMS_RETRIES[@]},
  "ansibleError": $(node -e 'console.log(JSON.stringify(process.argv[1] || null))' "$ANSIBLE_ERROR"),
  "cmsError": $(node -e 'console.log(JSON.stringify(process.argv[1] || null))' "$CMS_ERROR"),
  "ratioCmsOverAnsible": $(jnum "$R")
}
EOF

cat "$RESULTS_DIR/nomad-create-vs-ansible.md"
[[ -z "$CMS_ERROR" && -z "$ANSIBLE_ERROR" ]]
