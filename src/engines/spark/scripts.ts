import {shq} from '../../remote/shell.js'
import {releaseCmsHomeScript, selfSafePattern} from '../host-scripts.js'
import {killNotebookScript} from '../../notebook/server-scripts.js'
import {DAEMON_CLASS, pidFile, SPARK_PORTS, type SparkDaemon, type SparkLayout} from './layout.js'

/**
 * Pure builders of the shell scripts that run on hosts. Every value is quoted with shq; names and addresses
 * are validated before they get here, quoting is the second line of defence.
 */

export interface SparkConfig {
  cluster: string
  sparkHome: string
  privateAddress: string
  headAddress: string
  daemonMemory: string
  workerCores?: number
  workerMemory?: string
  /** The cluster's HDFS (spark --hdfs): paths without a scheme are there. */
  defaultFs?: string
}

export function sparkEnvFile(l: SparkLayout, c: SparkConfig): string {
  const lines: Array<[string, string]> = [
    ['SPARK_HOME', c.sparkHome],
    ['SPARK_CONF_DIR', l.confDir],
    ['SPARK_LOCAL_IP', c.privateAddress],
    ['SPARK_PUBLIC_DNS', c.privateAddress],
    ['SPARK_MASTER_HOST', c.headAddress],
    ['SPARK_MASTER_PORT', String(SPARK_PORTS.master)],
    ['SPARK_MASTER_WEBUI_PORT', String(SPARK_PORTS.masterUi)],
    ['SPARK_WORKER_WEBUI_PORT', String(SPARK_PORTS.workerUi)],
    ['SPARK_WORKER_DIR', l.workDir],
    ['SPARK_LOG_DIR', l.logDir],
    ['SPARK_PID_DIR', l.runDir],
    ['SPARK_IDENT_STRING', l.ident],
    ['SPARK_DAEMON_MEMORY', c.daemonMemory],
  ]
  if (c.workerCores) lines.push(['SPARK_WORKER_CORES', String(c.workerCores)])
  if (c.workerMemory) lines.push(['SPARK_WORKER_MEMORY', c.workerMemory])
  return `# written by cms for cluster ${c.cluster}\n` + lines.map(([k, v]) => `export ${k}=${shq(v)}`).join('\n') + '\n'
}

/**
 * The REST submission server binds to the master's host, the private address; it has no authentication, so
 * cms reaches it only through SSH tunnels.
 */
export function sparkDefaultsFile(c: SparkConfig): string {
  return [
    `spark.master.rest.enabled true`,
    `spark.master.rest.port ${SPARK_PORTS.rest}`,
    `spark.decommission.enabled true`,
    `spark.storage.decommission.enabled true`,
    `spark.storage.decommission.rddBlocks.enabled true`,
    `spark.storage.decommission.shuffleBlocks.enabled true`,
    `spark.worker.cleanup.enabled true`,
    `spark.master ${masterUrl(c.headAddress)}`,
    ...(c.defaultFs ? [`spark.hadoop.fs.defaultFS ${c.defaultFs}`] : []),
    '',
  ].join('\n')
}

export function masterUrl(headAddress: string): string {
  const host = headAddress.includes(':') ? `[${headAddress}]` : headAddress
  return `spark://${host}:${SPARK_PORTS.master}`
}

export function writeConfigScript(l: SparkLayout, env: string, defaults: string): string {
  return [
    'set -e',
    `mkdir -p ${[l.confDir, l.logDir, l.workDir, l.runDir].map(shq).join(' ')}`,
    `printf '%s' ${shq(env)} > ${shq(`${l.confDir}/spark-env.sh`)}`,
    `printf '%s' ${shq(defaults)} > ${shq(`${l.confDir}/spark-defaults.conf`)}`,
  ].join('\n')
}

/**
 * sbin/spark-daemon.sh is in every Spark layout (Apache's and PyPI's, which lacks start-master.sh and friends);
 * it writes the pid file and the log, and sources spark-env.sh from SPARK_CONF_DIR.
 */
function daemonCommand(sparkHome: string, action: 'start' | 'stop' | 'decommission', daemon: SparkDaemon, args: string[] = []): string {
  return [`${shq(`${sparkHome}/sbin/spark-daemon.sh`)}`, action, DAEMON_CLASS[daemon], '1', ...args.map(shq)].join(' ')
}

