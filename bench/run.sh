#!/usr/bin/env bash
# Runs every benchmark: idempotent setup (ansible + hyperfine from apt, the project testbed, cms build), then
# bench/cold-start.sh and bench/create-vs-ansible.sh. Prints the results and writes bench/results/latest.md.
# Pass-through env knobs: see the header of each script (BENCH_RUNS, BENCH_HOSTS, BENCH_SKIP_CMS, ...).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

ensure_tools
ensure_testbed
export BENCH_SETUP=0 CMS_SPARK_DIST CMS_SPARK_VERSION

status=0
rm -f "$RESULTS_DIR/cold-start.md" "$RESULTS_DIR/create-vs-ansible.md"
if ensure_cms_built; then
  bash "$BENCH_DIR/cold-start.sh" >/dev/null || { status=1; log "cold-start.sh failed"; }
else
  status=1
  log "cms does not build; skipping cold-start.sh"
fi
bash "$BENCH_DIR/create-vs-ansible.sh" >/dev/null || { status=1; log "create-vs-ansible.sh failed"; }

{
  echo "# cms benchmarks"
  echo
  echo "Machine: $(machine_line)"
  echo
  echo "Versions: cms $(node bin/run.js --version 2>/dev/null | head -n 1 || echo n/a); node $(node --version);" \
    "$(ansible --version 2>/dev/null | head -n 1); $(hyperfine --version); $(docker version --format 'docker {{.Server.Version}}' 2>/dev/null || echo docker n/a);" \
    "Spark ${CMS_SPARK_VERSION:-?}"
  echo
  for f in cold-start.md create-vs-ansible.md; do
    if [[ -f "$RESULTS_DIR/$f" ]]; then cat "$RESULTS_DIR/$f"; else echo "### $f: not produced (see stderr)"; fi
    echo
  done
} >"$RESULTS_DIR/latest.md"

cat "$RESULTS_DIR/latest.md"
log "wrote $RESULTS_DIR/latest.md"
exit "$status"
