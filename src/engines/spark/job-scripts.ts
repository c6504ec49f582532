import {shq, shJoin} from '../../remote/shell.js'
import {SHORT_LIVED_JVM_OPTS} from '../short-lived-jvm.js'

/**
 * Scripts that keep a job's records and runners on the head, so that `job list/status/logs/rerun` work from any
 * client: jobs/<id>/job.json (what was submitted), attempt-<n>.json (each try), attempt-<n>.log and .exit
 * (client-mode drivers), killed (a marker), runner.pid (the process that runs the attempts).
 */

export function jobsDir(clusterDir: string): string {
  return `${clusterDir}/jobs`
}

/** Prints every job record under `dir` as one JSON array, with whether its runner still runs. */
export function readJobsScript(dir: string, ids?: string[]): string {
  const py = `
import json, os, sys, glob
root = sys.argv[1]
wanted = set(sys.argv[2:])
out = []
for d in sorted(glob.glob(os.path.join(root, '*'))):
    jid = os.path.basename(d)
    if wanted and jid not in wanted: continue
    try:
        job = json.load(open(os.path.join(d, 'job.json')))
    except Exception:
        continue
    attempts = []
    for f in glob.glob(os.path.join(d, 'attempt-*.json')):
        try:
            a = json.load(open(f))
        except Exception:
            continue
        ex = f[:-5] + '.exit'
        if os.path.exists(ex):
            try: a['exitCode'] = int(open(ex).read().strip() or '-1')
            except ValueError: a['exitCode'] = -1
        attempts.append(a)
    attempts.sort(key=lambda a: a.get('n', 0))
    alive = False
    try:
        os.kill(int(open(os.path.join(d, 'runner.pid')).read().strip()), 0)
        alive = True
    except Exception:
        pass
    out.append({'job': job, 'attempts': attempts, 'killed': os.path.exists(os.path.join(d, 'killed')), 'runnerAlive': alive})
print(json.dumps(out))
`
  return `mkdir -p ${shq(dir)} && python3 -c ${shq(py)} ${shJoin([dir, ...(ids ?? [])])}`
}

/** Writes job.json and the runner script into a new job folder. */
export function prepareJobScript(jobDir: string, jobJson: string, runner?: {file: string; content: string}): string {
  const lines = ['set -e', `mkdir -p ${shq(jobDir)}`, `printf '%s' ${shq(jobJson)} > ${shq(`${jobDir}/job.json`)}`]
  if (runner) lines.push(`printf '%s' ${shq(runner.content)} > ${shq(`${jobDir}/${runner.file}`)}`)
  return lines.join('\n')
}

export function recordAttemptScript(jobDir: string, attempt: object & {n: number}): string {
  return `printf '%s' ${shq(JSON.stringify(attempt))} > ${shq(`${jobDir}/attempt-${attempt.n}.json`)}`
}

/**
 * Client-mode driver for Python apps (standalone cluster mode runs JVM apps only): runs spark-submit on the head
 * up to 1 + retries times, each attempt's output in attempt-<n>.log and its exit code in attempt-<n>.exit.
 */
export function pythonRunner(opts: {sparkHome: string; confDir: string; argv: string[]; env: Record<string, string>; attempts: number}): string {
  const exports = Object.entries(opts.env).map(([k, v]) => `export ${k}=${shq(v)}`)
  return [
    '#!/usr/bin/env bash',
    'cd "$(dirname "$0")"',
    `export SPARK_CONF_DIR=${shq(opts.confDir)}`,
    // Only the launcher: in client mode SparkSubmit's JVM is the driver's, and keeps the defaults.
    `export SPARK_LAUNCHER_OPTS=${shq(SHORT_LIVED_JVM_OPTS)}`,
    'export PYSPARK_PYTHON=${PYSPARK_PYTHON:-python3}',
    ...exports,
    `for n in $(seq 1 ${Math.floor(opts.attempts)}); do`,
    '  [ -f killed ] && break',
    `  printf '{"n":%d,"submittedAt":"%s","mode":"client"}' "$n" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "attempt-$n.json"`,
    `  ${shJoin([`${opts.sparkHome}/bin/spark-submit`, ...opts.argv])} > "attempt-$n.log" 2>&1 < /dev/null`,
    '  code=$?',
    '  echo "$code" > "attempt-$n.exit"',
    '  [ "$code" -eq 0 ] && break',
    'done',
    '',
  ].join('\n')
}

/**
 * Retries for cluster-mode (REST) jobs: polls the driver's state on the master's REST server (on the head's
 * private address, never leaving the host) and resubmits the stored request after a failure, up to `attempts`.
 */
export function restSupervisor(opts: {restUrl: string; attempts: number; pollSeconds: number; maxHours: number}): string {
  return `
import json, os, sys, time, urllib.request
os.chdir(os.path.dirname(os.path.abspath(__file__)))
REST = ${JSON.stringify(opts.restUrl)}
ATTEMPTS = ${Math.floor(opts.attempts)}
deadline = time.time() + ${opts.maxHours} * 3600
def call(method, path, body=None):
    req = urllib.request.Request(REST + path, method=method, data=None if body is None else json.dumps(body).encode(), headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
def latest():
    ns = [int(f[8:-5]) for f in os.listdir('.') if f.startswith('attempt-') and f.endswith('.json')]
    n = max(ns)
    return n, json.load(open('attempt-%d.json' % n))
while time.time() < deadline:
    time.sleep(${opts.pollSeconds})
    if os.path.exists('killed'):
        break
    n, attempt = latest()
    try:
        state = call('GET', '/v1/submissions/status/' + attempt['submissionId']).get('driverState')
    except Exception:
        continue
    if state in ('FINISHED', 'KILLED'):
        break
    if state in ('FAILED', 'ERROR'):
        if n >= ATTEMPTS:
            break
        request = json.load(open('request.json'))
        r = call('POST', '/v1/submissions/create', request)
        if not r.get('success'):
            break
        json.dump({'n': n + 1, 'submittedAt': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), 'submissionId': r['submissionId'], 'mode': 'cluster', 'by': 'head'}, open('attempt-%d.json' % (n + 1), 'w'))
`
}

/** Starts a job's runner detached from the SSH session, in its own process group so kill reaches all of it. */
export function startRunnerScript(jobDir: string, command: string): string {
  return [
    'set -e',
    `cd ${shq(jobDir)}`,
    `setsid nohup ${command} > runner.out 2>&1 < /dev/null &`,
    'echo $! > runner.pid',
  ].join('\n')
}

export function killRunnerScript(jobDir: string): string {
  return [
    `cd ${shq(jobDir)} || exit 0`,
    'touch killed',
    'if [ -f runner.pid ]; then pid=$(cat runner.pid); kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; fi',
    'for _ in $(seq 1 20); do [ -f runner.pid ] && kill -0 "$(cat runner.pid)" 2>/dev/null || break; sleep 0.5; done',
  ].join('\n')
}

/** The part of a log after `offset` bytes (empty if the file does not exist yet). */
export function readLogScript(path: string, offset: number): string {
  return `[ -f ${shq(path)} ] && tail -c +${Math.floor(offset) + 1} ${shq(path)} || true`
}
