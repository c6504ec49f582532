#!/usr/bin/env bash
# Every test: installs and starts what the tests need (Docker engine, base image, Spark runtime), builds cms,
# runs the unit tests, then the end-to-end tests against real container hosts.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash scripts/testbed.sh)"
export CMS_SPARK_DIST CMS_SPARK_VERSION

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build

mkdir -p .cache
status=0
npx vitest run --config vitest.config.ts --reporter=default --reporter=json --outputFile=.cache/unit.json || status=$?
npx vitest run --config vitest.e2e.config.ts --reporter=default --reporter=json --outputFile=.cache/e2e.json || status=$?
node scripts/test-summary.js .cache/unit.json .cache/e2e.json
exit "$status"
