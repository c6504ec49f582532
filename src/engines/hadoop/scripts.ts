import {createHash} from 'node:crypto'
import {shq} from '../../remote/shell.js'
import {OWN_PROCESS_FUNCTION, releaseCmsHomeScript, selfSafePattern} from '../host-scripts.js'
import {SHORT_LIVED_JVM_OPTS} from '../short-lived-jvm.js'
import {killNotebookScript} from '../../notebook/server-scripts.js'
import {DAEMON_HEAP, pidFile, type HadoopDaemon, type HadoopLayout} from './layout.js'
import {excludeFiles, type HadoopConfFiles} from './site-config.js'

/**
 * Pure builders of the scripts that run Hadoop's daemons on a host. Each daemon runs in its own session under nohup
 * with a pid file (no service manager to rely on: containers, minimal hosts), started by the runtime's
 * bin/hadoop-daemon, which execs the daemon's JVM in the foreground.
 */

/**
 * Writes HADOOP_CONF_DIR (and, on the head, Spark's configuration for YARN). The decommission exclude files are
 * created empty when missing and otherwise left alone: they hold the hosts being removed.
 */
export function writeConfigScript(l: HadoopLayout, files: HadoopConfFiles): string {
  const ex = excludeFiles(l.confDir)
  return ['set -e', `mkdir -p ${[l.confDir, l.logDir, l.runDir, l.dataDir].map(shq).join(' ')}`, ...writeFiles(l.confDir, files), `touch ${shq(ex.hdfs)} ${shq(ex.yarn)}`].join('\n')
}

/** The head's Spark-on-YARN configuration (written once Spark is unpacked there). */
export function writeSparkConfigScript(l: HadoopLayout, files: HadoopConfFiles): string {
  return ['set -e', `mkdir -p ${shq(l.sparkConfDir)}`, ...writeFiles(l.sparkConfDir, files)].join('\n')
}

function writeFiles(dir: string, files: HadoopConfFiles): string[] {
  return Object.entries(files).map(([name, text]) => `printf '%s' ${shq(text)} > ${shq(`${dir}/${name}`)}`)
}

/** What a daemon was started with: a changed configuration restarts it (startDaemonScript). */
export function configHash(files: HadoopConfFiles): string {
  return createHash('sha256').update(Object.values(files).join('\n')).digest('hex').slice(0, 16)
}

/** A file of HADOOP_CONF_DIR (read by cms only) recording where the runtime is: remove finds it there. */
export function cmsEnv(hadoopHome: string): HadoopConfFiles {
  return {'cms-hadoop.env': `export HADOOP_HOME=${shq(hadoopHome)}\n`}
}

export function cmsEnvFile(l: HadoopLayout): string {
  return `${l.confDir}/cms-hadoop.env`
}

/** The environment of every Hadoop command cms runs on a host (daemons, dfsadmin, rmadmin). */
export function hadoopEnv(l: HadoopLayout): string {
  return `HADOOP_CONF_DIR=${shq(l.confDir)} HADOOP_LOG_DIR=${shq(l.logDir)}`
}

/** HADOOP_CDS_ARCHIVE for the runtime's launcher, when a class data archive was shipped (see class-data.ts). */
function classDataEnv(archive: string | undefined): string[] {
  return archive ? [`HADOOP_CDS_ARCHIVE=${shq(archive)}`] : []
}

/** hadoopEnv for a command that only administers the cluster and exits (format, dfsadmin, rmadmin, yarn logs). */
export function hadoopToolEnv(l: HadoopLayout): string {
  return `${hadoopEnv(l)} HADOOP_OPTS=${shq(SHORT_LIVED_JVM_OPTS)}`
}

/**
 * Formats the NameNode's storage once: a folder holding current/VERSION is never formatted again (that would lose
 * the file system). Prints `formatted` or `present`.
 */
export function formatScript(l: HadoopLayout, hadoopHome: string, clusterId: string, classData?: string): string {
  return [
    'set -e',
    `if [ -f ${shq(`${l.dirs.name}/current/VERSION`)} ]; then echo present; exit 0; fi`,
    `if ! env ${[hadoopToolEnv(l), ...classDataEnv(classData)].join(' ')} ${shq(`${hadoopHome}/bin/hadoop-daemon`)} format -clusterid ${shq(clusterId)} > ${shq(`${l.logDir}/format.log`)} 2>&1; then`,
    `  tail -n 20 ${shq(`${l.logDir}/format.log`)} >&2; exit 5`,
    'fi',
    'echo formatted',
  ].join('\n')
}

