import type {JobView} from '../output/results.js'
import {UsageError} from '../remote/errors.js'
import {isConnectionFailure} from './failures.js'
import {mapLimit} from '../remote/fanout.js'
import type {ClusterLinks} from './clusters.js'
import {SERVICE_ACTOR} from './dispatcher.js'
import {retryDelayMs} from './queue/backoff.js'
import {underKill} from './queue/kill-intent.js'
import {afterFailure, taskStateOfJob} from './queue/states.js'
import {firstChoice, type TaskRow, type TaskStore} from './store/store.js'

/** For this long after a job was handed over, its start is looked for every STARTING_POLL_MS. */
const STARTING_MS = 30_000
const STARTING_POLL_MS = 500

export interface TrackerOptions {
  /** Engine status requests at once, per cluster. */
  perCluster: number
  backoff: {baseMs: number; capMs: number}
  /** A job whose state the engine cannot tell (UNKNOWN) this long after its last change counts as lost. */
  unknownAfterMs: number
  log: (line: string) => void
  random?: () => number
}

/**
 * Follows every active task through its engine's own API in one bounded loop (no thread or timer per task): each
 * step asks the engine for the state of each task's current job and records what changed. A job the engine no
 * longer has, or a cluster that is gone, counts as a failed attempt (retried per the task's retries).
 */
export class Tracker {
  /** When a requested kill was last sent again, per task (after a restart, the request's own time counts). */
  private readonly killSent = new Map<string, number>()

  constructor(
    private readonly store: TaskStore,
    private readonly links: ClusterLinks,
    private readonly opts: TrackerOptions,
    /** Called when a task finished or went back to the queue. */
    private readonly onChange: (cluster: string) => void,
  ) {}

  /** One round over the active tasks; returns how soon the next should be when a job was about to start. */
  async step(): Promise<number | undefined> {
    const active = (await this.store.active()).filter((t) => t.engine_job_id !== null)
    const ids = new Set(active.map((t) => t.id))
    for (const id of this.killSent.keys()) if (!ids.has(id)) this.killSent.delete(id)
    const byCluster = new Map<string, TaskRow[]>()
    for (const t of active) byCluster.set(t.cluster, [...(byCluster.get(t.cluster) ?? []), t])
    await Promise.all([...byCluster].map(([cluster, tasks]) => this.follow(cluster, tasks)))
    // A job that was just handed over usually starts within a second: its start is looked for sooner.
    const now = Date.now()
    return active.some((t) => t.state === 'SUBMITTED' && now - t.updated_at < STARTING_MS) ? STARTING_POLL_MS : undefined
  }

  private async follow(cluster: string, tasks: TaskRow[]): Promise<void> {
    if (!(await this.links.find(cluster))) {
      // No provider knows the cluster any more (killed): its jobs went with it.
      for (const t of tasks) await this.failAttempt(t, `attempt ${t.attempts} lost: cluster ${cluster} no longer exists`)
      return
    }
    const lost = (t: TaskRow) => this.failAttempt(t, `attempt ${t.attempts} lost: ${cluster} no longer has job ${t.engine_job_id}`)
    try {
      await this.links.withJobs(cluster, async (jobs) => {
        if (jobs.statusMany) {
          // One request for all of the cluster's jobs.
          let views: Map<string, JobView>
          try {
            views = await jobs.statusMany(tasks.map((t) => t.engine_job_id!))
          } catch (error) {
            if (isConnectionFailure(error)) throw error
            this.opts.log(`${cluster}: ${(error as Error).message.split('\n')[0]}`)
            return
          }
          for (const t of tasks) {
            const view = views.get(t.engine_job_id!)
            await (view ? this.apply(t, view) : lost(t))
          }
          return
        }
        await mapLimit(tasks, this.opts.perCluster, async (t) => {
          let view: JobView
          try {
            view = await jobs.status(t.engine_job_id!)
          } catch (error) {
            if (error instanceof UsageError) return lost(t)
            if (isConnectionFailure(error)) throw error
            // A command that failed on the head for one job: asked again on the next step.
            this.opts.log(`task ${t.id}: ${(error as Error).message.split('\n')[0]}`)
            return
          }
          await this.apply(t, view)
        })
      })
    } catch (error) {
      this.links.markDown(cluster, (error as Error).message.split('\n')[0]!)
    }
  }

