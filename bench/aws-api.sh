#!/usr/bin/env bash
# API round trips and wall time of the aws provider's create, list and kill for 1 and 16 instances, against a
# private EC2 emulator (moto, installed by scripts/moto.sh) on a free loopback port. Prints a table on stdout and
# writes bench/results/aws-api.md. Nothing leaves the machine: the emulator's instances run nothing and are never
# contacted; `cluster list` tries SSH only to their 127.0.7.x addresses, where nothing listens.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

export CMS_MOTO_SERVER="${CMS_MOTO_SERVER:-$(bash scripts/moto.sh)}"
[ -d node_modules ] || npm ci --no-audit --no-fund >&2
if [ ! -f dist/cli/oclif.js ] || [ -n "$(find src -newer dist/cli/oclif.js -print -quit)" ]; then npm run build >&2; fi
out="$RESULTS_DIR/aws-api.bundle.mjs"
npx esbuild bench/aws-api.ts --bundle --platform=node --format=esm --target=node20.18 --main-fields=module,main \
  --packages=external --outfile="$out" --log-level=warning
log "running (moto: $CMS_MOTO_SERVER)"
result=$(node "$out")
{
  echo "### aws provider: EC2 API round trips and wall time (emulator: moto on loopback)"
  echo
  echo "Machine: $(machine_line)"
  echo
  echo '```'
  echo "$result"
  echo '```'
} >"$RESULTS_DIR/aws-api.md"
echo "$result"
log "wrote $RESULTS_DIR/aws-api.md"
