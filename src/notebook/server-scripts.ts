import {remoteClusterDir} from '../cluster/manifest.js'
import {OWN_PROCESS_FUNCTION, selfSafePattern} from '../engines/host-scripts.js'
import {shJoin, shq} from '../remote/shell.js'

/**
 * Pure builders of the scripts that run JupyterLab on a cluster's head. The server's files (pid, log, Jupyter's
 * runtime, data and config folders) live in one folder that --stop empties; the notebooks live in another that
 * outlives every stop and start (both go with the cluster).
 */

export interface NotebookLayout {
  serverDir: string
  runtimeDir: string
  notebooksDir: string
  pidFile: string
  logFile: string
}

export function notebookLayout(home: string, cluster: string): NotebookLayout {
  const clusterDir = remoteClusterDir(home, cluster)
  const serverDir = `${clusterDir}/notebook-server`
  return {
    serverDir,
    runtimeDir: `${serverDir}/runtime`,
    notebooksDir: `${clusterDir}/notebooks`,
    pidFile: `${serverDir}/server.pid`,
    logFile: `${serverDir}/server.log`,
  }
}

/** How a Python kernel on the head reaches the cluster's Spark: the driver runs in the kernel's process (client mode). */
export interface NotebookSpark {
  sparkHome: string
  /** SPARK_CONF_DIR, HADOOP_CONF_DIR, ... */
  env: Record<string, string>
  /** spark-submit's arguments for the kernel's driver (--master, --deploy-mode, --conf k=v). */
  submitArgs: string[]
}

/** The driver in a kernel on the head: executors connect back to it at the head's private address. */
export function driverOnHead(address: string): string[] {
  return ['--conf', `spark.driver.host=${address}`, '--conf', `spark.driver.bindAddress=${address}`]
}

/** The first port JupyterLab tries on the head's private address (it takes the next free one after it). */
export const JUPYTER_PORT = 8888

/** PySpark's launcher splits PYSPARK_SUBMIT_ARGS with shlex; its last word names the shell it starts. */
export function pysparkSubmitArgs(spark: NotebookSpark): string {
  return shJoin([...spark.submitArgs, 'pyspark-shell'])
}

/** The environment of the server, which every kernel inherits: Jupyter's folders, PySpark and the cluster's Spark. */
export function serverEnvironment(l: NotebookLayout, jupyterRoot: string, spark: NotebookSpark): Record<string, string> {
  return {
    JUPYTER_PATH: `${jupyterRoot}/share/jupyter`,
    JUPYTER_CONFIG_PATH: `${jupyterRoot}/etc/jupyter`,
    JUPYTERLAB_DIR: `${jupyterRoot}/share/jupyter/lab`,
    JUPYTER_RUNTIME_DIR: l.runtimeDir,
    JUPYTER_DATA_DIR: `${l.serverDir}/data`,
    JUPYTER_CONFIG_DIR: `${l.serverDir}/config`,
    IPYTHONDIR: `${l.serverDir}/ipython`,
    SPARK_HOME: spark.sparkHome,
    ...spark.env,
    PYSPARK_PYTHON: 'python3',
    PYSPARK_DRIVER_PYTHON: 'python3',
    PYSPARK_SUBMIT_ARGS: pysparkSubmitArgs(spark),
  }
}

/**
 * The JupyterLab command: on the head's private address only (the tunnel reaches it), Jupyter's own random token,
 * the notebooks folder as its root. `--allow-root` because an ssh host's login user may be root.
 */
export function serverCommand(l: NotebookLayout, address: string): string[] {
  return [
    'python3', '-m', 'jupyterlab',
    '--no-browser', '--allow-root',
    `--ip=${address}`,
    `--port=${JUPYTER_PORT}`,
    `--ServerApp.root_dir=${l.notebooksDir}`,
  ]
}

/** What serverInfoScript prints when no server runs. */
export const NOT_RUNNING = 'not-running'

/**
 * Prints Jupyter's runtime record (jpserver-PID.json: url, port, token) of the server that runs, nothing while it
 * starts (or when the recorded pid is some other live process), or NOT_RUNNING.
 */
