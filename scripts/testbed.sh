#!/usr/bin/env bash
# Sets up everything the demo and the tests need on a fresh Debian/Ubuntu machine, and does nothing that is
# already done (a warm rerun takes about a second):
#   - Debian packages: docker.io, mmdebstrap, openssh-client, openjdk-17-jre-headless, python3 (+ pip);
#   - a running Docker engine (dockerd started in the background when none answers; log /var/log/cms-dockerd.log);
#   - the base image debian:bookworm-slim, made with mmdebstrap + docker import (no registry needed);
#   - a Spark runtime built from PyPI's pyspark sdist into an Apache-layout tarball, with the s3a connector added
#     (hadoop-aws matching the runtime's Hadoop client and the slim AWS SDK v2 set, from Maven Central: needs
#     Maven, installed when missing), verified before use;
#   - with --nomad (the tests; the demo does not need it): a Nomad release zip built from the Go module proxy
#     (scripts/nomad-dist.sh: needs Go 1.25+ on a cold cache, ~4 minutes on 2 cores, once);
#   - with --kubernetes (the tests; the demo does not need them): the Kubernetes v1.34 server binaries, CoreDNS and
#     local-path-provisioner, built from the Go module proxy (scripts/k8s-dist.sh, scripts/coredns-dist.sh,
#     scripts/local-path-dist.sh: ~14, ~3 and ~2 minutes on 2 cores, once);
#   - with --hadoop (the hadoop engine's tests; the demo does not need it): the Hadoop runtime archive assembled from
#     Maven Central's jars (scripts/hadoop-dist.sh: needs Maven and a JDK 17, installed when missing; ~1-2 minutes
#     once).
# Progress goes to stderr. stdout carries only shell assignments for `eval "$(bash scripts/testbed.sh)"`:
#   CMS_SPARK_DIST=/abs/path/spark-<ver>-bin-pypi-s3a.tgz
#   CMS_SPARK_VERSION=<ver>
#   CMS_NOMAD_DIST=/abs/path/nomad_<ver>_linux_<arch>.zip        (these two with --nomad)
#   CMS_NOMAD_VERSION=<ver>
#   CMS_K8S_DIST=/abs/path/kubernetes-v<ver>-linux-<arch>.tgz      (these six with --kubernetes)
#   CMS_K8S_VERSION=v<ver>
#   CMS_COREDNS_DIST=/abs/path/coredns_<ver>_linux_<arch>.tgz
#   CMS_COREDNS_VERSION=<ver>
#   CMS_LOCAL_PATH_DIST=/abs/path/local-path-provisioner_<ver>_linux_<arch>.tgz
#   CMS_LOCAL_PATH_VERSION=<ver>
#   CMS_HADOOP_DIST=/abs/path/hadoop-<ver>-cms.tgz                  (these two with --hadoop)
#   CMS_HADOOP_VERSION=<ver>
# Settings (environment):
#   CMS_TESTBED_CACHE            cache folder (default ~/.cache/cms-testbed)
#   CMS_TESTBED_PYSPARK_VERSION  pyspark release to build the runtime from (default below)
#   CMS_TESTBED_DEBIAN_MIRROR    Debian mirror for the base image (default http://deb.debian.org)
#   CMS_DOCKERD_FLAGS            extra flags for a dockerd this script starts
#   CMS_HADOOP_VERSION           Hadoop release for --hadoop (default: scripts/hadoop-dist.sh's)
set -euo pipefail

WITH_NOMAD= WITH_KUBERNETES= WITH_HADOOP=
for arg in "$@"; do
  case "$arg" in
    --nomad) WITH_NOMAD=1 ;;
    --kubernetes) WITH_KUBERNETES=1 ;;
    --hadoop) WITH_HADOOP=1 ;;
    *) echo "usage: testbed.sh [--nomad] [--kubernetes] [--hadoop]" >&2; exit 2 ;;
  esac
done