  private async apply(t: TaskRow, view: JobView): Promise<void> {
    const state = taskStateOfJob(view.state)
    const now = Date.now()
    if (state === undefined && now - t.updated_at > this.opts.unknownAfterMs) {
      return this.failAttempt(t, `attempt ${t.attempts} lost: ${t.cluster} has not known the state of ${t.engine_job_id} for ${Math.round(this.opts.unknownAfterMs / 60_000)} min`)
    }
    if (t.kill_requested_by !== null) return this.applyUnderKill(t, state, view, now)
    if (state === 'RUNNING' && t.state === 'SUBMITTED') {
      await this.store.move(t.id, {from: ['SUBMITTED'], to: 'RUNNING', attempt: t.attempts, actor: SERVICE_ACTOR, detail: `attempt ${t.attempts}: ${t.engine_job_id} runs`, attemptPatch: {state: 'RUNNING', started_at: now}})
    } else if (state === 'SUCCEEDED') {
      await this.succeed(t, view, now)
    } else if (state === 'FAILED') {
      const exit = view.attempts[view.attempts.length - 1]?.exitCode
      await this.failAttempt(t, `attempt ${t.attempts}: ${t.engine_job_id} failed${exit !== undefined && exit !== null ? ` (exit ${exit})` : ''}`, exit)
    } else if (state === 'KILLED') {
      await this.endKilled(t, SERVICE_ACTOR, `attempt ${t.attempts}: ${t.engine_job_id} was killed on the engine`)
    }
  }

  /** A task whose kill was asked for: it ends KILLED in the asker's name once its job is gone, or as it ended first. */
  private async applyUnderKill(t: TaskRow, state: ReturnType<typeof taskStateOfJob>, view: JobView, now: number): Promise<void> {
    const sentAt = Math.max(t.kill_requested_at ?? 0, this.killSent.get(t.id) ?? 0)
    switch (underKill(state, sentAt, now)) {
      case 'succeeded':
        return this.succeed(t, view, now)
      case 'killed':
        return this.endKilled(t, t.kill_requested_by!, `attempt ${t.attempts}: killed ${t.engine_job_id} on ${t.cluster}`)
      case 'kill-again':
        return this.killAgain(t, now)
      case 'wait':
        return
    }
  }

  /** Tells the engine again to kill the job (the asking server crashed, or the engine did not answer then). */
  private killAgain(t: TaskRow, now: number): void {
    this.killSent.set(t.id, now)
    const jobId = t.engine_job_id!
    this.opts.log(`task ${t.id}: job ${jobId} on ${t.cluster} still runs after the kill ${t.kill_requested_by} asked for; telling the engine again`)
    // Not awaited: a kill waits for the job to end, and the other tasks are followed meanwhile.
    void this.links.withJobs(t.cluster, (jobs) => jobs.kill(jobId, {purge: false})).catch((error: Error) => this.opts.log(`task ${t.id}: killing ${jobId} on ${t.cluster}: ${error.message.split('\n')[0]}`))
  }

  private async succeed(t: TaskRow, view: JobView, now: number): Promise<void> {
    const exit = view.attempts[view.attempts.length - 1]?.exitCode
    const moved = await this.store.move(t.id, {
      from: ['SUBMITTED', 'RUNNING'],
      to: 'SUCCEEDED',
      attempt: t.attempts,
      actor: SERVICE_ACTOR,
      detail: `attempt ${t.attempts}: ${t.engine_job_id} succeeded`,
      patch: {finished_at: now},
      attemptPatch: {state: 'SUCCEEDED', finished_at: now, exit_code: exit ?? 0, ...(t.state === 'SUBMITTED' ? {started_at: now} : {})},
    })
    if (moved) this.onChange(t.cluster)
  }

  private async endKilled(t: TaskRow, actor: string, detail: string): Promise<void> {
    if (await this.store.endKilled(t, actor, detail)) this.onChange(t.cluster)
  }

  /** The current attempt failed: back to the queue after a backoff while retries remain, else DEAD. */
  private async failAttempt(t: TaskRow, why: string, exit?: number | null): Promise<void> {
    // A job that was to be killed is not run again, however it went.
    if (t.kill_requested_by !== null) return this.endKilled(t, t.kill_requested_by, `${why}; its kill had been asked for`)
    const now = Date.now()
    const next = afterFailure(t.runs, t.retries)
    const delay = retryDelayMs(t.runs, (this.opts.random ?? Math.random)(), this.opts.backoff)
    const moved = await this.store.move(t.id, {
      from: ['SUBMITTED', 'RUNNING'],
      to: ['FAILED', next],
      attempt: t.attempts,
      actor: SERVICE_ACTOR,
      detail: [why, next === 'QUEUED' ? `retry ${t.runs} of ${t.retries} in ${Math.round(delay / 1000)} s` : `no retries left after ${t.runs} run${t.runs === 1 ? '' : 's'}`],
      // Queued again under its first choice: a retry goes to the first healthy cluster of its list, like a new task.
      patch: next === 'QUEUED' ? {not_before: now + delay, engine_job_id: null, cluster: firstChoice(t)} : {finished_at: now},
      attemptPatch: {state: 'FAILED', finished_at: now, detail: why, ...(exit !== undefined && exit !== null ? {exit_code: exit} : {})},
    })
    if (moved) this.onChange(t.cluster)
  }
}
