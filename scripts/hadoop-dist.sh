#!/usr/bin/env bash
# Builds the Hadoop runtime cms ships to hosts, from Maven Central, into one archive (hadoop-<ver>-cms.tgz holding
# hadoop-<ver>/), verified, and cached; a warm run takes well under a second and touches no network.
#
# Why a build: no Hadoop distribution is on any reachable registry (Maven Central has no hadoop-dist tarball;
# Debian and PyPI have clients only), but Maven Central has every server jar. So: a throwaway pom (packaging pom)
# depending on the HDFS, YARN and MapReduce server artifacts, `mvn dependency:copy-dependencies` (runtime scope)
# into one lib folder, plus what only the tarball carries (see TESTBED-FACTS "Hadoop 3.4 from Maven Central"):
#   - the HTTP servers' webapps/ (hdfs, datanode, static, ...): the Maven hadoop-hdfs jar has none, its `tests`
#     classifier jar has them; they go to share/hadoop/hdfs/webapps, and share/hadoop/hdfs is on the classpath as
#     in the distribution (the tests jar itself, test classes only, is left out);
#   - etc/hadoop: capacity-scheduler.xml (the ResourceManager will not start without one), log4j.properties, and
#     empty core/hdfs/yarn/mapred-site.xml that cms overwrites;
#   - bin/: small launchers instead of the distribution's shell framework (cms runs each daemon in the foreground
#     under its own nohup/setsid with a pid file):
#       hadoop-daemon namenode|datanode|resourcemanager|nodemanager [ARGS]   (exec's the daemon's JVM)
#       hadoop-daemon format [-clusterid ID ...]                              (NameNode -format -nonInteractive)
#       hadoop-daemon cds-dump FILE       (a class data sharing archive of share/hadoop/cds/hadoop.classlist for
#                                          this JVM; daemons started with HADOOP_CDS_ARCHIVE=FILE map it)
#       hdfs dfs|dfsadmin|fsck|getconf|version|classpath|namenode|datanode ...
#       yarn node|application|app|applicationattempt|container|logs|rmadmin|queue|jar|version|classpath|
#            resourcemanager|nodemanager ...
#       hadoop fs|jar|version|classpath|checknative|CLASSNAME ...
#     one table of commands (libexec/hadoop-commands.sh) and one JVM command line (libexec/hadoop-config.sh):
#     `java -cp $HADOOP_CONF_DIR:share/hadoop/hdfs:share/hadoop/lib/*` with the Java 17 module opens Hadoop's own
#     scripts add (hadoop-functions.sh hadoop_finalize_jpms_opts, the list in hadoop-project's pom, the same in
#     3.4.3 and 3.5.0) plus sun.nio.ch (the RM and NM need it), JAVA_HOME exported (the NodeManager hands it to containers: the AM command is {{JAVA_HOME}}/bin/java) and the
#     HADOOP_*_HOME variables all pointing at the one home. No native code: nothing is compiled.
#   - share/hadoop/cds/hadoop.classlist: the classes the daemons and clients loaded in the run below.
# The runtime is run before it is packed: a NameNode (after format) serves /jmx, WebHDFS and its UI, a
# ResourceManager reports STARTED, a DataNode and a NodeManager register, and a file goes into HDFS and back, all on
# loopback, each JVM listing the classes it loaded. The archive is then unpacked afresh and `hadoop version` checked.
#
# Requires: Maven and a JDK 17 (Debian's `maven` and `openjdk-17-jdk-headless`, installed with apt-get when
# missing), reaching Maven Central (or the mirror the user's Maven settings name), python3, curl, flock.
# Cold: 25-75 s (measured): ~10-15 s of downloads (176 jars, 99 MB), ~15 s of packing and verifying, more on a
# loaded machine. The Maven repository it downloads into (~130 MB) lives under the cache folder, so a rebuild after
# the archive was removed runs Maven offline (~16 s).
#
# stdout carries only shell assignments for `eval "$(bash scripts/hadoop-dist.sh)"`:
#   CMS_HADOOP_DIST=/abs/path/hadoop-<ver>-cms.tgz
#   CMS_HADOOP_VERSION=<ver>
# Progress goes to stderr. Settings (environment):
#   CMS_TESTBED_CACHE     cache folder (default ~/.cache/cms-testbed)
#   CMS_HADOOP_VERSION    Hadoop release to assemble (default below; Maven Central serves 3.4.0-3.4.3 and 3.5.0)
set -euo pipefail

