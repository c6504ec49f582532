/**
 * A task's life: QUEUED -> SUBMITTED -> RUNNING -> SUCCEEDED | FAILED | KILLED. A failed attempt passes through
 * FAILED and goes back to QUEUED (after a backoff) while retries remain, else to DEAD. Pure.
 */
export const TASK_STATES = ['QUEUED', 'SUBMITTED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'KILLED', 'DEAD'] as const
export type TaskState = (typeof TASK_STATES)[number]

/** Where a task rests for good (until a rerun). */
export const FINISHED: ReadonlySet<TaskState> = new Set(['SUCCEEDED', 'KILLED', 'DEAD'])
/** A job of the task exists, or may exist, on an engine. */
export const ACTIVE: ReadonlySet<TaskState> = new Set(['SUBMITTED', 'RUNNING'])

const NEXT: Record<TaskState, readonly TaskState[]> = {
  QUEUED: ['SUBMITTED', 'KILLED'],
  SUBMITTED: ['RUNNING', 'SUCCEEDED', 'FAILED', 'KILLED', 'QUEUED'],
  RUNNING: ['SUCCEEDED', 'FAILED', 'KILLED'],
  FAILED: ['QUEUED', 'DEAD'],
  SUCCEEDED: ['QUEUED'],
  KILLED: ['QUEUED'],
  DEAD: ['QUEUED'],
}

export function canMove(from: TaskState, to: TaskState): boolean {
  return NEXT[from].includes(to)
}

export function isTaskState(s: string): s is TaskState {
  return (TASK_STATES as readonly string[]).includes(s)
}

/** What an engine's job state means for the task's current attempt. */
export function taskStateOfJob(jobState: string): 'SUBMITTED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'KILLED' | undefined {
  switch (jobState) {
    case 'SUBMITTED':
    case 'RUNNING':
    case 'SUCCEEDED':
    case 'FAILED':
    case 'KILLED':
      return jobState
    default:
      return undefined
  }
}

/**
 * After an attempt failed: back to the queue while runs on an engine remain (`retries` more than the first), else
 * dead. `runs` counts the attempts that reached an engine, this one included.
 */
export function afterFailure(runs: number, retries: number): 'QUEUED' | 'DEAD' {
  return runs <= retries ? 'QUEUED' : 'DEAD'
}
