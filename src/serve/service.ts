import {randomBytes} from 'node:crypto'
import {join} from 'node:path'
import type {RunOptions} from '../cluster/context.js'
import {loadEngine} from '../engines/registry.js'
import {UsageError} from '../remote/errors.js'
import {mapLimit} from '../remote/fanout.js'
import {loadAttemptJob} from './attempt-job.js'
import {ClusterLinks, type ClusterStatus} from './clusters.js'
import {Dispatcher, SERVICE_ACTOR} from './dispatcher.js'
import {ApiError, taskNotFound} from './errors.js'
import {FileStore} from './files.js'
import {Loop} from './loop.js'
import {ACTIVE, FINISHED} from './queue/states.js'
import {migrate} from './store/migrate.js'
import {openDb} from './store/db.js'
import {firstChoice, TaskStore, type FileRef, type NewTask, type TaskRow} from './store/store.js'
import {newTaskId, parseTask, taskDemand, type ParsedTask} from './task-input.js'
import {Autoscaler, clusterActions, type AutoscaleStatus, type ScaleActions} from './autoscale/autoscaler.js'
import type {S3Options} from '../jobs/s3.js'
import type {AutoscalePolicy} from './autoscale/policy.js'
import {Notifier} from './notify/notifier.js'
import {ClusterEventStore} from './store/cluster-event-store.js'
import {Schedules} from './schedules/schedules.js'
import type {SourceConfig} from './sources/config.js'
import {SourceSet} from './sources/source-set.js'
import type {SourceStatus} from './sources/source.js'
import {SourceStore} from './store/source-store.js'
import {Tracker} from './tracker.js'
import {eventView, taskView, type EventView, type TaskView} from './views.js'

export interface ServiceOptions {
  /** SQLite file or postgres:// URL. */
  db: string
  dataDir: string
  run: RunOptions
  /** Only these clusters (default: every cluster the providers know). */
  clusters?: string[]
  /** The cluster of a classic-form task that names none. */
  defaultCluster?: string
  maxRunningPerCluster?: number
  /** Finished tasks are kept this long (ms), then purged with their events and files. */
  retainMs: number
  log: (line: string) => void
  /** Loop periods (ms); tests shorten them. */
  intervals?: Partial<{dispatch: number; track: number; monitor: number; retention: number; schedule: number; notify: number; autoscale: number; sources: number}>
  backoff?: {baseMs: number; capMs: number}
  leaseMs?: number
  /** The secret webhook calls are signed with; without it, tasks may not name a webhook. */
  webhookSecret?: string
  /** Job sources of the --sources file, each polled by a loop of its own (with those made through the API). */
  sources?: SourceConfig[]
  /** Clusters that grow and shrink with the queue (--autoscale). */
  autoscale?: AutoscalePolicy[]
  /** How the autoscaler changes a cluster (tests give their own). */
  scaleActions?: ScaleActions
  /** S3 for tasks whose specs name s3a:// paths: the credentials are resolved at each submission (never stored). */
  s3?: S3Options
}

/** Clusters with queued or active tasks are asked for their capacity this often (ms) at most. */
const STATUS_MAX_AGE_MS = 2000

/**
 * The job service's use-cases and loops, below any HTTP: admission (validate, store, wake the dispatcher), the
 * dispatcher, the tracker, the capacity monitor and retention. Routes and commands only call these methods.
 */
export class TaskService {
  readonly owner = `${process.pid}-${randomBytes(4).toString('hex')}`
  readonly loops: Loop[]
  readonly schedules: Schedules
  readonly autoscaler?: Autoscaler
  readonly clusterEvents: ClusterEventStore
  /** The job sources: the --sources file's and those made through /mgmt/sources. */
  readonly sourceSet: SourceSet
  readonly sourceStore: SourceStore
  private readonly dispatcher: Dispatcher
  private readonly dispatchLoop: Loop
  private readonly scheduleLoop: Loop

