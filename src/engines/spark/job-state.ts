import {TERMINAL, type JobState} from '../../jobs/states.js'

export {TERMINAL, type JobState}

export interface AttemptRecord {
  n: number
  submittedAt: string
  mode: 'cluster' | 'client'
  submissionId?: string
  exitCode?: number
  by?: string
}

export interface AttemptView extends AttemptRecord {
  state: JobState
  /** Spark's own word for it: the REST driverState (cluster mode). */
  driverState?: string
  workerHostPort?: string
}

/** Spark's driver states (DriverState) mapped to cms job states. */
export function stateOfDriver(driverState: string | undefined): JobState {
  switch (driverState) {
    case 'SUBMITTED':
      return 'SUBMITTED'
    case 'RUNNING':
    case 'RELAUNCHING':
      return 'RUNNING'
    case 'FINISHED':
      return 'SUCCEEDED'
    case 'FAILED':
    case 'ERROR':
      return 'FAILED'
    case 'KILLED':
      return 'KILLED'
    default:
      return 'UNKNOWN'
  }
}

/** A client-mode attempt: its exit code once it has one, else whether its runner still runs. */
export function stateOfClientAttempt(a: AttemptRecord, runnerAlive: boolean, killed: boolean): JobState {
  if (a.exitCode !== undefined) return a.exitCode === 0 ? 'SUCCEEDED' : killed ? 'KILLED' : 'FAILED'
  if (killed) return 'KILLED'
  return runnerAlive ? 'RUNNING' : 'FAILED'
}

/**
 * The job's state is its latest attempt's, except that a failed attempt with retries left, while the runner
 * that retries still runs, means the job is still going.
 */
export function jobState(attempts: AttemptView[], maxAttempts: number, runnerAlive: boolean, killed: boolean): JobState {
  const last = attempts.at(-1)
  if (!last) return killed ? 'KILLED' : runnerAlive ? 'SUBMITTED' : 'UNKNOWN'
  if (killed && !TERMINAL.has(last.state)) return 'KILLED'
  if (last.state === 'FAILED' && !killed && runnerAlive && attempts.length < maxAttempts) return 'RUNNING'
  return last.state
}
