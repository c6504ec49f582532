import {shJoin, shq} from '../../remote/shell.js'
import {SHORT_LIVED_JVM_OPTS} from '../short-lived-jvm.js'
import type {HadoopLayout} from './layout.js'
import {hadoopToolEnv} from './scripts.js'

/**
 * Scripts for jobs on YARN, run on the head. The job records themselves (jobs/<id>/job.json, attempt-<n>.json)
 * are written and read with Spark's helpers (../spark/job-scripts.ts).
 */

/** The line the submit script prints before spark-submit's own output: its exit code. */
export const SUBMIT_EXIT_PREFIX = 'cms-submit-exit='

/**
 * Runs spark-submit once in the job's folder with the cluster's Spark-on-YARN configuration (spark-env.sh sets
 * SPARK_CONF_DIR and HADOOP_CONF_DIR; spark-defaults.conf makes it return once YARN accepted the application).
 * Its output is kept in submit.log; the script prints `cms-submit-exit=CODE` then the last lines of the log.
 */
export function submitScript(opts: {jobDir: string; layout: HadoopLayout; sparkHome: string; argv: string[]}): string {
  return [
    `cd ${shq(opts.jobDir)} || exit 3`,
    `. ${shq(`${opts.layout.sparkConfDir}/spark-env.sh`)}`,
    `export SPARK_CONF_DIR=${shq(opts.layout.sparkConfDir)} HADOOP_CONF_DIR=${shq(opts.layout.confDir)}`,
    // In cluster mode this JVM only hands the application to YARN (the driver runs in the ApplicationMaster).
    `export SPARK_SUBMIT_OPTS=${shq(SHORT_LIVED_JVM_OPTS)} SPARK_LAUNCHER_OPTS=${shq(SHORT_LIVED_JVM_OPTS)}`,
    `${shJoin([`${opts.sparkHome}/bin/spark-submit`, ...opts.argv])} > submit.log 2>&1 < /dev/null`,
    `echo "${SUBMIT_EXIT_PREFIX}$?"`,
    'tail -n 40 submit.log',
  ].join('\n')
}

/** The exit code and the output after it, from submitScript's output. */
export function parseSubmitOutput(out: string): {code: number | undefined; log: string} {
  const at = out.indexOf(SUBMIT_EXIT_PREFIX)
  if (at === -1) return {code: undefined, log: out}
  const rest = out.slice(at + SUBMIT_EXIT_PREFIX.length)
  const nl = rest.indexOf('\n')
  const code = Number.parseInt(nl === -1 ? rest : rest.slice(0, nl), 10)
  return {code: Number.isNaN(code) ? undefined : code, log: nl === -1 ? '' : rest.slice(nl + 1)}
}

/**
 * The aggregated stdout and stderr of the application's latest ApplicationMaster container (`yarn logs -am -1`),
 * read from HDFS once the application ended, with the runtime's own `yarn` launcher and the cluster's
 * configuration. Prints `yarn logs`' output; on failure its messages (exit code kept).
 */
export function aggregatedLogsScript(opts: {layout: HadoopLayout; hadoopHome: string; applicationId: string}): string {
  const env = `${hadoopToolEnv(opts.layout)} HADOOP_ROOT_LOGGER=WARN,console`
  return `env ${env} ${shJoin([`${opts.hadoopHome}/bin/yarn`, 'logs', '-applicationId', opts.applicationId, '-am', '-1', '-log_files', 'stdout,stderr'])} 2>&1`
}

/** The NodeManager's folder of one container's logs on the host running it (yarn.nodemanager.log-dirs). */
export function containerLogDir(layout: HadoopLayout, applicationId: string, containerId: string): string {
  return `${layout.dirs.nmLog}/${applicationId}/${containerId}`
}

/** Prints the paths among `paths` that are not files on the host (staged files of a job that are gone). */
export function missingFilesScript(paths: string[]): string {
  if (paths.length === 0) return 'true'
  return `for f in ${paths.map(shq).join(' ')}; do [ -f "$f" ] || printf '%s\\n' "$f"; done`
}

/**
 * A MapReduce job's own HADOOP_CONF_DIR: the cluster's files, with `propertiesXml` (rendered `<property>` lines)
 * added to its mapred-site.xml, so every job the main class submits reads them.
 */
export function mapreduceConfScript(opts: {jobDir: string; layout: HadoopLayout; propertiesXml: string}): string {
  const conf = `${opts.jobDir}/conf`
  const py = `
import sys
path, extra = sys.argv[1], sys.argv[2]
text = open(path).read()
at = text.rindex('</configuration>')
open(path, 'w').write(text[:at] + extra + '\\n' + text[at:])
`
  return [
    'set -e',
    `mkdir -p ${shq(conf)}`,
    `find ${shq(opts.layout.confDir)} -maxdepth 1 -type f -exec cp -p -t ${shq(conf)} {} +`,
    `python3 -c ${shq(py)} ${shq(`${conf}/mapred-site.xml`)} ${shq(opts.propertiesXml)}`,
  ].join('\n')
}

/**
 * The runner of a MapReduce job (`hadoop jar` semantics): its main class runs once on the head as the client of
 * the jobs it submits, with the job's configuration; its output goes to attempt-1.log and its exit code to
 * attempt-1.exit. Retries are YARN's (ApplicationMaster attempts), not the runner's.
 */
export function mapreduceRunner(opts: {jobDir: string; layout: HadoopLayout; hadoopHome: string; app: string; mainClass: string; args: string[]; classpath: string[]; env: Record<string, string>}): string {
  return [
    '#!/usr/bin/env bash',
    'cd "$(dirname "$0")"',
    `export HADOOP_CONF_DIR=${shq(`${opts.jobDir}/conf`)} HADOOP_LOG_DIR=${shq(opts.layout.logDir)} HADOOP_ROOT_LOGGER=INFO,console`,
    ...(opts.classpath.length > 0 ? [`export HADOOP_CLASSPATH=${shq(opts.classpath.join(':'))}`] : []),
    ...Object.entries(opts.env).map(([k, v]) => `export ${k}=${shq(v)}`),
    '[ -f killed ] && exit 0',
    `${shJoin([`${opts.hadoopHome}/bin/hadoop`, 'jar', opts.app, opts.mainClass, ...opts.args])} > attempt-1.log 2>&1 < /dev/null`,
    'echo "$?" > attempt-1.exit',
    '',
  ].join('\n')
}
