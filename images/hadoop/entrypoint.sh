#!/bin/bash
# The Hadoop image's entrypoint. One image for every role, chosen by the command:
#   namenode          formats its storage the first time (HADOOP_CLUSTER_ID), then runs the NameNode; once it is out
#                     of safe mode, makes /tmp and /user (mode 1777) if /user is missing, so any user can write there
#   datanode | resourcemanager | nodemanager    runs that daemon
#   config            prints the configuration rendered from the environment (what the daemons read), and exits
#   anything else     runs as given (hdfs dfs -ls /, yarn node -list ...), with the same configuration
# The configuration comes from the environment and is rendered into HADOOP_CONF_DIR at every start:
#   HADOOP_NAMENODE          the NameNode's host name or address (default: this host's name)
#   HADOOP_RESOURCEMANAGER   the ResourceManager's (default: HADOOP_NAMENODE)
#   HDFS_REPLICATION         copies of each block (default 1)
#   HADOOP_DATA_DIR          the daemons' data: name/, data/, tmp/, nm-local/, nm-logs/ (default /hadoop)
#   HDFS_EXCLUDE_FILE        the DataNodes being decommissioned, one address a line (default HADOOP_DATA_DIR/dfs.exclude)
#   HADOOP_CLUSTER_ID        the file system's cluster id, used when the NameNode formats (default cms)
#   YARN_NODEMANAGER_MEMORY_MB, YARN_NODEMANAGER_VCORES   what a NodeManager offers (default 2048, every core)
#   CORE_SITE, HDFS_SITE, YARN_SITE, MAPRED_SITE   more settings, NAME=VALUE one a line: they win over the above
# and HADOOP_HEAPSIZE_MAX, HADOOP_OPTS as the runtime's launchers read them. Daemons listen on every interface of
# the container (its network is its own); Hadoop's "simple" authentication trusts the user name a client claims, so
# nothing of it may be reachable from outside the cluster's network.
set -euo pipefail
# Bash 5.2 would read "&" in a ${var//pattern/replacement} as the matched text: XML escaping needs it literal.
shopt -u patsub_replacement 2>/dev/null || true

die() { echo "hadoop image: $*" >&2; exit 2; }

HADOOP_HOME=${HADOOP_HOME:-/opt/hadoop}
conf=${HADOOP_CONF_DIR:-/etc/hadoop}
data=${HADOOP_DATA_DIR:-/hadoop}
namenode=${HADOOP_NAMENODE:-${HOSTNAME:-localhost}}
resourcemanager=${HADOOP_RESOURCEMANAGER:-$namenode}
replication=${HDFS_REPLICATION:-1}
exclude=${HDFS_EXCLUDE_FILE:-$data/dfs.exclude}
nm_memory=${YARN_NODEMANAGER_MEMORY_MB:-2048}
nm_vcores=${YARN_NODEMANAGER_VCORES:-$(nproc)}

[[ $replication =~ ^[1-9][0-9]*$ ]] || die "HDFS_REPLICATION must be a positive number, not '$replication'"
[[ $nm_memory =~ ^[1-9][0-9]*$ ]] || die "YARN_NODEMANAGER_MEMORY_MB must be a positive number, not '$nm_memory'"
[[ $nm_vcores =~ ^[1-9][0-9]*$ ]] || die "YARN_NODEMANAGER_VCORES must be a positive number, not '$nm_vcores'"
for v in namenode resourcemanager; do
  [[ ${!v} =~ ^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$ ]] || die "the ${v} must be a host name or an address, not '${!v}'"
done
for p in "$conf" "$data" "$exclude"; do [[ $p =~ ^/[^,[:space:]]*$ ]] || die "paths must be absolute, without commas or whitespace: '$p'"; done
# An IPv6 address goes in brackets in host:port.
host_port() { if [[ $1 == *:* ]]; then printf '[%s]:%s' "$1" "$2"; else printf '%s:%s' "$1" "$2"; fi; }

