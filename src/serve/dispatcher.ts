import {UsageError} from '../remote/errors.js'
import {isConnectionFailure} from './failures.js'
import {mapLimit} from '../remote/fanout.js'
import {attachS3Access} from '../cluster/s3-credentials.js'
import type {S3Options} from '../jobs/s3.js'
import {isAttemptJob, loadAttemptJob} from './attempt-job.js'
import type {ClusterLinks} from './clusters.js'
import type {FileStore} from './files.js'
import {admit, type Admission, type Candidate, type ClusterLoad} from './queue/admission.js'
import {attemptJobName} from './task-input.js'
import {firstChoice, type Claimed, type ClaimContext, type TaskRow, type TaskStore} from './store/store.js'

export interface DispatcherOptions {
  /** This server's id: the owner of the leases it takes. */
  owner: string
  leaseMs: number
  /** Cap of active tasks per cluster (undefined: capacity alone decides). */
  maxRunning?: number
  /** Submissions in flight at once. */
  concurrency: number
  /** Queued tasks considered per step. */
  window: number
  /** S3 options of the service: a spec with s3a:// paths gets credentials from the server's environment or profile. */
  s3?: S3Options
  log: (line: string) => void
}

export const SERVICE_ACTOR = 'service'

/** Submissions that failed on the cluster (a command there, not the connection) before a task is given up. */
const MAX_SUBMIT_FAILURES = 5

/**
 * Moves queued tasks to clusters with room: each step claims (in one exclusive transaction, so two servers never
 * claim the same task or the same room) what `admit` picks, then submits the claims through the engines, recording
 * each engine job id. Also recovers submissions a crashed server left in flight.
 */
export class Dispatcher {
  /** Why each queued task in the last step's window waits. */
  readonly waits = new Map<string, string>()
  /** Per cluster, what the queued tasks waiting for its room need (the autoscaler grows clusters by it). */
  shortage: Admission['short'] = new Map()
  private inFlight = 0
  private readonly pending: Claimed[] = []

  constructor(
    private readonly store: TaskStore,
    private readonly links: ClusterLinks,
    private readonly files: FileStore,
    private readonly opts: DispatcherOptions,
    /** Called when a submission ended (a slot and room may be free). */
    private readonly onSettled: () => void,
    /** Called when a job was handed to its engine (its start can be looked for). */
    private readonly onSubmitted: () => void = () => undefined,
  ) {}

  loads(ctx: ClaimContext): Map<string, ClusterLoad> {
    const names = new Set<string>()
    for (const t of ctx.queued) for (const c of JSON.parse(t.clusters) as string[]) names.add(c)
    const loads = new Map<string, ClusterLoad>()
    for (const name of names) {
      const status = this.links.status(name)
      const mine = ctx.active.filter((a) => a.cluster === name)
      loads.set(name, {
        down: !status ? 'its engine has not been asked for its capacity yet' : status.down,
        capacity: status?.capacity,
        reserved: {cores: mine.reduce((s, a) => s + a.demand_cores, 0), memoryMb: mine.reduce((s, a) => s + a.demand_memory_mb, 0)},
        running: mine.length,
        maxRunning: this.opts.maxRunning,
      })
    }
    return loads
  }

  async step(): Promise<void> {
    await this.recover()
    const now = Date.now()
    let looked = false
    const claimed = await this.store.claim({
      now,
      owner: this.opts.owner,
      leaseMs: this.opts.leaseMs,
      limit: this.opts.window,
      actor: SERVICE_ACTOR,
      decide: (ctx) => {
        const candidates: Candidate[] = ctx.queued.map((t) => ({id: t.id, clusters: JSON.parse(t.clusters) as string[], demand: {cores: t.demand_cores, memoryMb: t.demand_memory_mb}}))
        const {picks, waits, short} = admit(candidates, this.loads(ctx))
        this.waits.clear()
        for (const [id, why] of waits) this.waits.set(id, why)
        this.shortage = short
        looked = true
        return picks.map((p) => ({
          ...p,
          engine: this.links.status(p.cluster)!.engine,
          engineName: (task: TaskRow, n: number) => (task.kind === 'spec' ? attemptJobName(task.name, task.id, n) : task.name),
        }))
      },
    })
    // Nothing queued (the decision was not asked for): nothing waits.
    if (!looked) {
      this.waits.clear()
      this.shortage = new Map()
    }
    this.pending.push(...claimed)
    this.drain()
  }

  /** Starts queued submissions up to the concurrency limit; each one's end starts the next. */
  private drain(): void {
    while (this.inFlight < this.opts.concurrency && this.pending.length > 0) {
      const c = this.pending.shift()!
      this.inFlight++
      void this.submit(c)
        .catch((error: Error) => this.opts.log(`task ${c.task.id}: ${error.message.split('\n')[0]}`))
        .finally(() => {
          this.inFlight--
          this.drain()
          this.onSettled()
        })
    }
  }

  /** Work still in this process's hands (a clean stop waits for it). */
  get busy(): number {
    return this.inFlight + this.pending.length
  }