  private constructor(
    readonly store: TaskStore,
    readonly links: ClusterLinks,
    readonly files: FileStore,
    private readonly opts: ServiceOptions,
  ) {
    const iv = {dispatch: 1000, track: 2000, monitor: 1000, retention: 3_600_000, schedule: 5000, notify: 1000, autoscale: 5000, sources: 5000, ...opts.intervals}
    const leaseMs = opts.leaseMs ?? 15_000
    const wake = () => this.dispatchLoop?.poke()
    const lookForStarts = () => trackLoop.poke()
    this.dispatcher = new Dispatcher(store, links, files, {owner: this.owner, leaseMs, maxRunning: opts.maxRunningPerCluster, concurrency: 16, window: 500, s3: opts.s3, log: opts.log}, wake, lookForStarts)
    const tracker = new Tracker(store, links, {perCluster: 8, backoff: opts.backoff ?? {baseMs: 5000, capMs: 300_000}, unknownAfterMs: 600_000, log: opts.log}, (cluster) => {
      void this.links.refresh(cluster).finally(wake)
    })
    this.dispatchLoop = new Loop('dispatcher', iv.dispatch, () => this.dispatcher.step(), opts.log)
    const trackLoop = new Loop('tracker', iv.track, () => tracker.step(), opts.log)
    this.schedules = new Schedules(this, opts.log)
    this.scheduleLoop = new Loop('scheduler', iv.schedule, () => this.schedules.step(), opts.log)
    const notifier = opts.webhookSecret ? new Notifier(store.db, {secret: opts.webhookSecret, taskJson: (id) => this.task(id), log: opts.log}) : undefined
    this.clusterEvents = new ClusterEventStore(store.db)
    if (opts.autoscale && opts.autoscale.length > 0) {
      this.autoscaler = new Autoscaler(opts.autoscale, {
        links,
        store,
        events: this.clusterEvents,
        shortage: () => this.dispatcher.shortage,
        owner: this.owner,
        actions: opts.scaleActions ?? clusterActions(opts.run, opts.log),
        changed: (cluster) => void this.links.refresh(cluster).finally(wake),
        log: opts.log,
      })
    }
    const autoscaler = this.autoscaler
    this.sourceStore = new SourceStore(store.db)
    this.sourceSet = new SourceSet(opts.sources ?? [], this, opts.log, iv.sources)
    this.loops = [
      this.dispatchLoop,
      trackLoop,
      this.scheduleLoop,
      ...(notifier ? [new Loop('notifier', iv.notify, () => notifier.step(), opts.log)] : []),
      ...(autoscaler ? [new Loop('autoscaler', iv.autoscale, () => autoscaler.step(), opts.log)] : []),
      new Loop('monitor', iv.monitor, () => this.monitor().then(() => wake()), opts.log),
      new Loop('retention', iv.retention, () => this.purge(), opts.log),
    ]
  }

  static async open(opts: ServiceOptions): Promise<TaskService> {
    const db = await openDb(opts.db)
    try {
      await migrate(db)
    } catch (error) {
      await db.close()
      throw error
    }
    const links = new ClusterLinks(opts.run, opts.clusters ? new Set(opts.clusters) : undefined)
    return new TaskService(new TaskStore(db), links, new FileStore(opts.dataDir), opts)
  }

  start(): void {
    this.sourceSet.start()
    for (const loop of this.loops) loop.start()
  }

  async stop(): Promise<void> {
    await Promise.all([this.sourceSet.stop(), ...this.loops.map((l) => l.stop())])
    await this.autoscaler?.settle()
    for (let i = 0; this.dispatcher.busy > 0 && i < 300; i++) await new Promise((r) => setTimeout(r, 100))
    this.links.closeAll()
    await this.store.db.close()
  }

  /** Asks the engine of every cluster with queued or active tasks for its health and capacity, when last asked > 2 s ago. */
  private async monitor(): Promise<void> {
    const rows = await this.store.db.all<{clusters: string; cluster: string}>("SELECT DISTINCT clusters, cluster FROM tasks WHERE state IN ('QUEUED', 'SUBMITTED', 'RUNNING')")
    const names = new Set<string>()
    for (const r of rows) {
      names.add(r.cluster)
      for (const c of JSON.parse(r.clusters) as string[]) names.add(c)
    }
    const now = Date.now()
    const due = [...names].filter((n) => {
      const s = this.links.status(n)
      return !s || now - s.checkedAt > (s.down ? 5000 : STATUS_MAX_AGE_MS)
    })
    await mapLimit(due, 8, async (n) => {
      if (await this.links.find(n)) await this.links.refresh(n)
    })
  }

