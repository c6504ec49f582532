#!/bin/bash
# The contract Spark on Kubernetes expects of an image's entrypoint:
#   executor  run KubernetesExecutorBackend with the SPARK_EXECUTOR_* / SPARK_DRIVER_URL environment Spark sets
#             on the executor pods it creates;
#   driver    run spark-submit in client mode (how a cluster-mode driver pod starts);
#   anything else is run as given (cms's Job pods run spark-submit this way).
# Every command runs under tini, which reaps the Python workers PySpark forks.
set -eo pipefail

# A UID without a passwd entry (a pod's runAsUser) still needs one for the JVM and Hadoop's user lookup.
if ! getent passwd "$(id -u)" >/dev/null 2>&1 && [ -w /etc/passwd ]; then
  echo "$(id -u):x:$(id -u):$(id -g):${SPARK_USER_NAME:-anonymous uid}:${SPARK_HOME}:/bin/false" >> /etc/passwd
fi

classpath="${SPARK_HOME}/jars/*"
[ -n "${SPARK_CLASSPATH:-}" ] && classpath="${SPARK_CLASSPATH}:${classpath}"
[ -n "${SPARK_EXTRA_CLASSPATH:-}" ] && classpath="${classpath}:${SPARK_EXTRA_CLASSPATH}"
if [ -n "${HADOOP_HOME:-}" ] && [ -z "${SPARK_DIST_CLASSPATH:-}" ]; then
  SPARK_DIST_CLASSPATH="$("${HADOOP_HOME}/bin/hadoop" classpath)"
  export SPARK_DIST_CLASSPATH
fi
[ -n "${HADOOP_CONF_DIR:-}" ] && classpath="${HADOOP_CONF_DIR}:${classpath}"
classpath="${SPARK_CONF_DIR:-${SPARK_HOME}/conf}:${classpath}"

case "${1:-}" in
  executor)
    shift
    for v in SPARK_DRIVER_URL SPARK_EXECUTOR_ID SPARK_EXECUTOR_CORES SPARK_EXECUTOR_MEMORY SPARK_APPLICATION_ID SPARK_EXECUTOR_POD_IP SPARK_EXECUTOR_POD_NAME; do
      [ -n "${!v:-}" ] || { echo "executor: $v is not set (this image's executor mode runs in pods Spark creates)" >&2; exit 2; }
    done
    # The JVM options Spark passes as SPARK_JAVA_OPT_0, SPARK_JAVA_OPT_1, ... in their numeric order.
    mapfile -t java_opts < <(env | grep '^SPARK_JAVA_OPT_' | sort -t_ -k4 -n | sed 's/^[^=]*=//')
    cmd=(
      "${JAVA_HOME}/bin/java" "${java_opts[@]}"
      "-Xms${SPARK_EXECUTOR_MEMORY}" "-Xmx${SPARK_EXECUTOR_MEMORY}"
      -cp "${classpath}${SPARK_DIST_CLASSPATH:+:${SPARK_DIST_CLASSPATH}}"
      org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend
      --driver-url "${SPARK_DRIVER_URL}"
      --executor-id "${SPARK_EXECUTOR_ID}"
      --cores "${SPARK_EXECUTOR_CORES}"
      --app-id "${SPARK_APPLICATION_ID}"
      --hostname "${SPARK_EXECUTOR_POD_IP}"
      --resourceProfileId "${SPARK_RESOURCE_PROFILE_ID:-0}"
      --podName "${SPARK_EXECUTOR_POD_NAME}"
    )
    ;;
  driver)
    shift
    cmd=("${SPARK_HOME}/bin/spark-submit" --conf "spark.driver.bindAddress=${SPARK_DRIVER_BIND_ADDRESS:-0.0.0.0}" --deploy-mode client "$@")
    ;;
  "")
    echo 'usage: executor | driver SPARK-SUBMIT-ARGS... | COMMAND...' >&2
    exit 2
    ;;
  *)
    cmd=("$@")
    ;;
esac

if [ -n "${K8S_SPARK_LOG_PATH:-}" ]; then
  mkdir -p "${K8S_SPARK_LOG_PATH}"
  exec /usr/bin/tini -s -- "${cmd[@]}" > >(tee "${K8S_SPARK_LOG_PATH}/stdout") 2> >(tee "${K8S_SPARK_LOG_PATH}/stderr" >&2)
fi
exec /usr/bin/tini -s -- "${cmd[@]}"
