import {TERMINAL, type JobState} from '../../jobs/states.js'
import type {JobAttemptView} from '../../output/results.js'

export {TERMINAL, type JobState}

/** An application as the ResourceManager reports it (GET /ws/v1/cluster/apps/{id}: `app`); the fields cms reads. */
export interface YarnApp {
  id: string
  name: string
  /** NEW, NEW_SAVING, SUBMITTED, ACCEPTED, RUNNING, FINISHED, FAILED, KILLED */
  state: string
  /** UNDEFINED, SUCCEEDED, FAILED, KILLED */
  finalStatus: string
  diagnostics?: string
  startedTime?: number
  finishedTime?: number
  elapsedTime?: number
  allocatedVCores?: number
  priority?: number
  applicationTags?: string
  /** http://HOST:PORT/node/containerlogs/CONTAINER/USER: the latest attempt's ApplicationMaster container. */
  amContainerLogs?: string
  /** HOST:PORT of the NodeManager web server running that container. */
  amHostHttpAddress?: string
}

/** One ApplicationMaster attempt (GET /ws/v1/cluster/apps/{id}/appattempts: `appAttempts.appAttempt[]`). */
export interface YarnAppAttempt {
  id: number
  startTime?: number
  finishedTime?: number
  containerId?: string
  nodeHttpAddress?: string
  nodeId?: string
  appAttemptId?: string
  /** NEW, SUBMITTED, SCHEDULED, ALLOCATED, LAUNCHED, RUNNING, FINISHING, FINISHED, FAILED, KILLED, *_SAVING */
  appAttemptState?: string
}

/** What cms records on the head for one application it submitted (attempt-<n>.json). */
export interface SubmissionRecord {
  n: number
  submittedAt: string
  mode: 'cluster'
  applicationId: string
}

/**
 * YARN's application state and final status as a cms job state. An application that ended says how in
 * finalStatus (a FINISHED application whose ApplicationMaster reported a failure is FAILED); one that ended
 * without saying (UNDEFINED: its ApplicationMaster never unregistered) did not succeed.
 */
export function stateOfApp(state: string | undefined, finalStatus: string | undefined): JobState {
  switch (state) {
    case 'NEW':
    case 'NEW_SAVING':
    case 'SUBMITTED':
    case 'ACCEPTED':
      return 'SUBMITTED'
    case 'RUNNING':
      return 'RUNNING'
    case 'FINISHED':
      return finalStatus === 'SUCCEEDED' ? 'SUCCEEDED' : finalStatus === 'KILLED' ? 'KILLED' : 'FAILED'
    case 'FAILED':
      return 'FAILED'
    case 'KILLED':
      return 'KILLED'
    default:
      return 'UNKNOWN'
  }
}

/**
 * The state of one ApplicationMaster attempt: the latest is the application's own; an earlier one ended, and
 * since another attempt followed it, it did not succeed (KILLED if YARN says so, e.g. preempted; else FAILED).
 */
export function stateOfAttempt(attempt: YarnAppAttempt, isLatest: boolean, app: YarnApp): JobState {
  if (isLatest) return stateOfApp(app.state, app.finalStatus)
  return attempt.appAttemptState === 'KILLED' ? 'KILLED' : 'FAILED'
}

const iso = (ms: number | undefined): string | undefined => (ms && ms > 0 ? new Date(ms).toISOString() : undefined)

/** The host part of HOST:PORT (brackets of an IPv6 address removed). */
export function hostOfAddress(hostPort: string | undefined): string | undefined {
  if (!hostPort) return undefined
  const bare = hostPort.replace(/:\d+$/, '')
  return bare.replace(/^\[|\]$/g, '') || undefined
}

/**
 * A job's attempts as cms reports them: one per ApplicationMaster attempt YARN made (retries are YARN's own),
 * oldest first. Before YARN made any (or when the ResourceManager no longer knows the application) the
 * submission itself stands for the one attempt.
 */
export function attemptViews(submission: SubmissionRecord, app: YarnApp | undefined, attempts: YarnAppAttempt[]): JobAttemptView[] {
  const base = {mode: 'cluster' as const, submissionId: submission.applicationId}
  if (!app) return [{...base, n: 1, submittedAt: submission.submittedAt, state: 'UNKNOWN'}]
  const sorted = [...attempts].sort((a, b) => a.id - b.id)
  if (sorted.length === 0) return [{...base, n: 1, submittedAt: submission.submittedAt, state: stateOfApp(app.state, app.finalStatus), clientStatus: app.state}]
  return sorted.map((a, i) => ({
    ...base,
    n: a.id,
    submittedAt: iso(a.startTime) ?? submission.submittedAt,
    state: stateOfAttempt(a, i === sorted.length - 1, app),
    clientStatus: a.appAttemptState,
    ...(a.appAttemptId ? {appAttemptId: a.appAttemptId} : {}),
    ...(a.containerId ? {containerId: a.containerId} : {}),
    ...(hostOfAddress(a.nodeHttpAddress ?? a.nodeId) ? {node: hostOfAddress(a.nodeHttpAddress ?? a.nodeId)} : {}),
  }))
}