  private async purge(): Promise<void> {
    for (let round = 0; round < 100; round++) {
      const {tasks, orphans} = await this.store.purge(Date.now() - this.opts.retainMs)
      for (const sha of orphans) this.files.remove(sha)
      if (tasks > 0) this.opts.log(`retention: purged ${tasks} finished task(s)`)
      if (tasks < 1000) break
    }
    await this.clusterEvents.purge(Date.now() - this.opts.retainMs)
  }

  // ---- admission ------------------------------------------------------------------------------------------------

  /**
   * Validates every task first (one bad task: nothing is queued), then stores them in one transaction. A task whose
   * id exists already comes back as it is (`created: false`), never twice.
   */
  async submit(raws: ReadonlyArray<{raw: unknown; uploads?: ReadonlyMap<string, FileRef>}>, actor: string, batch: boolean): Promise<Array<{task: TaskRow; created: boolean}>> {
    const stored = await this.store.insertTasks(await this.prepare(raws, batch), actor)
    if (stored.some((s) => s.created)) this.dispatchLoop.poke()
    return stored
  }

  /** Wakes the dispatcher: tasks were queued by another path (a schedule, a source). */
  queued(): void {
    this.dispatchLoop.poke()
  }

  /** Each job source: where it is configured, what it reads, how it went last, how much it queued and refused. */
  sources(): SourceStatus[] {
    return this.sourceSet.statuses()
  }

  /** Wakes the scheduler: a schedule was made or changed (its first run may come before the next step). */
  schedulesChanged(): void {
    this.scheduleLoop.poke()
  }

  /** Validates tasks as POST /task does (every one; one bad task refuses them all) and makes their rows. */
  async prepare(raws: ReadonlyArray<{raw: unknown; uploads?: ReadonlyMap<string, FileRef>}>, batch: boolean): Promise<NewTask[]> {
    if (raws.length === 0) throw new UsageError('tasks: expected at least one task')
    if (raws.length > 1000) throw new UsageError(`tasks: at most 1000 tasks per request (got ${raws.length})`)
    const errors: string[] = []
    const parsed: Array<{p: ParsedTask; where: string}> = []
    raws.forEach((r, i) => {
      const where = batch ? `tasks[${i}]` : ''
      try {
        parsed.push({p: parseTask(r.raw, {uploads: r.uploads, defaultCluster: this.opts.defaultCluster, where}), where})
      } catch (error) {
        if (!(error instanceof UsageError)) throw error
        errors.push(error.message)
      }
    })
    if (errors.length > 0) throw new UsageError(errors.slice(0, 5).join('; ') + (errors.length > 5 ? `; and ${errors.length - 5} more` : ''))
    const seen = new Set<string>()
    const tasks: NewTask[] = []
    for (const {p, where} of parsed) {
      const at = (f: string) => [where, f].filter(Boolean).join('.')
      if (p.id !== undefined) {
        if (seen.has(p.id)) throw new UsageError(`${at('id')}: ${p.id} appears twice in this request`)
        seen.add(p.id)
      }
      const engines = new Set<string>()
      for (const name of p.clusters) {
        const c = await this.links.find(name)
        if (!c) throw new UsageError(`${at('cluster')}: ${name} is not a cluster this service knows (see GET /mgmt/clusters)`)
        engines.add(c.engine)
      }
      const engine = [...engines][0]!
      if (p.kind === 'jobfile' && engines.size > 1) throw new UsageError(`${at('cluster')}: a native jobfile runs on one engine, but these clusters run ${[...engines].join(' and ')}`)
      if (p.notify && !this.opts.webhookSecret) throw new UsageError(`${at('notify')}: this server has no secret to sign webhooks with (start cms serve with --webhook-secret-file)`)
      const note = p.kind === 'jobfile' ? await this.checkJobfile(p, at('jobfile')) : undefined
      tasks.push({
        id: p.id ?? newTaskId(),
        name: p.name,
        kind: p.kind,
        body: JSON.stringify(p.kind === 'spec' ? p.spec : p.jobfile),
        clusters: p.clusters,
        engine,
        priority: p.priority,
        retries: p.retries,
        demand: taskDemand(p, engine),
        files: p.files,
        note,
        notify: p.notify ? JSON.stringify(p.notify) : undefined,
      })
    }
    return tasks
  }