HADOOP_VERSION=${CMS_HADOOP_VERSION:-3.4.3}
CACHE=${CMS_TESTBED_CACHE:-${HOME:-/root}/.cache/cms-testbed}
# Pinned, so the build does not depend on the default Maven happens to bind (2.8 for Maven 3.8).
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
export DEBIAN_FRONTEND=noninteractive

started=$(date +%s%N)
log() { printf 'hadoop-dist [%5.1fs]: %s\n' "$(( ($(date +%s%N) - started) / 1000000 ))e-3" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $HADOOP_VERSION =~ ^3\.[0-9]+\.[0-9]+$ ]] || die "CMS_HADOOP_VERSION must look like 3.4.3, not '$HADOOP_VERSION'"

mkdir -p "$CACHE/hadoop"
CACHE=$(cd "$CACHE" && pwd -P)
# Our own lock: scripts/testbed.sh calls this script while it holds .testbed.lock.
exec 5>"$CACHE/.hadoop-dist.lock"
flock -w 1800 5 || die "another scripts/hadoop-dist.sh has held $CACHE/.hadoop-dist.lock for 30 minutes"

print_result() {
  printf 'CMS_HADOOP_DIST=%q\nCMS_HADOOP_VERSION=%q\n' "$1" "$HADOOP_VERSION"
}

# The folder names the build's revision: a change to what the archive holds gets a folder of its own (2: the class
# list for class data sharing, and the launchers that use it).
mkdir -p "$CACHE/hadoop/r2"
dist="$CACHE/hadoop/r2/hadoop-$HADOOP_VERSION-cms.tgz"
if [ -s "$dist" ]; then
  print_result "$dist"
  exit 0
fi

# --- Requirements ------------------------------------------------------------------------------------------

