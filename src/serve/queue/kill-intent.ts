/**
 * A kill asked for through the API is recorded on the task before the engine is told (DELETE /task/{id}), so that
 * it outlives a crash of the server and an engine that did not answer. What the tracker then does with the task,
 * given what the engine reports of its job. Pure.
 */

/** A job still running this long after its kill was asked for (or last sent) is told again. */
export const KILL_AGAIN_MS = 30_000

export type UnderKill =
  /** The job ended by itself before the kill reached it: the task ends as the job did. */
  | 'succeeded'
  /** The job is gone (killed, failed, or lost with its cluster): the task ends KILLED, never retried. */
  | 'killed'
  /** The job still runs and the kill was sent KILL_AGAIN_MS ago or longer (a crash, an engine that did not answer). */
  | 'kill-again'
  /** The job still runs and a kill is under way. */
  | 'wait'

/**
 * `jobState`: the task state the engine's report of the job means (undefined: the engine cannot tell). `sentAt`: when
 * the kill was asked for or last sent again.
 */
export function underKill(jobState: 'SUBMITTED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'KILLED' | undefined, sentAt: number, now: number): UnderKill {
  if (jobState === 'SUCCEEDED') return 'succeeded'
  if (jobState === 'FAILED' || jobState === 'KILLED') return 'killed'
  return now - sentAt >= KILL_AGAIN_MS ? 'kill-again' : 'wait'
}