  /**
   * A native jobfile is checked by its engine as `cms cluster submit` checks it (Nomad's parser, a Kubernetes dry
   * run); a refusal is bad input. A cluster that cannot be asked now does not refuse the task: it is checked again
   * when submitted, and the event says so.
   */
  private async checkJobfile(p: ParsedTask, at: string): Promise<string | undefined> {
    const cluster = p.clusters[0]!
    // The engine's local checks need no connection: its module, by the name the provider reports.
    const engine = await loadEngine((await this.links.find(cluster))!.engine)
    const probe = {id: 'admission', kind: 'jobfile' as const, body: JSON.stringify(p.jobfile)}
    const {job, remove} = await loadAttemptJob(probe, {n: 0, engine_name: p.name}, engine, this.files, []).catch((error: Error) => {
      throw error instanceof UsageError ? new UsageError(`${at}: ${error.message.replace(/^\S*\/admission-0-[0-9a-f]+\//, '')}`) : error
    })
    try {
      const prepared = await this.links.withJobs(cluster, async (jobs) => (jobs.prepare ? jobs.prepare([job]) : [job]))
      if (prepared.length !== 1) throw new UsageError(`${at}: holds ${prepared.length} jobs; a task runs exactly one (send one task per job)`)
      return undefined
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(`${at}: ${error.message.replace(/^\S*\/admission-0-[0-9a-f]+\//, '')}`)
      return `not checked by ${cluster}'s engine yet (${(error as Error).message.split('\n')[0]}): checked when submitted`
    } finally {
      remove()
    }
  }

  // ---- reading ---------------------------------------------------------------------------------------------------

  private async mustGet(id: string): Promise<TaskRow> {
    const task = await this.store.get(id)
    if (!task) throw taskNotFound(id)
    return task
  }

  async task(id: string): Promise<TaskView> {
    const detail = await this.store.detail(id)
    if (!detail) throw taskNotFound(id)
    const {task, attempts, files, position} = detail
    const queue = task.state === 'QUEUED' ? {position: position ?? 0, waitingFor: this.waitReason(task)} : undefined
    return taskView(task, {attempts, files, queue, body: true})
  }

  /** A queued task's place and what it waits for (no attempts or files read: the Tasks page asks this per row). */
  async queueOf(id: string): Promise<TaskView['queue']> {
    const task = await this.store.get(id)
    return task?.state === 'QUEUED' ? {position: await this.store.position(task), waitingFor: this.waitReason(task)} : undefined
  }

  private waitReason(task: TaskRow): string {
    if (task.not_before > Date.now()) return `retry backoff until ${new Date(task.not_before).toISOString()}`
    return this.dispatcher.waits.get(task.id) ?? 'its turn (tasks of higher priority, or older, come first)'
  }

  async events(id: string): Promise<EventView[]> {
    await this.mustGet(id)
    return (await this.store.events(id)).map(eventView)
  }

  async list(filter: Parameters<TaskStore['list']>[0]): Promise<{tasks: TaskView[]; nextCursor?: string}> {
    const rows = await this.store.list(filter)
    const next = rows.length === filter.limit ? String(rows[rows.length - 1]!.seq) : undefined
    return {tasks: rows.map((r) => taskView(r)), ...(next ? {nextCursor: next} : {})}
  }

  // ---- changes ---------------------------------------------------------------------------------------------------

