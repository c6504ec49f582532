#!/usr/bin/env bash
# Runs the default benchmarks: idempotent setup (ansible + hyperfine from apt, the project testbed, cms build), then
# bench/cold-start.sh, bench/create-vs-ansible.sh, and (unless BENCH_NOMAD=0) bench/nomad-create-vs-ansible.sh and
# bench/nomad-submit-vs-cli.sh, and (unless BENCH_K8S=0) bench/k8s-create-vs-ansible.sh and (unless also
# BENCH_K8S_SUBMIT=0) bench/k8s-submit-vs-kubectl.sh, and (unless BENCH_HADOOP=0) bench/hadoop-create-vs-ansible.sh and
# (unless also BENCH_HADOOP_SUBMIT=0) bench/hadoop-submit-vs-spark-submit.sh, and (unless BENCH_LXD=0)
# bench/lxd-create-vs-ansible.sh, and (unless BENCH_LIST=0) bench/list-providers.sh, and (unless BENCH_SERVE=0)
# bench/serve-idle-memory.sh,
# bench/serve-intake.sh and (unless also BENCH_SERVE_OVERHEAD=0) bench/serve-overhead.sh. Prints the results and
# writes bench/results/latest.md.
# Pass-through env knobs: see the header of each script (BENCH_RUNS, BENCH_HOSTS, BENCH_SKIP_CMS, ...).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

ensure_tools
ensure_testbed
export BENCH_SETUP=0 CMS_SPARK_DIST CMS_SPARK_VERSION

status=0
REPORTS=(cold-start.md create-vs-ansible.md)
[[ "${BENCH_NOMAD:-1}" == 0 ]] || REPORTS+=(nomad-create-vs-ansible.md nomad-submit-vs-cli.md)
[[ "${BENCH_K8S:-1}" == 0 ]] || REPORTS+=(k8s-create-vs-ansible.md)
[[ "${BENCH_K8S:-1}" == 0 || "${BENCH_K8S_SUBMIT:-1}" == 0 ]] || REPORTS+=(k8s-submit-vs-kubectl.md)
[[ "${BENCH_HADOOP:-1}" == 0 ]] || REPORTS+=(hadoop-create-vs-ansible.md)
[[ "${BENCH_HADOOP:-1}" == 0 || "${BENCH_HADOOP_SUBMIT:-1}" == 0 ]] || REPORTS+=(hadoop-submit-vs-spark-submit.md)
[[ "${BENCH_LXD:-1}" == 0 ]] || REPORTS+=(lxd-create-vs-ansible.md)
[[ "${BENCH_LIST:-1}" == 0 ]] || REPORTS+=(list-providers.md)
[[ "${BENCH_SERVE:-1}" == 0 ]] || REPORTS+=(serve-idle-memory.md serve-intake.md)
[[ "${BENCH_SERVE:-1}" == 0 || "${BENCH_SERVE_OVERHEAD:-1}" == 0 ]] || REPORTS+=(serve-overhead.md)
for f in "${REPORTS[@]}"; do rm -f "${RESULTS_DIR:?}/$f"; done
if ensure_cms_built; then
  bash "$BENCH_DIR/cold-start.sh" >/dev/null || { status=1; log "cold-start.sh failed"; }
else
  status=1
  log "cms does not build; skipping cold-start.sh"
fi
bash "$BENCH_DIR/create-vs-ansible.sh" >/dev/null || { status=1; log "create-vs-ansible.sh failed"; }
if [[ "${BENCH_NOMAD:-1}" != 0 ]]; then
  # Both resolve the Nomad zip themselves (CMS_NOMAD_DIST, scripts/nomad-dist.sh, or the testbed's cache).
  bash "$BENCH_DIR/nomad-create-vs-ansible.sh" >/dev/null || { status=1; log "nomad-create-vs-ansible.sh failed"; }
  bash "$BENCH_DIR/nomad-submit-vs-cli.sh" >/dev/null || { status=1; log "nomad-submit-vs-cli.sh failed"; }
