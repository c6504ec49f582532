#!/usr/bin/env bash
# The main job: a local 3-host Spark cluster on the embedded docker provider, shown live from the master.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash scripts/testbed.sh)"
export CMS_SPARK_DIST
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build >&2

name=${CMS_DEMO_CLUSTER:-demo}
./bin/run.js cluster create -n "$name" --hosts 3
echo
./bin/run.js cluster info -n "$name"
echo
echo "Remove it with: ./bin/run.js cluster kill -n $name --yes" >&2