  /**
   * Cancels a queued task, or kills a running one's job on its engine. The kill is recorded on the task first, so
   * that it is carried out even if this server stops or the engine does not answer now: the tracker then ends the
   * task KILLED in this key's name (never retried) and tells the engine again while the job runs.
   */
  async cancel(id: string, actor: string): Promise<TaskView> {
    for (let i = 0; i < 5; i++) {
      const task = await this.mustGet(id)
      if (FINISHED.has(task.state)) throw new ApiError(409, `task ${id} has already finished (${task.state})`)
      if (task.state === 'QUEUED' || (task.state === 'SUBMITTED' && !task.engine_job_id)) {
        // A submission in flight is killed on its engine when it returns (the dispatcher sees the task moved on).
        const ok = await this.store.move(id, {from: [task.state], to: 'KILLED', actor, detail: task.state === 'SUBMITTED' ? 'cancelled while being submitted' : 'cancelled', attempt: task.attempts, patch: {finished_at: Date.now(), lease_owner: null, lease_until: null}})
        if (ok) return this.task(id)
        continue
      }
      if (ACTIVE.has(task.state) && task.engine_job_id && (await this.store.requestKill(task, actor))) return this.killJob(task, actor)
    }
    throw new ApiError(409, `task ${id} kept changing state; try again`)
  }

  /** Tells the engine to kill the job of a task whose kill is recorded, and records the end (unless the tracker did). */
  private async killJob(task: TaskRow, actor: string): Promise<TaskView> {
    const jobId = task.engine_job_id!
    await this.links.withJobs(task.cluster, (jobs) => jobs.kill(jobId, {purge: false})).catch((error: Error) => {
      throw new ApiError(502, `could not kill job ${jobId} on ${task.cluster} now (${error.message.split('\n')[0]}); the kill is recorded and is sent again while the job runs`)
    })
    await this.store.endKilled(task, actor, `killed ${jobId} on ${task.cluster}`)
    // Not moved: the tracker saw the job end first and recorded it (KILLED in the asker's name, or how it ended).
    return this.task(task.id)
  }

  /** Deletes a finished task and its history (attempts, events, files no other task uses). */
  async deleteTask(id: string): Promise<{id: string; deleted: true}> {
    const task = await this.mustGet(id)
    if (!FINISHED.has(task.state)) throw new ApiError(409, `task ${id} is ${task.state}: kill it first (DELETE /task/${id}), then delete it`)
    const {deleted, orphans} = await this.store.deleteFinished(id)
    if (!deleted) throw new ApiError(409, `task ${id} changed state; try again`)
    for (const sha of orphans) this.files.remove(sha)
    return {id, deleted: true}
  }

  /** A finished task runs again (a fresh retry budget), keeping its history. */
  async rerun(id: string, actor: string): Promise<TaskView> {
    const task = await this.mustGet(id)
    if (!FINISHED.has(task.state)) throw new ApiError(409, `task ${id} is ${task.state}: only a finished task can be rerun (DELETE it first to stop it)`)
    const files = await this.store.files(id)
    const missing = files.find((f) => !this.files.has(f))
    if (missing) throw new ApiError(409, `task ${id}: its file ${missing.name} is no longer stored`)
    const ok = await this.store.move(id, {from: [task.state], to: 'QUEUED', actor, detail: 'rerun', patch: {not_before: 0, finished_at: null, engine_job_id: null, runs: 0, cluster: firstChoice(task), kill_requested_by: null, kill_requested_at: null}})
    if (!ok) throw new ApiError(409, `task ${id} changed state; try again`)
    this.dispatchLoop.poke()
    return this.task(id)
  }

  async setPriority(id: string, priority: number, actor: string): Promise<TaskView> {
    const task = await this.mustGet(id)
    if (FINISHED.has(task.state)) throw new ApiError(409, `task ${id} has already finished (${task.state})`)
    await this.store.setPriority(id, priority, actor)
    this.dispatchLoop.poke()
    return this.task(id)
  }