fi
if [[ "${BENCH_K8S:-1}" != 0 ]]; then
  # Takes the Kubernetes and CoreDNS archives from CMS_K8S_DIST / CMS_COREDNS_DIST or `scripts/testbed.sh --kubernetes`.
  bash "$BENCH_DIR/k8s-create-vs-ansible.sh" >/dev/null || { status=1; log "k8s-create-vs-ansible.sh failed"; }
  if [[ "${BENCH_K8S_SUBMIT:-1}" != 0 ]]; then
    bash "$BENCH_DIR/k8s-submit-vs-kubectl.sh" >/dev/null || { status=1; log "k8s-submit-vs-kubectl.sh failed"; }
  fi
fi
if [[ "${BENCH_HADOOP:-1}" != 0 ]]; then
  # Both take the Hadoop and Spark archives from CMS_HADOOP_DIST / CMS_SPARK_DIST or `scripts/testbed.sh --hadoop`.
  bash "$BENCH_DIR/hadoop-create-vs-ansible.sh" >/dev/null || { status=1; log "hadoop-create-vs-ansible.sh failed"; }
  if [[ "${BENCH_HADOOP_SUBMIT:-1}" != 0 ]]; then
    bash "$BENCH_DIR/hadoop-submit-vs-spark-submit.sh" >/dev/null || { status=1; log "hadoop-submit-vs-spark-submit.sh failed"; }
  fi
fi
if [[ "${BENCH_LXD:-1}" != 0 ]]; then
  # The tests' private LXD daemon (scripts/lxd.sh: started if needed, and stopped again if it was not running).
  bash "$BENCH_DIR/lxd-create-vs-ansible.sh" >/dev/null || { status=1; log "lxd-create-vs-ansible.sh failed"; }
fi
if [[ "${BENCH_LIST:-1}" != 0 ]]; then
  # The tests' private LXD daemon and OpenStack (scripts/lxd.sh, scripts/openstack.sh): started if needed, left running.
  bash "$BENCH_DIR/list-providers.sh" >/dev/null || { status=1; log "list-providers.sh failed"; }
fi
if [[ "${BENCH_SERVE:-1}" != 0 ]]; then
  # cms serve: idle memory, intake on SQLite and on PostgreSQL vs pg-boss (scripts/postgres.sh), overhead vs cluster submit.
  bash "$BENCH_DIR/serve-idle-memory.sh" >/dev/null || { status=1; log "serve-idle-memory.sh failed"; }
  bash "$BENCH_DIR/serve-intake.sh" >/dev/null || { status=1; log "serve-intake.sh failed"; }
  if [[ "${BENCH_SERVE_OVERHEAD:-1}" != 0 ]]; then
    bash "$BENCH_DIR/serve-overhead.sh" >/dev/null || { status=1; log "serve-overhead.sh failed"; }
  fi
fi

{
  echo "# cms benchmarks"
  echo
  echo "Machine: $(machine_line)"
  echo
  echo "Versions: cms $(node bin/run.js --version 2>/dev/null | head -n 1 || echo n/a); node $(node --version);" \
    "$(ansible --version 2>/dev/null | head -n 1); $(hyperfine --version); $(docker version --format 'docker {{.Server.Version}}' 2>/dev/null || echo docker n/a);" \
    "Spark ${CMS_SPARK_VERSION:-?}"
  echo
  for f in "${REPORTS[@]}"; do
    if [[ -f "$RESULTS_DIR/$f" ]]; then cat "$RESULTS_DIR/$f"; else echo "### $f: not produced (see stderr)"; fi
    echo
  done
} >"$RESULTS_DIR/latest.md"

cat "$RESULTS_DIR/latest.md"
log "wrote $RESULTS_DIR/latest.md"
exit "$status"
