#!/usr/bin/env bash
# Every test: installs and starts what the tests need (Docker engine, base image, Spark runtime, Nomad, Kubernetes
# and CoreDNS builds, the EC2 emulator for the aws tests, a private LXD daemon for the lxd tests, a private OpenStack
# for the openstack tests, a private PostgreSQL and RabbitMQ for cms serve, Chromium for the dashboard), builds cms,
# then the unit tests and the end-to-end tests against real container hosts in two lanes at once (the unit tests
# lead the second), the second followed by the unit tests and the bad-input end-to-end tests again on Node.js 22 and
# 24, and the lifecycle one on 24 (cms supports 20.18+, 22 and 24).
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash scripts/testbed.sh --nomad --kubernetes --hadoop)"
export CMS_SPARK_DIST CMS_SPARK_VERSION CMS_NOMAD_DIST CMS_NOMAD_VERSION CMS_K8S_DIST CMS_K8S_VERSION CMS_COREDNS_DIST CMS_COREDNS_VERSION CMS_LOCAL_PATH_DIST CMS_LOCAL_PATH_VERSION CMS_HADOOP_DIST CMS_HADOOP_VERSION
# moto's EC2 emulator for the aws provider's tests (PyPI moto[server] in a venv under the testbed cache, once).
CMS_MOTO_SERVER="$(bash scripts/moto.sh)"
export CMS_MOTO_SERVER
# A private PostgreSQL on loopback for cms serve's store and its two-servers-one-queue test (scripts/postgres.sh);
# its tests fail rather than skip when it is missing.
eval "$(bash scripts/postgres.sh)"
export CMS_TEST_PG_URL CMS_TEST_REQUIRE_PG=1
# A private RabbitMQ on loopback for the rabbitmq job source's test (scripts/rabbitmq.sh); it fails rather than
# skips when it is missing.
eval "$(bash scripts/rabbitmq.sh)"
export CMS_TEST_AMQP_URL CMS_TEST_REQUIRE_AMQP=1
# The tests' PostgreSQL, RabbitMQ, OpenStack and LXD stop with them (--stop ends each by its pid; LXD's namespace goes
# too; OpenStack first, as it uses the other two).
trap 'bash scripts/openstack.sh --stop || true; bash scripts/postgres.sh --stop || true; bash scripts/rabbitmq.sh --stop || true; bash scripts/lxd.sh --stop || true' EXIT
# A private OpenStack on loopback for the openstack provider's tests: Keystone, Nova with its fake hypervisor, Neutron,
# Glance, Placement from PyPI (scripts/openstack.sh; the venv is made once and cached), on the PostgreSQL and RabbitMQ
# above. It starts in the background (about 25 s warm, a few minutes cold) while the rest is made.
mkdir -p .cache
bash scripts/openstack.sh >.cache/openstack.env 2>.cache/openstack.log &
openstack_pid=$!
# A private LXD daemon in its own network namespace, with cms's Debian image imported, for the lxd provider's
# tests (scripts/lxd.sh; the image is built once by scripts/lxd-image.sh and cached). --vm: with what LXD VMs need;
# CMS_LXD_VM says whether the daemon runs them here (then cms's VM image is imported too) and which lxd-vm cases run.
eval "$(bash scripts/lxd.sh --vm)"
export CMS_LXD_SOCKET CMS_LXD_TEST_REMOTE CMS_LXD_TEST_TLS CMS_LXD_VM
# cms's VM image, booted under QEMU on the LXD daemon's bridge and made a Kubernetes node by lxd-vm-image, whether or
# not LXD runs VMs here: only with CMS_TEST_LXD_VM_IMAGE=1 (software emulation: about 10 minutes on 2 cores, and the
# image's first build about 4 more), as the VM cases of lxd-vm run only where LXD runs VMs.
if [[ "${CMS_TEST_LXD_VM_IMAGE:-0}" == 1 ]]; then
  eval "$(bash scripts/lxd-vm-image.sh)"
  export CMS_LXD_VM_IMAGE_DIR
fi
# Debian's Chromium for the dashboard's browser tests (playwright-core drives it).
eval "$(bash scripts/browser.sh)"
export CMS_TEST_CHROMIUM

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build

status=0
if wait "$openstack_pid"; then
  eval "$(cat .cache/openstack.env)"
  export CMS_OPENSTACK_TEST_CLOUDS CMS_OPENSTACK_TEST_CLOUD CMS_OPENSTACK_TEST_NETWORK CMS_OPENSTACK_TEST_EXTERNAL_NETWORK
