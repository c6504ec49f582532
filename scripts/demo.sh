#!/usr/bin/env bash
# The main job: a local 3-host Spark cluster on the embedded docker provider, an example Spark job run on it
# through cms, and the cluster and the job's result shown live from the master.
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

# Spark's own Python example, from the runtime the cluster runs.
example_dir=.cache/demo
if [ ! -f "$example_dir/pi.py" ]; then
  mkdir -p "$example_dir"
  tar -xzf "$CMS_SPARK_DIST" -C "$example_dir" --wildcards --strip-components=5 '*/examples/src/main/python/pi.py'
fi
job=$(./bin/run.js cluster submit -n "$name" "$example_dir/pi.py" --wait --json -- 10 | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log(r.jobs[0].id);if(r.jobs[0].state!=="SUCCEEDED")process.exitCode=1})')
./bin/run.js job status -n "$name" "$job"
echo
echo "Result (from the driver's output on the cluster):"
./bin/run.js job logs -n "$name" "$job" | grep -E '^Pi is roughly'
echo
./bin/run.js cluster info -n "$name"
echo
echo "Remove it with: ./bin/run.js cluster kill -n $name --yes" >&2