  /** The engine's logs of the task's current (or last) job. */
  async logs(id: string, opts: {follow: boolean; out: (s: string) => void; err: (s: string) => void; signal?: AbortSignal}): Promise<void> {
    const task = await this.mustGet(id)
    const jobId = task.engine_job_id ?? (await this.store.lastEngineJob(id))
    if (!jobId) throw new ApiError(409, `task ${id} has no job on an engine yet (${task.state})`)
    const attempts = await this.store.attempts(id)
    const cluster = attempts.find((a) => a.engine_job_id === jobId)?.cluster ?? task.cluster
    await this.links.withJobs(cluster, (jobs) => jobs.logs(jobId, {follow: opts.follow, timeoutMs: 3_600_000, out: opts.out, err: opts.err, signal: opts.signal})).catch((error: Error) => {
      if (error instanceof ApiError || error instanceof UsageError) throw error
      throw new ApiError(502, `could not read the logs of ${jobId} on ${cluster}: ${error.message.split('\n')[0]}`)
    })
  }

  // ---- management ------------------------------------------------------------------------------------------------

  async clusters(): Promise<Array<Omit<ClusterStatus, 'checkedAt' | 'hosts'> & {checkedAt: string; hosts?: number; queued: number; submitted: number; running: number; autoscale?: AutoscaleStatus}>> {
    const [known, counts] = await Promise.all([this.links.known(), this.store.activeByCluster()])
    const statuses = await mapLimit(known, 8, (c) => {
      const s = this.links.status(c.name)
      return s && Date.now() - s.checkedAt < 10_000 ? Promise.resolve(s) : this.links.refresh(c.name)
    })
    return Promise.all(
      statuses.map(async ({hosts, ...s}) => {
        const n = (state: string) => counts.filter((c) => c.cluster === s.name && c.state === state).reduce((a, c) => a + Number(c.n), 0)
        const autoscale = await this.autoscaler?.status(s.name)
        return {...s, checkedAt: new Date(s.checkedAt).toISOString(), ...(hosts ? {hosts: hosts.length} : {}), queued: n('QUEUED'), submitted: n('SUBMITTED'), running: n('RUNNING'), ...(autoscale ? {autoscale} : {})}
      }),
    )
  }

  async queue(): Promise<{queued: number; submitted: number; running: number; oldestWaitSeconds?: number; depth: Array<{cluster: string; priority: number; queued: number; oldestWaitSeconds: number}>}> {
    const [depth, counts] = await Promise.all([this.store.queueDepth(), this.store.countByState()])
    const now = Date.now()
    const count = (s: string) => Number(counts.find((c) => c.state === s)?.n ?? 0)
    const rows = depth.map((d) => ({cluster: d.cluster, priority: d.priority, queued: Number(d.n), oldestWaitSeconds: Math.max(0, (now - Number(d.oldest)) / 1000)}))
    const oldest = rows.length ? Math.max(...rows.map((r) => r.oldestWaitSeconds)) : undefined
    return {queued: count('QUEUED'), submitted: count('SUBMITTED'), running: count('RUNNING'), ...(oldest !== undefined ? {oldestWaitSeconds: oldest} : {}), depth: rows}
  }

  /** Healthy: the database answers and every loop finished a step recently. */
  async health(): Promise<{ok: boolean; reason?: string; loops: Record<string, {lastOkAt?: string; lastError?: string}>}> {
    const now = Date.now()
    const all = [...this.sourceSet.loops(), ...this.loops]
    const loops = Object.fromEntries(all.map((l) => [l.name, {lastOkAt: l.lastOkAt ? new Date(l.lastOkAt).toISOString() : undefined, lastError: l.lastError}]))
    try {
      await Promise.race([this.store.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('no answer in 3 s')), 3000).unref())])
    } catch (error) {
      return {ok: false, reason: `database: ${(error as Error).message.split('\n')[0]}`, loops}
    }
    const stale = all.filter((l) => l.name !== 'retention' && !l.healthy(now, Math.max(60_000, 2 * l.intervalMs)))
    if (stale.length > 0) return {ok: false, reason: `loop ${stale.map((l) => l.name).join(', ')} has not finished a step in 60 s${stale[0]!.lastError ? ` (${stale[0]!.lastError})` : ''}`, loops}
    return {ok: true, loops}
  }

  get dataDir(): string {
    return join(this.opts.dataDir)
  }
}

export {SERVICE_ACTOR}