  private async submit({task, attempt}: Claimed): Promise<void> {
    const refs = await this.store.files(task.id)
    // A native jobfile that ran before runs again through the engine's rerun (the same file applied again would run nothing).
    const lastRun = task.kind === 'jobfile' ? await this.store.lastEngineJob(task.id) : undefined
    let view
    try {
      view = await this.links.withJobs(attempt.cluster, async (jobs, engine) => {
        const {job, remove} = await loadAttemptJob(task, attempt, engine, this.files, refs)
        try {
          const prepared = jobs.prepare ? await jobs.prepare([job]) : [job]
          await attachS3Access(prepared, jobs, this.opts.s3 ?? {}, (line) => this.opts.log(`${task.id}: ${line}`))
          if (prepared.length !== 1) throw new UsageError(`the jobfile holds ${prepared.length} jobs; a task runs exactly one`)
          return lastRun ? await jobs.rerun(lastRun) : await jobs.submit(prepared[0]!)
        } finally {
          remove()
        }
      })
    } catch (error) {
      const message = (error as Error).message.split('\n')[0]!
      if (error instanceof UsageError) {
        await this.store.move(task.id, {
          from: ['SUBMITTED'],
          to: ['FAILED', 'DEAD'],
          attempt: attempt.n,
          actor: SERVICE_ACTOR,
          detail: [`attempt ${attempt.n}: refused by ${attempt.cluster}: ${message}`, 'a refused job is not retried'],
          patch: {finished_at: Date.now(), lease_owner: null, lease_until: null},
          attemptPatch: {state: 'REFUSED', detail: message, finished_at: Date.now()},
        })
        return
      }
      const connection = isConnectionFailure(error)
      if (connection) this.links.markDown(attempt.cluster, message)
      // The engine may have taken it before the failure: look for it by name before queueing it again.
      if (await this.adoptByName(task, attempt.n, attempt.engine_name, attempt.cluster).catch(() => false)) return
      // A command that ran on the cluster and failed may fail the same way every time: it is tried a few times.
      const failedBefore = connection ? 0 : await this.store.countAttempts(task.id, 'SUBMIT_FAILED')
      if (failedBefore + 1 >= MAX_SUBMIT_FAILURES) {
        await this.store.move(task.id, {
          from: ['SUBMITTED'],
          to: ['FAILED', 'DEAD'],
          attempt: attempt.n,
          actor: SERVICE_ACTOR,
          detail: [`attempt ${attempt.n}: submitting to ${attempt.cluster} failed: ${message}`, `submitting failed ${MAX_SUBMIT_FAILURES} times`],
          patch: {finished_at: Date.now(), lease_owner: null, lease_until: null},
          attemptPatch: {state: 'SUBMIT_FAILED', detail: message, finished_at: Date.now()},
        })
        return
      }
      await this.requeueUnsent(task, attempt.n, `attempt ${attempt.n} did not reach ${attempt.cluster} (${message}); queued again`, connection ? 'NOT_SUBMITTED' : 'SUBMIT_FAILED')
      return
    }
    const recorded = await this.store.recordSubmitted(task.id, attempt.n, view.id, SERVICE_ACTOR)
    if (!recorded) await this.links.withJobs(attempt.cluster, (jobs) => jobs.kill(view.id, {purge: false})).catch(() => undefined)
    else this.onSubmitted()
  }

  /** An attempt that never reached an engine goes back to the queue without using a retry. */
  private async requeueUnsent(task: TaskRow, n: number, why: string, state: 'NOT_SUBMITTED' | 'SUBMIT_FAILED' = 'NOT_SUBMITTED'): Promise<void> {
    await this.store.move(task.id, {
      from: ['SUBMITTED'],
      to: 'QUEUED',
      attempt: n,
      actor: SERVICE_ACTOR,
      detail: why,
      patch: {not_before: Date.now() + 2000, lease_owner: null, lease_until: null, engine_job_id: null, cluster: firstChoice(task)},
      attemptPatch: {state, detail: why, finished_at: Date.now()},
    })
  }

  /**
   * Finds a spec attempt's job on its engine by the name it was given; records it when it started there. One the
   * engine has a record of but never started (the submission stopped half-way: UNKNOWN) is killed, so that it can
   * never start later, and the attempt is queued again.
   */
  private async adoptByName(task: TaskRow, n: number, engineName: string, cluster: string): Promise<boolean> {
    if (task.kind !== 'spec') return false
    const found = await this.links.withJobs(cluster, async (jobs) => {
      const job = (await jobs.list()).jobs.find((j) => isAttemptJob(j, engineName))
      if (job?.state === 'UNKNOWN') {
        await jobs.kill(job.id, {purge: false})
        return undefined
      }
      return job
    })
    if (!found) return false
    await this.store.recordSubmitted(task.id, n, found.id, SERVICE_ACTOR)
    return true
  }

  /**
   * Submissions left in flight by a server that stopped (its lease ran out): found on the engine by name and
   * recorded, else queued again. A native jobfile is queued again: its engine knows it by its own id, so a second
   * submission of the same file runs nothing twice.
   */
  private async recover(): Promise<void> {
    const now = Date.now()
    await this.store.renewLeases(this.opts.owner, now + this.opts.leaseMs)
    const orphans = await this.store.takeOverExpired(this.opts.owner, now, this.opts.leaseMs)
    await mapLimit(orphans, 4, async (task) => {
      const attempt = await this.store.attempt(task.id, task.attempts)
      if (!attempt) return
      try {
        if (await this.adoptByName(task, attempt.n, attempt.engine_name, attempt.cluster)) {
          this.opts.log(`task ${task.id}: attempt ${attempt.n} was found on ${attempt.cluster} after a restart`)
          return
        }
      } catch (error) {
        // The cluster cannot be asked now: keep the lease and ask again on a later step.
        await this.store.renewLeases(this.opts.owner, now + this.opts.leaseMs)
        throw error
      }
      await this.requeueUnsent(task, attempt.n, `attempt ${attempt.n} was interrupted before ${attempt.cluster} took it (the server stopped); queued again`)
    })
  }
}