export function daemonArgs(daemon: SparkDaemon, headAddress: string): string[] {
  return daemon === 'master'
    ? ['--host', headAddress, '--port', String(SPARK_PORTS.master), '--webui-port', String(SPARK_PORTS.masterUi)]
    : ['--webui-port', String(SPARK_PORTS.workerUi), masterUrl(headAddress)]
}

/**
 * Starts a daemon unless it already runs with the same configuration; a changed configuration (another head,
 * other resources) restarts it. Prints `running`, `started` or `restarted`.
 */
export function startDaemonScript(l: SparkLayout, sparkHome: string, daemon: SparkDaemon, configHash: string, headAddress: string): string {
  const hashFile = `${l.runDir}/${daemon}.config`
  return [
    'set -e',
    `export SPARK_CONF_DIR=${shq(l.confDir)}`,
    `pidf=${shq(pidFile(l, daemon))}`,
    'state=started',
    'if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then',
    `  if [ "$(cat ${shq(hashFile)} 2>/dev/null)" = ${shq(configHash)} ]; then echo running; exit 0; fi`,
    `  ${daemonCommand(sparkHome, 'stop', daemon)} >/dev/null`,
    '  state=restarted',
    'fi',
    `${daemonCommand(sparkHome, 'start', daemon, daemonArgs(daemon, headAddress))} >/dev/null`,
    `printf '%s\\n' ${shq(configHash)} > ${shq(hashFile)}`,
    'echo "$state"',
  ].join('\n')
}

/**
 * Decommissions this host's worker (spark-daemon.sh decommission sends SIGPWR): the master stops scheduling onto
 * it and executors migrate their blocks. Once it runs no executors or drivers (its child processes), or after
 * `graceSeconds`, the worker is stopped.
 */
export function decommissionScript(l: SparkLayout, sparkHome: string, graceSeconds: number): string {
  return [
    `export SPARK_CONF_DIR=${shq(l.confDir)}`,
    `pidf=${shq(pidFile(l, 'worker'))}`,
    'if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then',
    '  pid=$(cat "$pidf")',
    `  ${daemonCommand(sparkHome, 'decommission', 'worker')} >/dev/null 2>&1 || true`,
    `  for _ in $(seq 1 ${Math.max(1, graceSeconds * 2)}); do pgrep -P "$pid" >/dev/null || break; sleep 0.5; done`,
    `  ${daemonCommand(sparkHome, 'stop', 'worker')} >/dev/null 2>&1 || true`,
    'fi',
  ].join('\n')
}

/**
 * Stops every process cms started for the cluster on this host and removes every file it installed; the dist
 * cache and ~/.cms go too once no other cluster uses them, so the host is as it was before.
 */
export function cleanupScript(l: SparkLayout, home: string): string {
  const daemons: SparkDaemon[] = ['worker', 'master']
  return [
    `c=${shq(l.clusterDir)}`,
    'if [ -d "$c" ]; then',
    // Job runners first (their own process groups), so no retry starts a driver while the daemons stop.
    '  for f in "$c"/jobs/*/runner.pid; do [ -f "$f" ] && kill -TERM -- "-$(cat "$f")" 2>/dev/null; done',
    `  ${killNotebookScript(l.clusterDir)}`,
    ...daemons.map((d) => `  [ -f ${shq(pidFile(l, d))} ] && kill "$(cat ${shq(pidFile(l, d))})" 2>/dev/null || true`),
    `  for _ in $(seq 1 20); do pgrep -f -- ${selfSafePattern(l.confDir)} >/dev/null || break; sleep 0.5; done`,
    `  pkill -9 -f -- ${selfSafePattern(l.confDir)} 2>/dev/null || true`,
    '  rm -rf "$c"',
    'fi',
    releaseCmsHomeScript(home),
    'exit 0',
  ].join('\n')
}

/** Number of processes (Spark daemons, their executors) that run from the cluster's configuration. */
export function processCheckScript(l: SparkLayout): string {
  return `pgrep -f -- ${selfSafePattern(l.confDir)} | wc -l`
}

export {SPARK_PORTS, selfSafePattern, shq}