xml_escape() {
  local s=$1
  s=${s//&/&amp;}
  s=${s//</&lt;}
  s=${s//>/&gt;}
  s=${s//\"/&quot;}
  printf '%s' "$s"
}

# render FILE EXTRA NAME=VALUE...: the defaults in their order, then EXTRA's NAME=VALUE lines (a name given again
# takes the new value in its first place); blank lines and lines starting with # are skipped.
render() {
  local file=$1 extra=$2 kv line name
  shift 2
  local -A values=()
  local -a order=()
  put() {
    [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || die "$file: invalid property name '$1'"
    [ -n "${values[$1]+set}" ] || order+=("$1")
    values[$1]=$2
  }
  for kv in "$@"; do put "${kv%%=*}" "${kv#*=}"; done
  while IFS= read -r line; do
    line=${line%$'\r'}
    [[ -z ${line//[[:space:]]/} || $line =~ ^[[:space:]]*# ]] && continue
    [[ $line == *=* ]] || die "$file: expected NAME=VALUE, not '$line'"
    put "${line%%=*}" "${line#*=}"
  done <<<"$extra"
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo '<!-- Rendered from the environment by the image entrypoint at start. -->'
    echo '<configuration>'
    for name in "${order[@]}"; do
      printf '  <property><name>%s</name><value>%s</value></property>\n' "$name" "$(xml_escape "${values[$name]}")"
    done
    echo '</configuration>'
  } >"$conf/$file.xml"
}

render_all() {
  mkdir -p "$conf"
  render core-site "${CORE_SITE:-}" \
    "fs.defaultFS=hdfs://$(host_port "$namenode" 8020)" \
    "hadoop.tmp.dir=$data/tmp"
  render hdfs-site "${HDFS_SITE:-}" \
    "dfs.namenode.name.dir=file://$data/name" \
    "dfs.datanode.data.dir=file://$data/data" \
    "dfs.replication=$replication" \
    "dfs.namenode.rpc-address=$(host_port "$namenode" 8020)" \
    "dfs.namenode.http-address=$(host_port "$namenode" 9870)" \
    "dfs.namenode.rpc-bind-host=0.0.0.0" \
    "dfs.namenode.servicerpc-bind-host=0.0.0.0" \
    "dfs.namenode.http-bind-host=0.0.0.0" \
    "dfs.namenode.https-bind-host=0.0.0.0" \
    "dfs.namenode.datanode.registration.ip-hostname-check=false" \
    "dfs.hosts.exclude=$exclude" \
    "dfs.namenode.safemode.extension=5000" \
    "dfs.namenode.decommission.interval=5"
  render yarn-site "${YARN_SITE:-}" \
    "yarn.resourcemanager.hostname=$resourcemanager" \
    "yarn.resourcemanager.bind-host=0.0.0.0" \
    "yarn.nodemanager.bind-host=0.0.0.0" \
    "yarn.nodemanager.resource.memory-mb=$nm_memory" \
    "yarn.nodemanager.resource.cpu-vcores=$nm_vcores" \
    "yarn.nodemanager.local-dirs=$data/nm-local" \
    "yarn.nodemanager.log-dirs=$data/nm-logs" \
    "yarn.nodemanager.aux-services=mapreduce_shuffle" \
    "yarn.nodemanager.aux-services.mapreduce_shuffle.class=org.apache.hadoop.mapred.ShuffleHandler" \
    "yarn.nodemanager.vmem-check-enabled=false" \
    "yarn.nodemanager.env-whitelist=JAVA_HOME,HADOOP_COMMON_HOME,HADOOP_HDFS_HOME,HADOOP_CONF_DIR,CLASSPATH_PREPEND_DISTCACHE,HADOOP_YARN_HOME,HADOOP_HOME,HADOOP_MAPRED_HOME,PATH,LANG,TZ" \
    "yarn.application.classpath=\$HADOOP_CONF_DIR,\$HADOOP_HOME/share/hadoop/hdfs,\$HADOOP_HOME/share/hadoop/lib/*" \
    "yarn.timeline-service.enabled=false"
  render mapred-site "${MAPRED_SITE:-}" \
    "mapreduce.framework.name=yarn" \
    "yarn.app.mapreduce.am.env=HADOOP_MAPRED_HOME=$HADOOP_HOME" \
    "mapreduce.map.env=HADOOP_MAPRED_HOME=$HADOOP_HOME" \
    "mapreduce.reduce.env=HADOOP_MAPRED_HOME=$HADOOP_HOME" \
    "mapreduce.application.classpath=\$HADOOP_MAPRED_HOME/share/hadoop/lib/*"
  # What the runtime carries as it is: one scheduler queue, logs to stderr.
  local f
  for f in capacity-scheduler.xml log4j.properties; do
    [ ! -f "$HADOOP_HOME/etc/hadoop/$f" ] || cp "$HADOOP_HOME/etc/hadoop/$f" "$conf/$f"
  done
}

# A UID without a passwd entry (a pod's runAsUser) still needs one: Hadoop names the user from it.
if ! getent passwd "$(id -u)" >/dev/null 2>&1 && [ -w /etc/passwd ]; then
  echo "$(id -u):x:$(id -u):$(id -g):hadoop uid:$data:/bin/false" >>/etc/passwd
fi

# Makes /tmp and /user writable by every user (sticky) the first time the file system serves; bounded.
init_directories() {
  local i
  for i in $(seq 1 60); do
    if hdfs dfsadmin -safemode wait >/dev/null 2>&1; then
      hdfs dfs -test -d /user 2>/dev/null && return 0
      hdfs dfs -mkdir -p /tmp /user && hdfs dfs -chmod 1777 /tmp /user && return 0
    fi
    sleep 2
  done
  echo 'hadoop image: the NameNode did not leave safe mode in time: /tmp and /user were not made' >&2
}

role=${1:-}
case "$role" in
  config)
    render_all
    for f in core-site hdfs-site yarn-site mapred-site; do echo "==> $conf/$f.xml"; cat "$conf/$f.xml"; done
    ;;
  namenode)
    render_all
    mkdir -p "$data/name"
    touch "$exclude"
    if [ ! -f "$data/name/current/VERSION" ]; then
      hadoop-daemon format -clusterid "${HADOOP_CLUSTER_ID:-cms}"
    fi
    # Started twice removed, so tini (PID 1) adopts and reaps it.
    ( (init_directories) & )
    shift
    exec hadoop-daemon namenode "$@"
    ;;
  datanode | resourcemanager | nodemanager)
    render_all
    mkdir -p "$data"
    shift
    exec hadoop-daemon "$role" "$@"
    ;;
  "")
    echo 'usage: namenode | datanode | resourcemanager | nodemanager | config | COMMAND...' >&2
    exit 2
    ;;
  *)
    render_all
    exec "$@"
    ;;
esac