PYSPARK_VERSION=${CMS_TESTBED_PYSPARK_VERSION:-4.3.0}
CACHE=${CMS_TESTBED_CACHE:-${HOME:-/root}/.cache/cms-testbed}
MIRROR=${CMS_TESTBED_DEBIAN_MIRROR:-http://deb.debian.org}
BASE_IMAGE=debian:bookworm-slim
DOCKERD_LOG=/var/log/cms-dockerd.log
export DEBIAN_FRONTEND=noninteractive

started=$(date +%s%N)
log() { printf 'testbed [%5.1fs]: %s\n' "$(( ($(date +%s%N) - started) / 1000000 ))e-3" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
elapsed() { echo "$(( ($(date +%s%N) - started) / 1000000 )) ms"; }

if [ "$(id -u)" -eq 0 ]; then
  as_root() { "$@"; }
else
  command -v sudo >/dev/null || die "run as root, or install sudo"
  as_root() { sudo -n -E "$@"; }
fi

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd -P)
# One testbed setup at a time per cache (the demo and the tests may start together).
# fd 9 must never leak into a long-lived child (dockerd would hold the lock forever): see the dockerd start.
exec 9>"$CACHE/.testbed.lock"
flock -w 1800 9 || die "another scripts/testbed.sh has held $CACHE/.testbed.lock for 30 minutes"
rm -rf "$CACHE"/.build.* "$CACHE"/.*.partial.tar 2>/dev/null || true

# --- Debian packages ---------------------------------------------------------------------------------------

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
want=()
command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 || want+=(docker.io)
installed mmdebstrap || want+=(mmdebstrap)
command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 || want+=(openssh-client)
# The SSH layer's tests run a real sshd on loopback.
[ -x /usr/sbin/sshd ] || want+=(openssh-server)
# Java 17 and Debian's python3 verify the Spark runtime with what the hosts run.
installed openjdk-17-jre-headless || want+=(openjdk-17-jre-headless)
# The end-to-end tests compile a small Spark job against the runtime's jars.
command -v javac >/dev/null 2>&1 && command -v jar >/dev/null 2>&1 || want+=(openjdk-17-jdk-headless)
[ -x /usr/bin/python3 ] || want+=(python3)
command -v curl >/dev/null 2>&1 || want+=(curl)
# The shell completion tests run the scripts cms prints in real bash, zsh and fish.
command -v zsh >/dev/null 2>&1 || want+=(zsh)
command -v fish >/dev/null 2>&1 || want+=(fish)
# `cms image load --push` is tested against Debian's registry, which the test starts on loopback.
[ -z "$WITH_KUBERNETES" ] || command -v docker-registry >/dev/null 2>&1 || want+=(docker-registry)
# The runtime's name says what it carries: a runtime built before the s3a connector was added (…-bin-pypi.tgz)
# is not reused, so an existing cache rebuilds once.
SPARK_DIST_NAME="spark-$PYSPARK_VERSION-bin-pypi-s3a.tgz"
# pip fetches pyspark for the Spark runtime and, in `cms notebook` (its e2e test), JupyterLab for the heads.
python3 -m pip --version >/dev/null 2>&1 || want+=(python3-pip)
if [ ! -f "$CACHE/$SPARK_DIST_NAME" ]; then
  # Maven resolves the s3a connector's jars (hadoop-aws and the AWS SDK v2 modules) from Maven Central.
  command -v mvn >/dev/null 2>&1 || want+=(maven)
fi

if [ "${#want[@]}" -gt 0 ]; then
  log "installing Debian packages: ${want[*]}"
  apt_install() { as_root apt-get install -y -q --no-install-recommends "${want[@]}" >&2; }
  # Update the package lists only when there are none, or when installing from the present ones fails.
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then as_root apt-get update -q >&2; fi
  if ! apt_install; then
    log "installing failed; updating the package lists and retrying"
    as_root apt-get update -q >&2
    apt_install
  fi
fi

# --- Docker engine -----------------------------------------------------------------------------------------

if ! docker info >/dev/null 2>&1; then
  if ! pgrep -x dockerd >/dev/null; then
    log "starting dockerd (log: $DOCKERD_LOG)"
    # No systemd here: a detached dockerd (own session, parent init) that outlives this script and starts its
    # own containerd. It gets no descriptor of ours but the log: an inherited lock fd would pass on to
    # containerd and every container shim and hold the lock for as long as they live.
    # shellcheck disable=SC2086
    as_root setsid -f nohup dockerd ${CMS_DOCKERD_FLAGS:-} >>"$DOCKERD_LOG" 2>&1 </dev/null 9>&-
  else
    log "dockerd runs but does not answer yet; waiting"
  fi
  for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  if ! docker info >/dev/null 2>&1; then
    tail -n 30 "$DOCKERD_LOG" >&2 2>/dev/null || true
    die "the Docker engine did not come up within 60 s (see $DOCKERD_LOG)"
  fi
  log "dockerd is up ($(elapsed))"
fi

# --- Base image debian:bookworm-slim -----------------------------------------------------------------------

if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  rootfs="$CACHE/debian-bookworm-minbase.tar"
  if [ ! -s "$rootfs" ]; then
    log "building a Debian bookworm rootfs with mmdebstrap (about a minute)"
    partial="$CACHE/.rootfs.$$.partial.tar"
    # Slim like the official image: no man pages, docs (but copyrights) or info pages; security updates on.
    as_root mmdebstrap --variant=minbase --format=tar --quiet \
      --aptopt='Acquire::Languages "none"' \
      --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/info/*' \
      bookworm "$partial" \
      "deb $MIRROR/debian bookworm main" \
      "deb $MIRROR/debian bookworm-updates main" \
      "deb $MIRROR/debian-security bookworm-security main" >&2
    mv "$partial" "$rootfs"
  fi
  log "importing $BASE_IMAGE"
  # An imported image has no config: give it the PATH and command of the official image.
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --message 'cms testbed: mmdebstrap --variant=minbase bookworm' \
    "$rootfs" "$BASE_IMAGE" >/dev/null
fi

# --- Spark runtime from PyPI -------------------------------------------------------------------------------

java17_home() {
  local d
  for d in /usr/lib/jvm/java-17-openjdk-*; do [ -x "$d/bin/java" ] && { echo "$d"; return; }; done
  die "no Java 17 runtime under /usr/lib/jvm"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Start/stop scripts the pyspark package leaves out (it ships spark-daemon.sh and spark-config.sh): small
# wrappers around spark-daemon.sh with the behaviour and settings of Apache Spark's own sbin scripts.
write_sbin_scripts() {
  local sbin=$1
  cat >"$sbin/start-master.sh" <<'EOF'
#!/usr/bin/env bash
# Starts a Spark standalone master on this machine (added by cms scripts/testbed.sh; the PyPI package lacks it).
# Settings: SPARK_MASTER_HOST (default: hostname -f), SPARK_MASTER_PORT (7077), SPARK_MASTER_WEBUI_PORT (8080).
if [ -z "${SPARK_HOME:-}" ]; then export SPARK_HOME="$(cd "$(dirname "$0")/.." && pwd)"; fi
. "$SPARK_HOME/sbin/spark-config.sh"
. "$SPARK_HOME/bin/load-spark-env.sh"
SPARK_MASTER_PORT=${SPARK_MASTER_PORT:-7077}
SPARK_MASTER_WEBUI_PORT=${SPARK_MASTER_WEBUI_PORT:-8080}
if [ -z "${SPARK_MASTER_HOST:-}" ]; then SPARK_MASTER_HOST=$(hostname -f 2>/dev/null || hostname); fi
exec "$SPARK_HOME/sbin/spark-daemon.sh" start org.apache.spark.deploy.master.Master 1 \
  --host "$SPARK_MASTER_HOST" --port "$SPARK_MASTER_PORT" --webui-port "$SPARK_MASTER_WEBUI_PORT" "$@"
EOF
  cat >"$sbin/stop-master.sh" <<'EOF'
#!/usr/bin/env bash
# Stops the Spark standalone master on this machine (added by cms scripts/testbed.sh).
if [ -z "${SPARK_HOME:-}" ]; then export SPARK_HOME="$(cd "$(dirname "$0")/.." && pwd)"; fi
. "$SPARK_HOME/sbin/spark-config.sh"
. "$SPARK_HOME/bin/load-spark-env.sh"
exec "$SPARK_HOME/sbin/spark-daemon.sh" stop org.apache.spark.deploy.master.Master 1
EOF
  cat >"$sbin/start-worker.sh" <<'EOF'
#!/usr/bin/env bash
# Starts Spark standalone worker(s) on this machine: start-worker.sh <master-url> [options]
# (added by cms scripts/testbed.sh). Settings: SPARK_WORKER_INSTANCES (1), SPARK_WORKER_PORT (any; instance
# n uses base + n - 1), SPARK_WORKER_WEBUI_PORT (8081; likewise).
if [ -z "${SPARK_HOME:-}" ]; then export SPARK_HOME="$(cd "$(dirname "$0")/.." && pwd)"; fi
if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  echo "Usage: ./sbin/start-worker.sh <master> [options]" >&2
  [ $# -lt 1 ] && exit 1 || exit 0
fi
. "$SPARK_HOME/sbin/spark-config.sh"
. "$SPARK_HOME/bin/load-spark-env.sh"
master=$1
shift
webui=${SPARK_WORKER_WEBUI_PORT:-8081}
for ((n = 1; n <= ${SPARK_WORKER_INSTANCES:-1}; n++)); do
  port=()
  if [ -n "${SPARK_WORKER_PORT:-}" ]; then port=(--port $((SPARK_WORKER_PORT + n - 1))); fi
  "$SPARK_HOME/sbin/spark-daemon.sh" start org.apache.spark.deploy.worker.Worker "$n" \
    --webui-port $((webui + n - 1)) "${port[@]}" "$master" "$@"
done
EOF
  cat >"$sbin/stop-worker.sh" <<'EOF'
#!/usr/bin/env bash
# Stops the Spark standalone worker(s) on this machine (added by cms scripts/testbed.sh).
if [ -z "${SPARK_HOME:-}" ]; then export SPARK_HOME="$(cd "$(dirname "$0")/.." && pwd)"; fi
. "$SPARK_HOME/sbin/spark-config.sh"
. "$SPARK_HOME/bin/load-spark-env.sh"
for ((n = 1; n <= ${SPARK_WORKER_INSTANCES:-1}; n++)); do
  "$SPARK_HOME/sbin/spark-daemon.sh" stop org.apache.spark.deploy.worker.Worker "$n"
done
EOF
  cat >"$sbin/decommission-worker.sh" <<'EOF'
#!/usr/bin/env bash
# Decommissions the Spark standalone worker(s) on this machine (SIGPWR via spark-daemon.sh; added by cms
# scripts/testbed.sh).
if [ -z "${SPARK_HOME:-}" ]; then export SPARK_HOME="$(cd "$(dirname "$0")/.." && pwd)"; fi
. "$SPARK_HOME/sbin/spark-config.sh"
. "$SPARK_HOME/bin/load-spark-env.sh"
for ((n = 1; n <= ${SPARK_WORKER_INSTANCES:-1}; n++)); do
  "$SPARK_HOME/sbin/spark-daemon.sh" decommission org.apache.spark.deploy.worker.Worker "$n"
done
EOF
}

# Zips a Python package folder reproducibly (fixed timestamps, sorted, no bytecode).
zip_package() { # zip_package OUT.zip PARENT_DIR PACKAGE [EXCLUDED_SUBDIR...]
  python3 - "$@" <<'EOF'
import os, sys, zipfile
out, parent, package, *excluded = sys.argv[1:]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for root, dirs, files in os.walk(os.path.join(parent, package)):
        rel = os.path.relpath(root, parent)
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not (rel == package and d in excluded))
        for f in sorted(files):
            if f.endswith(".pyc"):
                continue
            info = zipfile.ZipInfo(os.path.join(rel, f), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(os.path.join(root, f), "rb") as src:
                z.writestr(info, src.read())
EOF
}

pip_download() { # pip_download DIR REQUIREMENT
  log "pip download $2"
  python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$1" "$2" >&2
}

# Checks a built Spark home with Java 17: version, a standalone master serving /json, a Python job.
verify_spark_home() {
  local home=$1 work=$2 version=$3 java_home py ui_port master_port json ok=
  java_home=$(java17_home)
  py=/usr/bin/python3
  [ -x "$py" ] || py=$(command -v python3)
  local -a env=(env "JAVA_HOME=$java_home" "SPARK_HOME=$home" "SPARK_CONF_DIR=$work/conf" "SPARK_LOG_DIR=$work/logs"
    "SPARK_PID_DIR=$work/run" "SPARK_LOCAL_IP=127.0.0.1" "SPARK_IDENT_STRING=cms-testbed-verify"
    "PYSPARK_PYTHON=$py" "PYSPARK_DRIVER_PYTHON=$py")
  mkdir -p "$work/conf" "$work/logs" "$work/run"

  local out
  out=$("${env[@]}" "$home/bin/spark-submit" --version 2>&1) || die "spark-submit --version failed: $out"
  grep -q "version $version" <<<"$out" || die "spark-submit --version does not report $version: $out"

  ui_port=8080
  port_free "$ui_port" || ui_port=$(free_port)
  master_port=$(free_port)
  "${env[@]}" SPARK_MASTER_HOST=127.0.0.1 SPARK_MASTER_PORT="$master_port" SPARK_MASTER_WEBUI_PORT="$ui_port" \
    "$home/sbin/start-master.sh" >&2
  for _ in $(seq 1 120); do
    json=$(curl -fsSL "http://127.0.0.1:$ui_port/json/" 2>/dev/null || true)
    if printf '%s' "$json" | grep -q '"status" *: *"ALIVE"'; then ok=1; break; fi
    sleep 0.5
  done
  "${env[@]}" "$home/sbin/stop-master.sh" >&2 || true
  if [ -z "$ok" ]; then
    tail -n 40 "$work"/logs/* >&2 2>/dev/null || true
    die "the Spark master from the built runtime did not serve http://127.0.0.1:$ui_port/json/"
  fi
  log "verified: master served /json/ on 127.0.0.1:$ui_port with Java 17"

  # One JVM for two checks (a Spark start costs 10-20 s): the s3a connector's classes load and link (the script
  # below creates an S3AFileSystem, with its AWS SDK clients and transfer manager, for an endpoint on the discard
  # port that is never contacted: S3A probes no bucket at start), then pi.py runs in the same session.
  cat >"$work/verify.py" <<'EOF'
import runpy, sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
jvm = spark._jvm
for name in ["org.apache.hadoop.fs.s3a.S3AFileSystem", "software.amazon.awssdk.services.s3.S3Client",
             "software.amazon.awssdk.transfer.s3.S3TransferManager", "software.amazon.awssdk.services.sts.StsClient",
             "software.amazon.awssdk.http.apache.ApacheHttpClient",
             "software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider",
             "software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider"]:
    jvm.java.lang.Class.forName(name)
fs = jvm.org.apache.hadoop.fs.FileSystem.newInstance(jvm.java.net.URI("s3a://cms-verify/"), spark._jsc.hadoopConfiguration())
print("s3a: " + fs.getClass().getName() + " starts", flush=True)
fs.close()
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
EOF
  "${env[@]}" AWS_EC2_METADATA_DISABLED=true "$home/bin/spark-submit" --master 'local[1]' --conf spark.ui.enabled=false \
    --conf spark.hadoop.fs.s3a.endpoint=http://127.0.0.1:9 --conf spark.hadoop.fs.s3a.endpoint.region=us-east-1 \
    --conf spark.hadoop.fs.s3a.path.style.access=true --conf spark.hadoop.fs.s3a.connection.ssl.enabled=false \
    --conf spark.hadoop.fs.s3a.aws.credentials.provider=org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider \
    --conf spark.hadoop.fs.s3a.access.key=verify --conf spark.hadoop.fs.s3a.secret.key=verify \
    "$work/verify.py" "$home/examples/src/main/python/pi.py" 2 >"$work/pi.out" 2>"$work/pi.err" \
    || { grep -E -m 5 -A 3 'Error|Exception' "$work/pi.err" >&2; tail -n 20 "$work/pi.err" >&2; die "the s3a check or pi.py failed on the built runtime"; }
  grep -q 's3a: org.apache.hadoop.fs.s3a.S3AFileSystem starts' "$work/pi.out" || { tail -n 40 "$work/pi.err" >&2; die "the s3a check printed no result"; }
  log "verified: $(grep '^s3a: ' "$work/pi.out") (hadoop-aws and the AWS SDK v2 clients load and link)"
  grep -q 'Pi is roughly' "$work/pi.out" || { tail -n 40 "$work/pi.err" >&2; die "pi.py printed no result"; }
  log "verified: $(grep 'Pi is roughly' "$work/pi.out") (pi.py with $("$py" --version 2>&1))"
}

# The s3a connector, added to the runtime's jars/ so `s3a://bucket/path` works in every job on every engine:
# hadoop-aws of exactly the runtime's Hadoop client version (S3A is compiled against that hadoop-common), and the
# slim AWS SDK v2 set hadoop-aws needs (s3, s3-transfer-manager, sts, apache-client with their runtime
# dependencies, and the analytics accelerator library S3A 3.5 loads at start) in the SDK version hadoop-aws's own build names (hadoop-project's aws-java-sdk-v2.version), not
# the 686 MB `bundle` jar hadoop-aws's pom asks for (see TESTBED-FACTS "S3-compatible storage"). A throwaway pom
# whose parent is hadoop-project (only for that version property) and `mvn dependency:copy-dependencies`, into a
# Maven repository of our own under the cache (a rebuild after the archive was removed runs Maven offline).
# Jars the runtime already has (same artifact, any version: netty, httpclient, httpcore, commons-codec,
# slf4j-api) are left out, so the runtime's own versions stay the only ones on the classpath; so is
# commons-logging, whose classes the runtime's jcl-over-slf4j provides.
S3A_SDK_MODULES=(s3 s3-transfer-manager sts apache-client)
# Pinned, so the build does not depend on the default Maven happens to bind (2.8 for Maven 3.8).
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
add_s3a_jars() { # add_s3a_jars JARS_DIR HADOOP_VERSION WORK
  local jars=$1 hadoop=$2 work=$3 repo="$CACHE/spark-s3a/m2" m f name added=0 bytes=0 sdk
  [[ $hadoop =~ ^3\.[0-9]+\.[0-9]+$ ]] || die "the runtime's Hadoop client version is '$hadoop', not 3.x.y: cannot pick hadoop-aws"
  mkdir -p "$work/s3a-pom" "$repo"
  {
    printf '%s\n' '<?xml version="1.0" encoding="UTF-8"?>' \
      '<project xmlns="http://maven.apache.org/POM/4.0.0">' \
      '  <modelVersion>4.0.0</modelVersion>' \
      "  <parent><groupId>org.apache.hadoop</groupId><artifactId>hadoop-project</artifactId><version>$hadoop</version><relativePath/></parent>" \
      '  <groupId>cms.testbed</groupId>' \
      '  <artifactId>spark-s3a</artifactId>' \
      '  <version>1</version>' \
      '  <packaging>pom</packaging>' \
      '  <dependencies>' \
      "    <dependency><groupId>org.apache.hadoop</groupId><artifactId>hadoop-aws</artifactId><version>$hadoop</version>" \
      '      <exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions></dependency>'
    # hadoop-aws 3.5's input stream factories name its classes at start (NoClassDefFoundError without it); its
    # version is the one hadoop-project manages.
    printf '%s\n' '    <dependency><groupId>software.amazon.s3.analyticsaccelerator</groupId><artifactId>analyticsaccelerator-s3</artifactId></dependency>'
    for m in "${S3A_SDK_MODULES[@]}"; do
      printf '    <dependency><groupId>software.amazon.awssdk</groupId><artifactId>%s</artifactId><version>${aws-java-sdk-v2.version}</version></dependency>\n' "$m"
    done
    printf '%s\n' '  </dependencies>' '</project>'
  } >"$work/s3a-pom/pom.xml"
  mvn_s3a() { # Maven's messages to stderr, without the colour codes Maven 3.8 prints even in batch mode
    (cd "$work/s3a-pom" && mvn -B -q "$@" -Dmaven.repo.local="$repo" \
      "$DEPENDENCY_PLUGIN:copy-dependencies" -DincludeScope=runtime -DoutputDirectory="$work/s3a-jars" 2>&1) \
      | sed -u 's/\x1b\[[0-9;]*m//g' >&2
  }
  if [ -n "$(ls -A "$repo" 2>/dev/null)" ] && mvn_s3a -o 2>/dev/null && [ -f "$work/s3a-jars/hadoop-aws-$hadoop.jar" ]; then
    log "resolved the s3a connector's jars offline from $repo"
  else
    rm -rf "$work/s3a-jars"
    log "resolving hadoop-aws $hadoop and the AWS SDK v2 modules (${S3A_SDK_MODULES[*]}) from Maven Central"
    mvn_s3a || die "mvn dependency:copy-dependencies failed for hadoop-aws $hadoop (is Maven Central reachable?)"
  fi
  [ -f "$work/s3a-jars/hadoop-aws-$hadoop.jar" ] || die "Maven copied no hadoop-aws-$hadoop.jar"
  sdk=$(cd "$work/s3a-jars" && ls s3-2.*.jar 2>/dev/null | sed -n 's/^s3-\(.*\)\.jar$/\1/p' | head -n 1)
  [ -n "$sdk" ] || die "Maven copied no AWS SDK v2 s3 jar"
  for f in "$work/s3a-jars"/*.jar; do
    f=$(basename "$f")
    name=${f%%-[0-9]*}
    [ "$name" = commons-logging ] && continue
    compgen -G "$jars/$name-[0-9]*.jar" >/dev/null && continue
    cp "$work/s3a-jars/$f" "$jars/"
    added=$((added + 1))
    bytes=$((bytes + $(stat -c %s "$jars/$f")))
  done
  S3A_SUMMARY="hadoop-aws $hadoop, AWS SDK v2 $sdk ($added jars, $((bytes / 1024)) KiB)"
  log "s3a connector added: $S3A_SUMMARY"
}

build_spark_dist() {
  local version=$1 dist=$2 pypi="$CACHE/pypi" work sdist src home py4j epoch hadoop
  mkdir -p "$pypi"
  sdist="$pypi/pyspark-$version.tar.gz"
  [ -s "$sdist" ] || pip_download "$pypi" "pyspark==$version"
  [ -s "$sdist" ] || die "pip did not fetch the pyspark $version sdist (got: $(ls "$pypi"))"

  work=$(mktemp -d "$CACHE/.build.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" EXIT
  log "building the Spark $version runtime from $(basename "$sdist")"
  src="$work/src"
  mkdir -p "$src"
  tar -xzf "$sdist" -C "$src" --strip-components=1 --no-same-owner
  [ -d "$src/deps/jars" ] && [ -x "$src/deps/bin/spark-class" ] && [ -f "$src/deps/sbin/spark-daemon.sh" ] \
    || die "unexpected layout in $(basename "$sdist") (no deps/jars, deps/bin/spark-class or deps/sbin/spark-daemon.sh)"

  # py4j: the version Spark's own jar carries; PythonRunner looks for python/lib/py4j-<that>-src.zip.
  py4j=$(cd "$src/deps/jars" && ls py4j-*.jar 2>/dev/null | sed -n 's/^py4j-\(.*\)\.jar$/\1/p' | head -n 1)
  [ -n "$py4j" ] || die "no py4j jar in the pyspark package"
  log "pyspark $version requires $(sed -n 's/^Requires-Dist: \(py4j[^;]*\)$/\1/p' "$src/PKG-INFO" | head -n 1); its jar is py4j $py4j"

  home="$work/spark-$version"
  mkdir -p "$home"/{bin,sbin,jars,conf,data,licenses,python/lib,examples/src/main/python}
  cp -R "$src/deps/jars/." "$home/jars/"
  cp -R "$src/deps/bin/." "$home/bin/"
  cp -R "$src/deps/sbin/." "$home/sbin/"
  [ -d "$src/deps/data" ] && cp -R "$src/deps/data/." "$home/data/"
  [ -d "$src/deps/licenses" ] && cp -R "$src/deps/licenses/." "$home/licenses/"
  [ -d "$src/deps/examples" ] && cp -R "$src/deps/examples/." "$home/examples/src/main/python/"
  for f in LICENSE NOTICE; do [ -f "$src/$f" ] && cp "$src/$f" "$home/"; done
  # The Python side as in Apache's distribution: python/pyspark (used by bin/pyspark) and the zips that
  # spark-submit puts on the driver's and executors' PYTHONPATH.
  cp -R "$src/pyspark" "$home/python/pyspark"
  if [ -f "$src/lib/pyspark.zip" ]; then
    cp "$src/lib/pyspark.zip" "$home/python/lib/"
  else
    zip_package "$home/python/lib/pyspark.zip" "$src" pyspark jars bin sbin examples data licenses
  fi
  if [ -f "$src/lib/py4j-$py4j-src.zip" ]; then
    cp "$src/lib/py4j-$py4j-src.zip" "$home/python/lib/"
  else
    local whl
    whl=$(ls "$pypi"/py4j-"$py4j"-*.whl 2>/dev/null | head -n 1 || true)
    if [ -z "$whl" ]; then pip_download "$pypi" "py4j==$py4j"; whl=$(ls "$pypi"/py4j-"$py4j"-*.whl | head -n 1); fi
    mkdir -p "$work/py4j"
    python3 -m zipfile -e "$whl" "$work/py4j"
    zip_package "$home/python/lib/py4j-$py4j-src.zip" "$work/py4j" py4j
  fi
  find "$home/python" -name __pycache__ -prune -exec rm -rf {} +
  for s in start-master.sh stop-master.sh start-worker.sh stop-worker.sh decommission-worker.sh; do
    [ -e "$home/sbin/$s" ] && continue
    write_sbin_scripts "$home/sbin"
    break
  done
  hadoop=$(cd "$home/jars" && ls hadoop-client-api-*.jar 2>/dev/null | sed -n 's/^hadoop-client-api-\(.*\)\.jar$/\1/p' | head -n 1)
  [ -n "$hadoop" ] || die "no hadoop-client-api jar in the pyspark package: cannot tell which hadoop-aws matches"
  add_s3a_jars "$home/jars" "$hadoop" "$work"
  printf 'Spark %s built for Hadoop %s\nAssembled by cms scripts/testbed.sh from PyPI pyspark %s (py4j %s); sbin start/stop scripts added; s3a connector added: %s.\n' \
    "$version" "$hadoop" "$version" "$py4j" "$S3A_SUMMARY" >"$home/RELEASE"
  chmod 0755 "$home"/bin/* "$home"/sbin/*
  chmod -R u+rwX,go+rX,go-w "$home"

  # Reproducible archive: the same sdist gives the same bytes on every machine (cms names the unpacked
  # runtime on hosts by the archive's hash). gzip -1: the jars are compressed already.
  epoch=$(stat -c %Y "$src/PKG-INFO")
  log "packing $(basename "$dist") ($(du -sm "$home" | cut -f1) MB unpacked)"
  tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -cf - "spark-$version" \
    | gzip -1 -n >"$work/dist.tgz"

  # Verify the archive itself, unpacked afresh, before it enters the cache.
  mkdir -p "$work/verify"
  tar -xzf "$work/dist.tgz" -C "$work/verify"
  verify_spark_home "$work/verify/spark-$version" "$work/check" "$version"

  mv "$work/dist.tgz" "$dist"
  rm -rf "$work"
  trap - EXIT
  log "Spark runtime ready: $dist ($(stat -c %s "$dist") bytes)"
}

dist="$CACHE/$SPARK_DIST_NAME"
[ -s "$dist" ] || build_spark_dist "$PYSPARK_VERSION" "$dist"

# --- Nomad release (its own script and lock; fd 9 stays here) ------------------------------------------------

CMS_NOMAD_DIST='' CMS_NOMAD_VERSION=''
if [ -n "$WITH_NOMAD" ]; then
  nomad_vars=$(CMS_TESTBED_CACHE="$CACHE" bash "$(dirname "${BASH_SOURCE[0]}")/nomad-dist.sh" 9>&-) \
    || die "building the Nomad release failed (scripts/nomad-dist.sh; see above)"
  eval "$nomad_vars"
  [ -s "$CMS_NOMAD_DIST" ] && [ -n "$CMS_NOMAD_VERSION" ] || die "scripts/nomad-dist.sh printed no release: $nomad_vars"
fi

# --- Hadoop runtime (its own script and lock; fd 9 stays here) -------------------------------------------------

if [ -n "$WITH_HADOOP" ]; then
  hadoop_vars=$(CMS_TESTBED_CACHE="$CACHE" bash "$(dirname "${BASH_SOURCE[0]}")/hadoop-dist.sh" 9>&-) \
    || die "building the Hadoop runtime failed (scripts/hadoop-dist.sh; see above)"
  eval "$hadoop_vars"
  [ -s "$CMS_HADOOP_DIST" ] && [ -n "$CMS_HADOOP_VERSION" ] || die "scripts/hadoop-dist.sh printed no archive: $hadoop_vars"
fi

# --- Kubernetes binaries, CoreDNS, local-path-provisioner (their own scripts and locks; lowest priority) -----

CMS_K8S_DIST='' CMS_K8S_VERSION='' CMS_COREDNS_DIST='' CMS_COREDNS_VERSION='' CMS_LOCAL_PATH_DIST='' CMS_LOCAL_PATH_VERSION=''
if [ -n "$WITH_KUBERNETES" ]; then
k8s_vars=$(CMS_TESTBED_CACHE="$CACHE" nice -n 19 bash "$(dirname "${BASH_SOURCE[0]}")/k8s-dist.sh" 9>&-) \
  || die "building the Kubernetes binaries failed (scripts/k8s-dist.sh; see above)"
eval "$k8s_vars"
coredns_vars=$(CMS_TESTBED_CACHE="$CACHE" nice -n 19 bash "$(dirname "${BASH_SOURCE[0]}")/coredns-dist.sh" 9>&-) \
  || die "building CoreDNS failed (scripts/coredns-dist.sh; see above)"
eval "$coredns_vars"
local_path_vars=$(CMS_TESTBED_CACHE="$CACHE" nice -n 19 bash "$(dirname "${BASH_SOURCE[0]}")/local-path-dist.sh" 9>&-) \
  || die "building local-path-provisioner failed (scripts/local-path-dist.sh; see above)"
eval "$local_path_vars"
[ -s "$CMS_K8S_DIST" ] && [ -s "$CMS_COREDNS_DIST" ] && [ -s "$CMS_LOCAL_PATH_DIST" ] \
  || die "the Kubernetes, CoreDNS or local-path-provisioner build printed no archive: $k8s_vars $coredns_vars $local_path_vars"
fi

log "ready in $(elapsed): docker $(docker version -f '{{.Server.Version}}' 2>/dev/null), $BASE_IMAGE, Spark $PYSPARK_VERSION${WITH_NOMAD:+, Nomad $CMS_NOMAD_VERSION}${WITH_KUBERNETES:+, Kubernetes $CMS_K8S_VERSION, CoreDNS $CMS_COREDNS_VERSION, local-path-provisioner $CMS_LOCAL_PATH_VERSION}${WITH_HADOOP:+, Hadoop $CMS_HADOOP_VERSION}"
printf 'CMS_SPARK_DIST=%q\nCMS_SPARK_VERSION=%q\n' "$dist" "$PYSPARK_VERSION"
[ -z "$WITH_NOMAD" ] || printf 'CMS_NOMAD_DIST=%q\nCMS_NOMAD_VERSION=%q\n' "$CMS_NOMAD_DIST" "$CMS_NOMAD_VERSION"
[ -z "$WITH_KUBERNETES" ] || printf 'CMS_K8S_DIST=%q\nCMS_K8S_VERSION=%q\nCMS_COREDNS_DIST=%q\nCMS_COREDNS_VERSION=%q\nCMS_LOCAL_PATH_DIST=%q\nCMS_LOCAL_PATH_VERSION=%q\n' \
  "$CMS_K8S_DIST" "$CMS_K8S_VERSION" "$CMS_COREDNS_DIST" "$CMS_COREDNS_VERSION" "$CMS_LOCAL_PATH_DIST" "$CMS_LOCAL_PATH_VERSION"
[ -z "$WITH_HADOOP" ] || printf 'CMS_HADOOP_DIST=%q\nCMS_HADOOP_VERSION=%q\n' "$CMS_HADOOP_DIST" "$CMS_HADOOP_VERSION"