else
  # The openstack tests then fail (they name the missing variables); the others still run.
  cat .cache/openstack.log >&2
  echo "scripts/openstack.sh failed (above): the openstack provider's tests will fail" >&2
  status=1
fi

# The end-to-end files run in two lanes at once, each one file at a time (every file makes and names its own
# clusters, and checks only what it made). Lane B: the unit tests first (lane A's first file need not wait for them),
# the files that make no long-running JVM work (APIs, providers, bad input, the CLI's conventions) and a few mid-size
# ones to even the lanes out, then the passes on Node.js 22 and 24; lane A: every other file (a new file lands
# there). Lane B's output is printed when both are done.
# Lane B starts with the OpenStack files: then OpenStack stops, as its services' periodic work would take about 3 %
# of the CPU for the rest of the run.
LANE_B_OPENSTACK=(openstack-provider openstack-engines)
LANE_B=(
  serve-autoscale nomad jobs lxd-provider lxd-vm aws-engines hadoop-ssh cli-conventions lifecycle
  aws-provider kubernetes-ssh ssh-provider aws-api interrupted-create bad-input nomad-ssh host-access serve-store
  image-push serve-batch
)
e2e_files() { local name; for name in "$@"; do echo "test/e2e/$name.test.ts"; done; }
mapfile -t lane_b_openstack_files < <(e2e_files "${LANE_B_OPENSTACK[@]}")
mapfile -t lane_b_files < <(e2e_files "${LANE_B[@]}")
lane_a_files=()
for f in test/e2e/*.test.ts; do
  [[ "$f" != test/e2e/lxd-vm-image.test.ts || "${CMS_TEST_LXD_VM_IMAGE:-0}" == 1 ]] || continue
  [[ " ${lane_b_openstack_files[*]} ${lane_b_files[*]} " == *" $f "* ]] || lane_a_files+=("$f")
done

lane_b() {
  local rc=0 major node e2e
  npx vitest run --config vitest.config.ts --reporter=default --reporter=json --outputFile=.cache/unit.json </dev/null || rc=1
  npx vitest run --config vitest.e2e.config.ts --reporter=default --reporter=json --outputFile=.cache/e2e-b-openstack.json "${lane_b_openstack_files[@]}" </dev/null || rc=1
  bash scripts/openstack.sh --stop || true
  npx vitest run --config vitest.e2e.config.ts --reporter=default --reporter=json --outputFile=.cache/e2e-b.json "${lane_b_files[@]}" </dev/null || rc=1
  if majors="$(bash scripts/node-majors.sh 22 24)"; then
    while read -r major node; do
      echo "== Node.js $major ($("$node" --version))"
      "$node" node_modules/vitest/vitest.mjs run --config vitest.config.ts --reporter=dot --reporter=json \
        --outputFile=".cache/unit-node$major.json" </dev/null || rc=1
      # The e2e helpers run cms with the Node.js that runs vitest: bad input on both, a cluster's whole life on the newest.
      e2e=(test/e2e/bad-input.test.ts)
      [ "$major" = 24 ] && e2e+=(test/e2e/lifecycle.test.ts)
      "$node" node_modules/vitest/vitest.mjs run --config vitest.e2e.config.ts --reporter=default --reporter=json \
        --outputFile=".cache/e2e-node$major.json" "${e2e[@]}" </dev/null || rc=1
    done <<<"$majors"
  else
    echo "cannot get Node.js 22 and 24 from the npm registry: the tests on them did not run" >&2
    rc=1
  fi
  return "$rc"
}
rm -f .cache/unit.json .cache/e2e-a.json .cache/e2e-b-openstack.json .cache/e2e-b.json .cache/unit-node*.json .cache/e2e-node*.json
lane_b >.cache/lane-b.log 2>&1 &
lane_b_pid=$!
npx vitest run --config vitest.e2e.config.ts --reporter=default --reporter=json --outputFile=.cache/e2e-a.json "${lane_a_files[@]}" || status=$?
wait "$lane_b_pid" || status=1
echo "== lane B: the unit tests; then ${LANE_B_OPENSTACK[*]}; then ${LANE_B[*]}; then Node.js 22 and 24"
cat .cache/lane-b.log
results=(.cache/unit.json .cache/e2e-a.json .cache/e2e-b-openstack.json .cache/e2e-b.json .cache/unit-node22.json .cache/e2e-node22.json .cache/unit-node24.json .cache/e2e-node24.json)
node scripts/test-summary.js "${results[@]}"
exit "$status"