/** Timing fields of a JobView, from the application report. */
export function appTimes(app: YarnApp | undefined): {startedAt?: string; endedAt?: string; durationMs?: number} {
  if (!app) return {}
  const out: {startedAt?: string; endedAt?: string; durationMs?: number} = {}
  const started = iso(app.startedTime)
  const ended = iso(app.finishedTime)
  if (started) out.startedAt = started
  if (ended) out.endedAt = ended
  if (app.elapsedTime !== undefined && app.elapsedTime >= 0) out.durationMs = app.elapsedTime
  return out
}

const APP_ID = /\bapplication_\d+_\d+\b/g
const CONTAINER_ID = /\bcontainer_(?:e\d+_)?\d+_\d+_\d+_\d+\b/

/**
 * The application id in spark-submit's output: the one it says it submitted (Client: "Submitted application
 * application_..."), else the first one it names; undefined when there is none.
 */
export function parseApplicationId(output: string): string | undefined {
  const submitted = /Submitted application (application_\d+_\d+)/.exec(output)
  if (submitted) return submitted[1]
  return output.match(APP_ID)?.[0]
}

export function isApplicationId(id: string): boolean {
  return /^application_\d+_\d+$/.test(id)
}

/**
 * Where the application's latest ApplicationMaster runs (or ran): its container and its NodeManager's host,
 * from the application report (amContainerLogs, amHostHttpAddress) or, failing that, the latest attempt.
 */
export function amContainer(app: YarnApp | undefined, attempts: YarnAppAttempt[]): {containerId: string; host: string} | undefined {
  const latest = [...attempts].sort((a, b) => a.id - b.id).at(-1)
  const containerId = CONTAINER_ID.exec(app?.amContainerLogs ?? '')?.[0] ?? latest?.containerId
  let host = hostOfAddress(app?.amHostHttpAddress)
  if (!host && app?.amContainerLogs) {
    try {
      host = hostOfAddress(new URL(app.amContainerLogs).host)
    } catch {
      host = undefined
    }
  }
  host ??= hostOfAddress(latest?.nodeHttpAddress ?? latest?.nodeId)
  return containerId && host ? {containerId, host} : undefined
}

/** One log file of one container, as `yarn logs` prints it. */
export interface ContainerLog {
  container: string
  file: string
  contents: string
}

/**
 * Splits the output of `yarn logs` into its files. Each file comes as a header (`Container: ID on NODE`,
 * `LogAggregationType:`, a rule, `LogType:NAME`, `LogLastModifiedTime:`, `LogLength:BYTES`, `LogContents:`), the
 * file's bytes, then `End of LogType:NAME` and a rule of stars. LogLength (bytes) bounds the contents, so a file
 * that itself holds such lines is cut in the right place; text that is no such section is skipped.
 */
export function splitYarnLogs(output: string): ContainerLog[] {
  const buf = Buffer.from(output, 'utf8')
  const text = buf.toString('latin1') // one char per byte: indexes below are byte offsets
  const out: ContainerLog[] = []
  const header = /^Container: (\S+) on \S+\n(?:LogAggregationType: \S+\n)?=+\nLogType:(.*)\n(?:LogLastModifiedTime:.*\n)?LogLength:(\d+)\nLogContents:\n/gm
  let m: RegExpExecArray | null
  while ((m = header.exec(text))) {
    const start = m.index + m[0].length
    const length = Number(m[3])
    let end = start + length
    const marker = `End of LogType:${m[2]}`
    // Trust the length only where the end marker follows it; otherwise (a file that grew while read) take the marker.
    if (!text.startsWith(marker, end + 1) && !text.startsWith(marker, end)) {
      const at = text.indexOf(`\n${marker}`, start)
      end = at === -1 ? Math.min(text.length, end) : at
    }
    out.push({container: m[1]!, file: m[2]!, contents: buf.subarray(start, end).toString('utf8')})
    header.lastIndex = Math.max(end, start)
  }
  return out
}

/** Whether the application's logs, once it ended, may not be aggregated yet (or never will be: the node is gone). */
export function logsPending(output: string): boolean {
  return /Log aggregation has not completed|not enabled|Can not find any log file|Can not find the logs/i.test(output)
}

/**
 * A MapReduce job's state (`hadoop jar` semantics: the job is its main class, a client on the head): its exit
 * code once it ended (a KILLED application makes a failed exit KILLED); while it runs, its latest application's
 * state, except that an application that ended while the client still works (reading results, submitting the
 * next job) is RUNNING.
 */
export function stateOfDriverProgram(app: YarnApp | undefined, exitCode: number | undefined, runnerAlive: boolean, killed: boolean): JobState {
  const appState = app ? stateOfApp(app.state, app.finalStatus) : 'UNKNOWN'
  if (exitCode !== undefined) return exitCode === 0 ? 'SUCCEEDED' : killed || appState === 'KILLED' ? 'KILLED' : 'FAILED'
  if (killed) return 'KILLED'
  if (runnerAlive) return TERMINAL.has(appState) ? 'RUNNING' : appState === 'UNKNOWN' ? 'SUBMITTED' : appState
  // The client is gone without an exit code (the head restarted): the application is all there is to go by.
  return appState
}

/**
 * The line of a client's output that says why it failed, for a one-line error: the first exception or error it
 * names (skipping stack frames), else its last line.
 */
export function failureLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at '))
  const why = lines.find((l) => /(Exception|Error)\b.*:|^Error:|ERROR /.test(l))
  return (why ?? lines.at(-1) ?? 'no output').replace(/^\S+ \S+ (ERROR|WARN|INFO) /, '')
}