/** The shell test that PID is this cluster's DAEMON (a java started by the launcher for it); needs `ours` and $ld, the log dir. */
function isDaemon(pid: string, daemon: HadoopDaemon): string {
  return `{ ours ${pid} java -Dproc_${daemon} && ours ${pid} java "-Dhadoop.log.dir=$ld"; }`
}

/** The log dir in $ld, assembled at run time so the script's own command line never holds the path (see cleanupScript). */
function logDirVar(l: HadoopLayout): string {
  return `ld="$(dirname ${shq(l.runDir)})/logs"`
}

function stopDaemonLines(l: HadoopLayout, daemon: HadoopDaemon): string[] {
  const pidf = shq(pidFile(l, daemon))
  return [
    `p=$(cat ${pidf} 2>/dev/null || true)`,
    `if [ -n "$p" ] && ${isDaemon('"$p"', daemon)}; then kill -TERM "$p"; for _ in $(seq 1 60); do ${isDaemon('"$p"', daemon)} || break; sleep 0.5; done; ${isDaemon('"$p"', daemon)} && kill -9 "$p" 2>/dev/null || true; fi`,
    `rm -f ${pidf}`,
  ]
}

/**
 * Starts a daemon unless it already runs with the same configuration; a changed configuration restarts it.
 * `jvmOptions` go to HADOOP_OPTS; `classData` is a class data archive for its JVM. Prints `running`, `started` or
 * `restarted`.
 */
export function startDaemonScript(l: HadoopLayout, hadoopHome: string, daemon: HadoopDaemon, configHash: string, jvmOptions: string[] = [], classData?: string): string {
  const hashFile = shq(`${l.runDir}/${daemon}.config`)
  const log = shq(`${l.logDir}/${daemon}.log`)
  const env = [hadoopEnv(l), `HADOOP_HEAPSIZE_MAX=${DAEMON_HEAP[daemon]}`, ...(jvmOptions.length ? [`HADOOP_OPTS=${shq(jvmOptions.join(' '))}`] : []), ...classDataEnv(classData)]
  return [
    'set -e',
    OWN_PROCESS_FUNCTION,
    logDirVar(l),
    'state=started',
    `p=$(cat ${shq(pidFile(l, daemon))} 2>/dev/null || true)`,
    `if [ -n "$p" ] && ${isDaemon('"$p"', daemon)}; then`,
    `  if [ "$(cat ${hashFile} 2>/dev/null)" = ${shq(configHash)} ]; then echo running; exit 0; fi`,
    ...stopDaemonLines(l, daemon).map((s) => `  ${s}`),
    '  state=restarted',
    'fi',
    `cd ${shq(l.runDir)}`,
    `nohup setsid env ${env.join(' ')} ${shq(`${hadoopHome}/bin/hadoop-daemon`)} ${daemon} >> ${log} 2>&1 < /dev/null &`,
    `echo $! > ${shq(pidFile(l, daemon))}`,
    `printf '%s\\n' ${shq(configHash)} > ${hashFile}`,
    'sleep 1',
    `kill -0 "$(cat ${shq(pidFile(l, daemon))})" 2>/dev/null || { tail -n 20 ${log} >&2; exit 5; }`,
    'echo "$state"',
  ].join('\n')
}

export function stopDaemonScript(l: HadoopLayout, daemon: HadoopDaemon): string {
  return [OWN_PROCESS_FUNCTION, logDirVar(l), ...stopDaemonLines(l, daemon)].join('\n')
}

/**
 * Puts ADDRESSES in (or takes them out of) both exclude files on the head, then has the NameNode and the
 * ResourceManager re-read them; NodeManagers leave gracefully, given `graceSeconds` to finish their containers.
 * Prints `changed` or `unchanged`; the refresh runs only on a change.
 */
export function excludeScript(l: HadoopLayout, hadoopHome: string, addresses: string[], excluded: boolean, graceSeconds = 0, withYarn = true): string {
  return ['set -e', `r=$(${editExcludeCommand(l, addresses, excluded)})`, 'if [ "$r" = changed ]; then', ...refreshLines(l, hadoopHome, excluded ? graceSeconds : 0, withYarn).map((x) => `  ${x}`), 'fi', 'echo "$r"'].join('\n')
}