if [ "$(id -u)" -eq 0 ]; then as_root() { "$@"; }; else as_root() { sudo -n -E "$@"; }; fi
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
java17_home() {
  local d
  for d in /usr/lib/jvm/java-17-openjdk-*; do [ -x "$d/bin/javac" ] && { echo "$d"; return; }; done
  return 1
}
want=()
command -v mvn >/dev/null 2>&1 || want+=(maven)
java17_home >/dev/null || installed openjdk-17-jdk-headless || want+=(openjdk-17-jdk-headless)
if [ "${#want[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "building the Hadoop runtime needs ${want[*]} (Maven and a JDK 17)"
  log "installing Debian packages: ${want[*]}"
  apt_install() { as_root apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${want[@]}" >&2; }
  if ! apt_install; then
    log "installing failed; updating the package lists and retrying"
    as_root apt-get update -q -o DPkg::Lock::Timeout=600 >&2
    apt_install || die "apt-get install ${want[*]} failed (see above)"
  fi
fi
JAVA_HOME=$(java17_home) || die "no JDK 17 under /usr/lib/jvm (install openjdk-17-jdk-headless)"
export JAVA_HOME
for c in python3 curl; do command -v "$c" >/dev/null 2>&1 || die "the build needs $c"; done

rm -rf "$CACHE"/hadoop/.work.* 2>/dev/null || true
work=$(mktemp -d "$CACHE/hadoop/.work.XXXXXX")
verify_pids=()
cleanup() {
  local p
  for p in "${verify_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# --- The jars, from Maven Central ----------------------------------------------------------------------------

# The server artifacts (their runtime dependencies follow); hadoop-hdfs:tests only for its webapps/.
ARTIFACTS=(hadoop-common hadoop-hdfs hadoop-hdfs:tests hadoop-hdfs-client
  hadoop-yarn-server-resourcemanager hadoop-yarn-server-nodemanager hadoop-yarn-server-web-proxy
  hadoop-yarn-server-timelineservice hadoop-yarn-client
  hadoop-mapreduce-client-app hadoop-mapreduce-client-jobclient hadoop-mapreduce-client-shuffle)

write_pom() {
  local a id classifier
  printf '%s\n' '<?xml version="1.0" encoding="UTF-8"?>' \
    '<project xmlns="http://maven.apache.org/POM/4.0.0">' \
    '  <modelVersion>4.0.0</modelVersion>' \
    '  <groupId>cms.testbed</groupId>' \
    '  <artifactId>hadoop-runtime</artifactId>' \
    '  <version>1</version>' \
    '  <packaging>pom</packaging>' \
    '  <dependencies>'
  for a in "${ARTIFACTS[@]}"; do
    id=${a%%:*}
    classifier=
    [ "$a" = "$id" ] || classifier="<classifier>${a#*:}</classifier>"
    printf '    <dependency><groupId>org.apache.hadoop</groupId><artifactId>%s</artifactId><version>%s</version>%s</dependency>\n' \
      "$id" "$HADOOP_VERSION" "$classifier"
  done
  printf '%s\n' '  </dependencies>' '</project>'
}

mkdir -p "$work/pom"
write_pom >"$work/pom/pom.xml"
# A Maven repository of our own under the cache: nothing of the user's ~/.m2 leaks in, and a rebuild is offline.
repo="$CACHE/hadoop/m2"
mvn_copy() { # mvn_copy [-o]: Maven's messages to stderr, without the colour codes Maven 3.8 prints even in batch mode
  (cd "$work/pom" && mvn -B -q "$@" -Dmaven.repo.local="$repo" \
    "$DEPENDENCY_PLUGIN:copy-dependencies" -DincludeScope=runtime -DoutputDirectory="$work/jars" 2>&1) \
    | sed -u 's/\x1b\[[0-9;]*m//g' >&2
}
if [ -d "$repo" ] && mvn_copy -o 2>/dev/null; then
  log "resolved Hadoop $HADOOP_VERSION's jars offline from $repo"
else
  rm -rf "$work/jars"
  log "resolving Hadoop $HADOOP_VERSION's server jars from Maven Central (~100 MB on a cold cache)"
  mvn_copy || die "mvn dependency:copy-dependencies failed for Hadoop $HADOOP_VERSION (is it on Maven Central?)"
fi
tests_jar="$work/jars/hadoop-hdfs-$HADOOP_VERSION-tests.jar"
[ -f "$tests_jar" ] && [ -f "$work/jars/hadoop-common-$HADOOP_VERSION.jar" ] \
  || die "Maven copied no hadoop-common or hadoop-hdfs tests jar for $HADOOP_VERSION"
log "resolved $(find "$work/jars" -name '*.jar' | wc -l) jars ($(du -sm "$work/jars" | cut -f1) MB)"

# --- The home: lib, webapps, etc/hadoop, bin ------------------------------------------------------------------

home="$work/hadoop-$HADOOP_VERSION"
mkdir -p "$home"/{bin,libexec,etc/hadoop,share/hadoop/lib,share/hadoop/hdfs}
# One file per artifact (Maven resolves one version of each), all in one folder: the distribution's four lib
# folders repeat many jars, this one does not. The tests jar is test classes only: just its webapps/ are used.
find "$work/jars" -maxdepth 1 -name '*.jar' ! -name "$(basename "$tests_jar")" -exec cp -t "$home/share/hadoop/lib" {} +
python3 - "$tests_jar" "$home/share/hadoop/hdfs" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = [n for n in z.namelist() if n.startswith("webapps/")]
    assert any(n.startswith("webapps/hdfs/") for n in names), "the tests jar has no webapps/hdfs"
    z.extractall(sys.argv[2], names)
EOF

empty_site='<?xml version="1.0" encoding="UTF-8"?>
<!-- Placeholder: cms writes this file on every host. -->
<configuration>
</configuration>'
for f in core-site hdfs-site yarn-site mapred-site; do printf '%s\n' "$empty_site" >"$home/etc/hadoop/$f.xml"; done

cat >"$home/etc/hadoop/capacity-scheduler.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!-- One queue, `default`, with the whole cluster (the ResourceManager does not start without this file). -->
<configuration>
  <property><name>yarn.scheduler.capacity.maximum-applications</name><value>10000</value></property>
  <property><name>yarn.scheduler.capacity.maximum-am-resource-percent</name><value>0.5</value></property>
  <property><name>yarn.scheduler.capacity.resource-calculator</name><value>org.apache.hadoop.yarn.util.resource.DominantResourceCalculator</value></property>
  <property><name>yarn.scheduler.capacity.root.queues</name><value>default</value></property>
  <property><name>yarn.scheduler.capacity.root.default.capacity</name><value>100</value></property>
  <property><name>yarn.scheduler.capacity.root.default.maximum-capacity</name><value>100</value></property>
  <property><name>yarn.scheduler.capacity.root.default.user-limit-factor</name><value>1</value></property>
  <property><name>yarn.scheduler.capacity.root.default.state</name><value>RUNNING</value></property>
</configuration>
EOF

cat >"$home/etc/hadoop/log4j.properties" <<'EOF'
# Daemons log to stderr by default (cms redirects it to the daemon's log file); RFA writes
# ${hadoop.log.dir}/${hadoop.log.file} instead: HADOOP_ROOT_LOGGER=INFO,RFA.
hadoop.root.logger=INFO,console
hadoop.log.dir=.
hadoop.log.file=hadoop.log
log4j.rootLogger=${hadoop.root.logger}
log4j.threshold=ALL

log4j.appender.NullAppender=org.apache.log4j.varia.NullAppender

log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.err
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n

log4j.appender.RFA=org.apache.log4j.RollingFileAppender
log4j.appender.RFA.File=${hadoop.log.dir}/${hadoop.log.file}
log4j.appender.RFA.MaxFileSize=64MB
log4j.appender.RFA.MaxBackupIndex=4
log4j.appender.RFA.layout=org.apache.log4j.PatternLayout
log4j.appender.RFA.layout.ConversionPattern=%d{ISO8601} %p %c: %m%n

# Audit logs off, as in the distribution.
hdfs.audit.logger=INFO,NullAppender
log4j.logger.org.apache.hadoop.hdfs.server.namenode.FSNamesystem.audit=${hdfs.audit.logger}
log4j.additivity.org.apache.hadoop.hdfs.server.namenode.FSNamesystem.audit=false
rm.audit.logger=INFO,NullAppender
log4j.logger.org.apache.hadoop.yarn.server.resourcemanager.RMAuditLogger=${rm.audit.logger}
log4j.additivity.org.apache.hadoop.yarn.server.resourcemanager.RMAuditLogger=false
nm.audit.logger=INFO,NullAppender
log4j.logger.org.apache.hadoop.yarn.server.nodemanager.NMAuditLogger=${nm.audit.logger}
log4j.additivity.org.apache.hadoop.yarn.server.nodemanager.NMAuditLogger=false

# There is no native library in this runtime: say so once, not on every command.
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
EOF

cat >"$home/libexec/hadoop-config.sh" <<'EOF'
# Sourced by this runtime's bin/ scripts: the environment and the JVM command line every Hadoop command shares.
# Settings: JAVA_HOME (default: a Java 17 under /usr/lib/jvm, else the `java` on PATH), HADOOP_CONF_DIR
# (default: etc/hadoop here), HADOOP_LOG_DIR (default: logs here), HADOOP_ROOT_LOGGER (INFO,console),
# HADOOP_HEAPSIZE_MAX (e.g. 1g), HADOOP_CLASSPATH (appended), HADOOP_OPTS (JVM options, split on spaces).
HADOOP_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
export HADOOP_HOME
export HADOOP_CONF_DIR=${HADOOP_CONF_DIR:-$HADOOP_HOME/etc/hadoop}
# The distribution's four homes are one folder here; the NodeManager passes them on to containers.
export HADOOP_COMMON_HOME=$HADOOP_HOME HADOOP_HDFS_HOME=$HADOOP_HOME HADOOP_YARN_HOME=$HADOOP_HOME HADOOP_MAPRED_HOME=$HADOOP_HOME
export HADOOP_LOG_DIR=${HADOOP_LOG_DIR:-$HADOOP_HOME/logs}

if [ -z "${JAVA_HOME:-}" ]; then
  for d in /usr/lib/jvm/java-17-openjdk-*; do [ -x "$d/bin/java" ] && { JAVA_HOME=$d; break; }; done
fi
if [ -z "${JAVA_HOME:-}" ] && command -v java >/dev/null 2>&1; then
  JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
fi
if [ ! -x "${JAVA_HOME:-}/bin/java" ]; then
  echo "${0##*/}: no Java found: install a Java 17 runtime or set JAVA_HOME" >&2
  exit 1
fi
export JAVA_HOME

# Hadoop's own list for Java 17 (hadoop-functions.sh hadoop_finalize_jpms_opts) and sun.nio.ch, which the
# ResourceManager and NodeManager need.
HADOOP_JAVA_OPENS=()
for p in java.io java.lang java.lang.reflect java.math java.net java.text java.util java.util.concurrent \
  java.util.zip sun.nio.ch sun.security.util sun.security.x509; do
  HADOOP_JAVA_OPENS+=("--add-opens=java.base/$p=ALL-UNNAMED")
done

hadoop_classpath() {
  printf '%s' "$HADOOP_CONF_DIR:$HADOOP_HOME/share/hadoop/hdfs:$HADOOP_HOME/share/hadoop/lib/*${HADOOP_CLASSPATH:+:$HADOOP_CLASSPATH}"
}

# Class data sharing: HADOOP_CDS_ARCHIVE names an archive `hadoop-daemon cds-dump` made with this runtime and a JVM of
# the same build; the JVM then maps Hadoop's classes parsed and verified already (a daemon starts on ~40% less CPU).
# The archive records the classpath as it was at the dump: the jars first, relative to HADOOP_HOME, in one order, so a
# JVM using it runs in HADOOP_HOME. A JVM of another build ignores the archive and loads the jars as usual.
hadoop_cds_jars() {
  local LC_ALL=C
  local -a jars=(share/hadoop/lib/*.jar)
  local IFS=:
  printf '%s' "${jars[*]}"
}
HADOOP_CDS_CLASSLIST=share/hadoop/cds/hadoop.classlist

# hadoop_exec NAME CLASS [ARGS...]: replaces the shell with the JVM running CLASS (-Dproc_NAME marks the process).
hadoop_exec() {
  local name=$1 class=$2
  shift 2
  local -a opts=()
  # shellcheck disable=SC2206 # HADOOP_OPTS is a list of options split on spaces, as in Hadoop's own scripts
  [ -z "${HADOOP_OPTS:-}" ] || opts=($HADOOP_OPTS)
  [ -z "${HADOOP_HEAPSIZE_MAX:-}" ] || opts=("-Xmx$HADOOP_HEAPSIZE_MAX" "${opts[@]}")
  local cp
  if [ -n "${HADOOP_CDS_ARCHIVE:-}" ] && [ -r "$HADOOP_CDS_ARCHIVE" ]; then
    cd "$HADOOP_HOME"
    cp="$(hadoop_cds_jars):$HADOOP_CONF_DIR:$HADOOP_HOME/share/hadoop/hdfs${HADOOP_CLASSPATH:+:$HADOOP_CLASSPATH}"
    opts=("-XX:SharedArchiveFile=$HADOOP_CDS_ARCHIVE" "${opts[@]}")
  else
    cp=$(hadoop_classpath)
  fi
  exec "$JAVA_HOME/bin/java" "-Dproc_$name" "${HADOOP_JAVA_OPENS[@]}" -Djava.net.preferIPv4Stack=true \
    "-Dhadoop.home.dir=$HADOOP_HOME" "-Dhadoop.log.dir=$HADOOP_LOG_DIR" "-Dhadoop.log.file=hadoop-$name.log" \
    "-Dyarn.home.dir=$HADOOP_HOME" "-Dyarn.log.dir=$HADOOP_LOG_DIR" "-Dyarn.log.file=hadoop-$name.log" \
    "-Dhadoop.root.logger=${HADOOP_ROOT_LOGGER:-INFO,console}" "-Dhadoop.id.str=${USER:-$(id -un)}" \
    "${opts[@]}" -cp "$cp" "$class" "$@"
}

# hadoop_cds_dump FILE: writes the class data sharing archive for this runtime and this JVM (see HADOOP_CDS_ARCHIVE).
hadoop_cds_dump() {
  [ -n "${1:-}" ] || { echo "usage: hadoop-daemon cds-dump FILE" >&2; exit 2; }
  local out
  out=$(cd "$(dirname "$1")" && pwd -P)/$(basename "$1")
  cd "$HADOOP_HOME"
  exec "$JAVA_HOME/bin/java" -Xshare:dump "-XX:SharedClassListFile=$HADOOP_CDS_CLASSLIST" "-XX:SharedArchiveFile=$out" \
    -cp "$(hadoop_cds_jars)"
}

EOF

# One table of every command the launchers run: `hadoop_command TOOL [COMMAND] [ARGS...]`.
cat >"$home/libexec/hadoop-commands.sh" <<'EOF'
# Sourced by this runtime's bin/ scripts after hadoop-config.sh. Hadoop's own bin/ scripts name the same classes.
HADOOP_USAGE_hadoop_daemon='namenode|datanode|resourcemanager|nodemanager|format [ARGS...] | cds-dump FILE'
HADOOP_USAGE_hdfs='dfs|dfsadmin|fsck|getconf|version|classpath|namenode|datanode [ARGS...]'
HADOOP_USAGE_yarn='node|application|applicationattempt|container|logs|rmadmin|queue|jar|version|classpath|resourcemanager|nodemanager [ARGS...]'
HADOOP_USAGE_hadoop='fs|jar|version|classpath|checknative|CLASSNAME [ARGS...]'

hadoop_command() {
  local tool=$1 cmd=${2:-}
  shift $(($# < 2 ? $# : 2))
  case "$tool $cmd" in
    # Daemons run in the foreground: their JVM replaces the script (cms runs them under nohup/setsid).
    "hadoop-daemon namenode" | "hdfs namenode") hadoop_exec namenode org.apache.hadoop.hdfs.server.namenode.NameNode "$@" ;;
    "hadoop-daemon datanode" | "hdfs datanode") hadoop_exec datanode org.apache.hadoop.hdfs.server.datanode.DataNode "$@" ;;
    "hadoop-daemon resourcemanager" | "yarn resourcemanager")
      hadoop_exec resourcemanager org.apache.hadoop.yarn.server.resourcemanager.ResourceManager "$@" ;;
    "hadoop-daemon nodemanager" | "yarn nodemanager") hadoop_exec nodemanager org.apache.hadoop.yarn.server.nodemanager.NodeManager "$@" ;;
    # Refuses storage that is formatted already (-nonInteractive).
    "hadoop-daemon format") hadoop_exec namenode-format org.apache.hadoop.hdfs.server.namenode.NameNode -format -nonInteractive "$@" ;;
    "hadoop-daemon cds-dump") hadoop_cds_dump "$@" ;;
    "hdfs dfs" | "hadoop fs") hadoop_exec "$cmd" org.apache.hadoop.fs.FsShell "$@" ;;
    "hdfs dfsadmin") hadoop_exec dfsadmin org.apache.hadoop.hdfs.tools.DFSAdmin "$@" ;;
    "hdfs fsck") hadoop_exec fsck org.apache.hadoop.hdfs.tools.DFSck "$@" ;;
    "hdfs getconf") hadoop_exec getconf org.apache.hadoop.hdfs.tools.GetConf "$@" ;;
    "yarn node") hadoop_exec node org.apache.hadoop.yarn.client.cli.NodeCLI "$@" ;;
    # ApplicationCLI reads which of its commands it is from its first argument, as Hadoop's yarn script passes it.
    "yarn application" | "yarn app" | "yarn applicationattempt" | "yarn container")
      hadoop_exec "$cmd" org.apache.hadoop.yarn.client.cli.ApplicationCLI "$cmd" "$@" ;;
    "yarn logs") hadoop_exec logs org.apache.hadoop.yarn.client.cli.LogsCLI "$@" ;;
    "yarn rmadmin") hadoop_exec rmadmin org.apache.hadoop.yarn.client.cli.RMAdminCLI "$@" ;;
    "yarn queue") hadoop_exec queue org.apache.hadoop.yarn.client.cli.QueueCLI "$@" ;;
    "yarn jar" | "hadoop jar") hadoop_exec jar org.apache.hadoop.util.RunJar "$@" ;;
    "hadoop checknative") hadoop_exec checknative org.apache.hadoop.util.NativeLibraryChecker "$@" ;;
    "hdfs version" | "yarn version" | "hadoop version") hadoop_exec version org.apache.hadoop.util.VersionInfo "$@" ;;
    "hdfs classpath" | "yarn classpath" | "hadoop classpath") hadoop_classpath; echo ;;
    "hadoop "?*.?*) hadoop_exec "${cmd##*.}" "$cmd" "$@" ;;
    *)
      local usage="HADOOP_USAGE_${tool//-/_}"
      printf 'Usage: %s %s\n' "$tool" "${!usage}" >&2
      exit 2
      ;;
  esac
}
EOF

# The launchers: hadoop-daemon, hdfs, yarn, hadoop (each says its commands in its header).
for tool in hadoop-daemon hdfs yarn hadoop; do
  usage="HADOOP_USAGE_${tool//-/_}"
  usage=$(. "$home/libexec/hadoop-commands.sh" && echo "${!usage}")
  cat >"$home/bin/$tool" <<EOF
#!/usr/bin/env bash
# $tool $usage
set -euo pipefail
. "\$(dirname "\$(readlink -f "\$0")")/../libexec/hadoop-config.sh"
. "\$HADOOP_HOME/libexec/hadoop-commands.sh"
hadoop_command $tool "\$@"
EOF
done

printf 'Hadoop %s\nAssembled by cms scripts/hadoop-dist.sh from Maven Central: %s jars in share/hadoop/lib, webapps from hadoop-hdfs-%s-tests.jar, launchers in bin/.\n' \
  "$HADOOP_VERSION" "$(find "$home/share/hadoop/lib" -name '*.jar' | wc -l)" "$HADOOP_VERSION" >"$home/RELEASE"
chmod -R u+rwX,go+rX,go-w "$home"
chmod 0755 "$home"/bin/*
chmod 0644 "$home"/libexec/*

# --- Run the runtime once: verify it, and record the classes its JVMs load --------------------------------------

# Format, NameNode, ResourceManager, DataNode, NodeManager and an `hdfs dfs` client, all on loopback, each JVM
# writing the classes it loaded (-XX:DumpLoadedClassList). Their union is the class list `hadoop-daemon cds-dump`
# turns into a class data sharing archive on a cluster's head, for that host's own JVM build (an archive made here
# would serve only this machine's build). Names only: the list holds no path.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
prop() { printf '  <property><name>%s</name><value>%s</value></property>\n' "$1" "$2"; }
site() { # site FILE NAME=VALUE...
  local file=$1 kv
  shift
  { echo '<?xml version="1.0"?>'; echo '<configuration>'
    for kv in "$@"; do prop "${kv%%=*}" "${kv#*=}"; done
    echo '</configuration>'; } >"$file"
}
wait_for() { # wait_for SECONDS LOG COMMAND...: retries COMMAND twice a second; on timeout shows LOG and fails
  local seconds=$1 logfile=$2 i
  shift 2
  for ((i = 0; i < seconds * 2; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  tail -n 40 "$logfile" >&2 2>/dev/null || true
  return 1
}
json_has() { curl -fsS --max-time 5 "$1" | grep -q "$2"; }

v="$work/check"
mkdir -p "$v/conf" "$v/logs" "$v/name" "$v/data" "$v/tmp" "$v/nm-local" "$v/nm-logs" "$v/classes"
cp "$home/etc/hadoop/capacity-scheduler.xml" "$home/etc/hadoop/log4j.properties" "$v/conf/"
nn_rpc=$(free_port) nn_http=$(free_port)
site "$v/conf/core-site.xml" "fs.defaultFS=hdfs://127.0.0.1:$nn_rpc" "hadoop.tmp.dir=$v/tmp"
site "$v/conf/hdfs-site.xml" "dfs.namenode.name.dir=$v/name" "dfs.namenode.http-address=127.0.0.1:$nn_http" \
  "dfs.namenode.rpc-address=127.0.0.1:$nn_rpc" "dfs.replication=1" "dfs.datanode.data.dir=$v/data" \
  "dfs.datanode.address=127.0.0.1:$(free_port)" "dfs.datanode.http.address=127.0.0.1:$(free_port)" \
  "dfs.datanode.ipc.address=127.0.0.1:$(free_port)"
yarn_props=("yarn.resourcemanager.hostname=127.0.0.1")
for p in address scheduler.address resource-tracker.address admin.address webapp.address; do
  yarn_props+=("yarn.resourcemanager.$p=127.0.0.1:$(free_port)")
done
rm_web=${yarn_props[-1]#*=}
site "$v/conf/yarn-site.xml" "${yarn_props[@]}" "yarn.timeline-service.enabled=false" \
  "yarn.nodemanager.local-dirs=$v/nm-local" "yarn.nodemanager.log-dirs=$v/nm-logs" \
  "yarn.nodemanager.address=127.0.0.1:$(free_port)" "yarn.nodemanager.localizer.address=127.0.0.1:$(free_port)" \
  "yarn.nodemanager.webapp.address=127.0.0.1:$(free_port)" "yarn.nodemanager.resource.memory-mb=2048"
export HADOOP_CONF_DIR="$v/conf" HADOOP_LOG_DIR="$v/logs"
# run NAME TOOL ARGS...: one command of the runtime, its loaded classes in $v/classes/NAME. In a subshell of its own
# (`&`, or `( )`): it execs, so that subshell becomes the JVM and $! is the JVM's pid.
run() { local name=$1 tool=$2; shift 2; exec env "HADOOP_OPTS=-XX:DumpLoadedClassList=$v/classes/$name" "$home/bin/$tool" "$@"; }

(run format hadoop-daemon format -clusterid cms-verify) >"$v/logs/format.out" 2>&1 \
  || { tail -n 30 "$v/logs/format.out" >&2; die "formatting a NameNode with the built runtime failed"; }
log "formatted a NameNode; starting it and a ResourceManager on 127.0.0.1"
run namenode hadoop-daemon namenode >"$v/logs/nn.out" 2>&1 </dev/null &
verify_pids+=($!)
run resourcemanager hadoop-daemon resourcemanager >"$v/logs/rm.out" 2>&1 </dev/null &
verify_pids+=($!)
wait_for 90 "$v/logs/nn.out" json_has "http://127.0.0.1:$nn_http/jmx?qry=Hadoop:service=NameNode,name=NameNodeStatus" '"State" *: *"active"' \
  || die "the NameNode from the built runtime did not serve /jmx on 127.0.0.1:$nn_http"
wait_for 30 "$v/logs/nn.out" json_has "http://127.0.0.1:$nn_http/webhdfs/v1/?op=LISTSTATUS" '"FileStatuses"' \
  || die "the NameNode from the built runtime did not serve WebHDFS on 127.0.0.1:$nn_http"
wait_for 30 "$v/logs/nn.out" json_has "http://127.0.0.1:$nn_http/dfshealth.html" 'dfshealth' \
  || die "the NameNode from the built runtime did not serve its web UI (webapps/hdfs) on 127.0.0.1:$nn_http"
log "verified: NameNode served /jmx (active), WebHDFS LISTSTATUS and its web UI with Java 17"
run datanode hadoop-daemon datanode >"$v/logs/dn.out" 2>&1 </dev/null &
verify_pids+=($!)
run nodemanager hadoop-daemon nodemanager >"$v/logs/nm.out" 2>&1 </dev/null &
verify_pids+=($!)
wait_for 90 "$v/logs/rm.out" json_has "http://$rm_web/ws/v1/cluster/info" '"state" *: *"STARTED"' \
  || die "the ResourceManager from the built runtime did not report STARTED on $rm_web"
log "verified: ResourceManager reported STARTED on /ws/v1/cluster/info"
wait_for 120 "$v/logs/nm.out" json_has "http://$rm_web/ws/v1/cluster/nodes" '"state" *: *"RUNNING"' \
  || die "the NodeManager from the built runtime did not register with the ResourceManager"
wait_for 120 "$v/logs/dn.out" json_has "http://127.0.0.1:$nn_http/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState" '"NumLiveDataNodes" *: *1' \
  || die "the DataNode from the built runtime did not register with the NameNode"
echo "cms" >"$v/probe.txt"
(run dfs hdfs dfs -put "$v/probe.txt" /probe.txt) >"$v/logs/dfs.out" 2>&1 \
  && [ "$( (run dfs-cat hdfs dfs -cat /probe.txt) 2>>"$v/logs/dfs.out")" = cms ] \
  || { tail -n 30 "$v/logs/dfs.out" >&2; die "hdfs dfs -put/-cat through the built runtime's DataNode failed"; }
log "verified: a DataNode and a NodeManager registered, and a file went into HDFS and back"
for p in "${verify_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${verify_pids[@]}"; do
  for _ in $(seq 1 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
done
# (cleanup SIGKILLs any that did not stop in 10 s)
unset HADOOP_CONF_DIR HADOOP_LOG_DIR
# Sorted, so the same release gives the same list: classes, then the JVM's lambda-form lines (which name classes).
mkdir -p "$home/share/hadoop/cds"
{ echo "# Classes Hadoop $HADOOP_VERSION's daemons and clients loaded in scripts/hadoop-dist.sh's run (-XX:DumpLoadedClassList)"
  cat "$v"/classes/* | grep -v '^[#@]' | LC_ALL=C sort -u
  cat "$v"/classes/* | grep '^@' | LC_ALL=C sort -u
} >"$home/share/hadoop/cds/hadoop.classlist"
classes=$(grep -vc '^[#@]' "$home/share/hadoop/cds/hadoop.classlist")
[ "$classes" -gt 3000 ] || die "the run recorded only $classes classes for the class list"
log "recorded the $classes classes the run loaded (share/hadoop/cds/hadoop.classlist)"
chmod 0644 "$home/share/hadoop/cds/hadoop.classlist"

# --- Pack reproducibly ------------------------------------------------------------------------------------------

# Every timestamp is hadoop-common's build time (from its jar), so the same release gives the same bytes but for the
# class list (the run's threads load a few classes or not from one run to the next).
epoch=$(python3 - "$work/jars/hadoop-common-$HADOOP_VERSION.jar" <<'EOF'
import calendar, sys, zipfile
print(calendar.timegm(zipfile.ZipFile(sys.argv[1]).getinfo("META-INF/MANIFEST.MF").date_time + (0, 0, 0)))
EOF
)
log "packing $(basename "$dist") ($(du -sm "$home" | cut -f1) MB unpacked)"
# gzip -1: the jars are compressed already.
tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -cf - "hadoop-$HADOOP_VERSION" \
  | gzip -1 -n >"$work/dist.tgz"


# --- Verify the archive itself, unpacked afresh ---------------------------------------------------------------

mkdir -p "$work/verify"
tar -xzf "$work/dist.tgz" -C "$work/verify"
vhome="$work/verify/hadoop-$HADOOP_VERSION"
out=$("$vhome/bin/hadoop" version 2>&1) || die "hadoop version failed: $out"
grep -q "^Hadoop $HADOOP_VERSION\$" <<<"$out" || die "hadoop version does not report $HADOOP_VERSION: $out"
[ -s "$vhome/share/hadoop/cds/hadoop.classlist" ] || die "the archive has no share/hadoop/cds/hadoop.classlist"
log "packed $(stat -c %s "$work/dist.tgz") bytes; unpacked afresh, \`hadoop version\` reports $HADOOP_VERSION"

mv "$work/dist.tgz" "$dist"
trap - EXIT
cleanup
log "Hadoop runtime ready: $dist ($(stat -c %s "$dist") bytes)"
print_result "$dist"
