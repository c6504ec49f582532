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