/** Has the running NameNode and ResourceManager re-read the exclude files. */
export function refreshNodesScript(l: HadoopLayout, hadoopHome: string): string {
  return ['set -e', ...refreshLines(l, hadoopHome, 0, true)].join('\n')
}

function refreshLines(l: HadoopLayout, hadoopHome: string, graceSeconds: number, withYarn: boolean): string[] {
  const bin = (tool: string) => `env ${hadoopToolEnv(l)} HADOOP_ROOT_LOGGER=WARN,console ${shq(`${hadoopHome}/bin/${tool}`)}`
  return [`${bin('hdfs')} dfsadmin -refreshNodes >&2`, ...(withYarn ? [`${bin('yarn')} rmadmin -refreshNodes${graceSeconds > 0 ? ` -g ${Math.round(graceSeconds)} -server` : ''} >&2`] : [])]
}

/**
 * Takes ADDRESSES out of both exclude files on the head without telling the daemons: for daemons about to start
 * (they read the files then). Prints `changed` or `unchanged`; on `changed`, running daemons need excludeScript.
 */
export function includeHostsScript(l: HadoopLayout, addresses: string[]): string {
  return editExcludeCommand(l, addresses, false)
}

function editExcludeCommand(l: HadoopLayout, addresses: string[], excluded: boolean): string {
  const ex = excludeFiles(l.confDir)
  const files = [ex.hdfs, ex.yarn].map(shq).join(' ')
  const py = `
import sys
excluded = sys.argv[1] == '1'
addresses = sys.argv[2].split(',')
changed = False
for path in sys.argv[3:]:
    try:
        lines = [x.strip() for x in open(path) if x.strip()]
    except FileNotFoundError:
        lines = []
    want = sorted(set(lines) | set(addresses)) if excluded else [x for x in lines if x not in addresses]
    if want != lines:
        changed = True
        with open(path + '.tmp', 'w') as f:
            f.write(''.join(x + '\\n' for x in want))
        import os
        os.replace(path + '.tmp', path)
print('changed' if changed else 'unchanged')
`
  return `python3 -c ${shq(py)} ${excluded ? '1' : '0'} ${shq(addresses.join(','))} ${files}`
}

/** The patterns that find this cluster's processes: daemons and containers all name the log dir; containers their work dir too. */
function clusterPids(): string {
  return `pgrep -f -- "$lp"; pgrep -f -- "$dp"`
}

/**
 * Stops every daemon and container of the cluster on this host, deletes its files and, once no cluster uses the
 * host, ~/.cms. The log and data paths are assembled at run time: this script's own command line must not hold
 * them, or the patterns below would find the script itself.
 */
export function cleanupScript(l: HadoopLayout, home: string): string {
  return [
    `c=${shq(l.clusterDir)}`,
    'if [ -d "$c" ]; then',
    ...stopEverythingLines(l).map((s) => `  ${s}`),
    `  ${killNotebookScript(l.clusterDir)}`,
    '  rm -rf "$c"',
    'fi',
    releaseCmsHomeScript(home),
    'exit 0',
  ].join('\n')
}

/** Stops every Hadoop daemon and container of the cluster on this host, files left (for an engine that runs HDFS beside it). */
export function stopEverythingScript(l: HadoopLayout): string {
  return stopEverythingLines(l).join('\n')
}

function stopEverythingLines(l: HadoopLayout): string[] {
  const daemons: HadoopDaemon[] = ['nodemanager', 'datanode', 'resourcemanager', 'namenode']
  return [
    OWN_PROCESS_FUNCTION,
    logDirVar(l),
    ...daemons.flatMap((d) => stopDaemonLines(l, d)),
    `lp=${selfSafePattern(l.logDir)}; dp=${selfSafePattern(l.dataDir)}`,
    `for p in $(${clusterPids()}); do kill -TERM "$p" 2>/dev/null || true; done`,
    `for _ in $(seq 1 20); do [ -z "$(${clusterPids()})" ] && break; sleep 0.5; done`,
    `for p in $(${clusterPids()}); do kill -9 "$p" 2>/dev/null || true; done`,
  ]
}

/** How many of the cluster's processes still run on this host. */
export function leftoverScript(l: HadoopLayout): string {
  return [`lp=${selfSafePattern(l.logDir)}; dp=${selfSafePattern(l.dataDir)}`, `(${clusterPids()}) | sort -u | wc -l`].join('\n')
}