export function serverInfoScript(l: NotebookLayout): string {
  return [
    OWN_PROCESS_FUNCTION,
    `pid=$(cat ${shq(l.pidFile)} 2>/dev/null) && kill -0 "$pid" 2>/dev/null || { echo ${NOT_RUNNING}; exit 0; }`,
    // Just started, setsid and nohup may not have exec'd python3 yet: nothing to print while it starts.
    `ours "$pid" python3 ${shq(l.notebooksDir)} || exit 0`,
    `f=${shq(l.runtimeDir)}/jpserver-$pid.json`,
    '[ -f "$f" ] && cat "$f"',
    'exit 0',
  ].join('\n')
}

/**
 * Starts the server unless it runs (prints `running` or `started`). PySpark comes from the cluster's Spark
 * runtime (its python folder and py4j zip), JupyterLab from the shipped archive.
 */
export function startServerScript(l: NotebookLayout, jupyterRoot: string, address: string, spark: NotebookSpark): string {
  const env = serverEnvironment(l, jupyterRoot, spark)
  return [
    'set -e',
    OWN_PROCESS_FUNCTION,
    `if pid=$(cat ${shq(l.pidFile)} 2>/dev/null) && ours "$pid" python3 ${shq(l.notebooksDir)}; then echo running; exit 0; fi`,
    `rm -rf ${shq(l.runtimeDir)}`,
    `mkdir -p ${[l.serverDir, l.runtimeDir, l.notebooksDir].map(shq).join(' ')}`,
    `chmod 700 ${shq(l.serverDir)}`,
    `py4j=$(ls ${shq(spark.sparkHome)}/python/lib/py4j-*-src.zip 2>/dev/null | head -n 1)`,
    `[ -n "$py4j" ] || { echo "no py4j zip under ${spark.sparkHome}/python/lib: the cluster's Spark runtime has no Python side" >&2; exit 3; }`,
    ...Object.entries(env).map(([k, v]) => `export ${k}=${shq(v)}`),
    `export PYTHONPATH=${shq(jupyterRoot)}:${shq(`${spark.sparkHome}/python`)}:"$py4j"`,
    `cd ${shq(l.notebooksDir)}`,
    `setsid nohup ${shJoin(serverCommand(l, address))} > ${shq(l.logFile)} 2>&1 < /dev/null &`,
    `echo $! > ${shq(l.pidFile)}`,
    'echo started',
  ].join('\n')
}

/**
 * Stops the server (SIGTERM: Jupyter shuts its kernels down, and each kernel's Spark driver goes with it), then any
 * kernel left (their connection files are in the runtime folder), and removes the server's files; the notebooks
 * stay. Prints `stopped` or `not running`.
 */
export function stopServerScript(l: NotebookLayout): string {
  const kernels = selfSafePattern(l.runtimeDir)
  return [
    OWN_PROCESS_FUNCTION,
    'state="not running"',
    `if pid=$(cat ${shq(l.pidFile)} 2>/dev/null) && ours "$pid" python3 ${shq(l.notebooksDir)}; then`,
    '  kill -TERM "$pid" 2>/dev/null || true',
    '  for _ in $(seq 1 30); do ours "$pid" python3 || break; sleep 0.5; done',
    '  kill -KILL "$pid" 2>/dev/null || true',
    '  state=stopped',
    'fi',
    `pkill -TERM -f -- ${kernels} 2>/dev/null || true`,
    `for _ in $(seq 1 20); do pgrep -f -- ${kernels} >/dev/null || break; sleep 0.5; done`,
    `pkill -KILL -f -- ${kernels} 2>/dev/null || true`,
    `rm -rf ${shq(l.serverDir)}`,
    'echo "$state"',
  ].join('\n')
}

/**
 * For an engine's cleanup (kill, remove on hosts cms does not own): ends the cluster's notebook server and kernels,
 * whose command lines name its notebooks or notebook-server folder.
 */
export function killNotebookScript(clusterDir: string): string {
  return `pkill -KILL -f -- ${selfSafePattern(`${clusterDir}/notebook`)} 2>/dev/null || true`
}

/** The last lines of the server's log, for an error message. */
export function serverLogScript(l: NotebookLayout): string {
  return `tail -n 20 ${shq(l.logFile)} 2>/dev/null || true`
}
