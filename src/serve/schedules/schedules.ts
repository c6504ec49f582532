import {UsageError} from '../../remote/errors.js'
import {ApiError} from '../errors.js'
import type {TaskState} from '../queue/states.js'
import {ScheduleStore, type ScheduleRow} from '../store/schedule-store.js'
import type {FileStore} from '../files.js'
import type {FileRef, NewTask, TaskRow, TaskStore} from '../store/store.js'
import {newTaskId} from '../task-input.js'
import {originOf} from '../notify/notifier.js'
import {nextRun, parseCron} from './cron.js'
import {parseSchedule, runTaskId} from './schedule-input.js'

/** What schedules need of the task service: the same validation as POST /task, cancel, and a wake-up. */
export interface ScheduleHost {
  readonly store: TaskStore
  readonly files: FileStore
  prepare(raws: ReadonlyArray<{raw: unknown; uploads?: ReadonlyMap<string, FileRef>}>, batch: boolean): Promise<NewTask[]>
  cancel(id: string, actor: string): Promise<unknown>
  queued(): void
}

export interface ScheduleView {
  name: string
  cron: string
  timeZone: string
  task: unknown
  concurrency: ScheduleRow['concurrency']
  suspend: boolean
  history: number
  nextRunAt?: string
  lastRunAt?: string
  lastTaskId?: string
  /** Why the last tick started no run. */
  lastNote?: string
  createdBy: string
  createdAt: string
  updatedAt: string
  /** The uploaded files its runs use. */
  files?: FileRef[]
  /** The newest runs, newest first. */
  runs?: Array<{id: string; state: string; createdAt: string; finishedAt?: string}>
}

/** A run this late (ms) after its tick says so in its events: the service was not running at the tick (the loop
 * steps every 5 s, so a run on time is queued well within this). */
const LATE_MS = 20_000
const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? undefined : new Date(ms).toISOString())

/**
 * Scheduled jobs: CRUD, and the step of the scheduler loop. The next run time lives in the database only; a tick
 * is owned by whoever moves next_run_at on from it (compare-and-set in the transaction that queues the run's task),
 * so two servers never both queue it and a crash never loses it. A server that was down across ticks runs the
 * schedule once when it is back (the run's events say so), never once per missed tick.
 */
export class Schedules {
  readonly rows: ScheduleStore

  constructor(
    private readonly host: ScheduleHost,
    private readonly log: (line: string) => void,
  ) {
    this.rows = new ScheduleStore(host.store.db)
  }

  /** A new schedule; `uploads` are the files its task names (kept for every run). */
  async create(raw: unknown, actor: string, uploads: ReadonlyMap<string, FileRef> = new Map()): Promise<ScheduleView> {
    const {fields, task} = parseSchedule(raw, Date.now())
    const [checked] = await this.host.prepare([{raw: task, uploads}], false)
    if (!(await this.rows.create(fields, checked!.files, actor))) throw new ApiError(409, `a schedule named ${fields.name} exists already (PUT /schedules/${fields.name} replaces it)`)
    return this.get(fields.name)
  }

  /** Creates or replaces (with its files); the next run is computed afresh from now. */
  async put(name: string, raw: unknown, actor: string, uploads: ReadonlyMap<string, FileRef> = new Map()): Promise<{view: ScheduleView; created: boolean}> {
    const {fields, task} = parseSchedule(raw, Date.now(), name)
    const [checked] = await this.host.prepare([{raw: task, uploads}], false)
    const {replaced, orphans} = await this.rows.replace(fields, checked!.files)
    for (const sha of orphans) this.host.files.remove(sha)
    if (replaced) return {view: await this.get(name), created: false}
    if (!(await this.rows.create(fields, checked!.files, actor))) throw new ApiError(409, `schedule ${name} was created meanwhile; try again`)
    return {view: await this.get(name), created: true}
  }

  /** The task of a run: the schedule's task with its stored files, checked as POST /task checks it. */
  private async runTask(row: ScheduleRow): Promise<NewTask> {
    const uploads = new Map((await this.rows.files(row.name)).map((f) => [f.name, f]))
    const [task] = await this.host.prepare([{raw: JSON.parse(row.task) as unknown, uploads}], false)
    return task!
  }

  async get(name: string, runs = 20): Promise<ScheduleView> {
    const row = await this.rows.get(name)
    if (!row) throw new ApiError(404, `no schedule named ${name} (see GET /schedules)`)
    return {...scheduleView(row, await this.host.store.scheduleRuns(name, runs)), files: await this.rows.files(name)}
  }

  async list(): Promise<{schedules: ScheduleView[]}> {
    return {schedules: (await this.rows.list()).map((r) => scheduleView(r))}
  }

  /** Removes the schedule; its runs stay tasks (finished ones are purged with the others). */
  async remove(name: string): Promise<{name: string; deleted: true}> {
    const {removed, orphans} = await this.rows.remove(name)
    if (!removed) throw new ApiError(404, `no schedule named ${name} (see GET /schedules)`)
    for (const sha of orphans) this.host.files.remove(sha)
    return {name, deleted: true}
  }

  /** Runs the schedule now, by hand: an ordinary task linked to it (the concurrency policy is for ticks). */
  async runNow(name: string, actor: string): Promise<TaskRow> {
    const row = await this.rows.get(name)
    if (!row) throw new ApiError(404, `no schedule named ${name} (see GET /schedules)`)
    const task = await this.runTask(row)
    const note = `run of schedule ${name} started by hand`
    const [stored] = await this.host.store.insertTasks([{...task, id: newTaskId(), schedule: name, note: joinNotes(task.note, note)}], actor)
    await this.rows.ranByHand(name, stored!.task.id, Date.now())
    this.host.queued()
    return stored!.task
  }

  /** One pass of the scheduler loop; returns how long until the earliest next run (the loop wakes then). */
  async step(now = Date.now()): Promise<number | undefined> {
    for (const s of await this.rows.due(now)) {
      await this.fire(s, now).catch((error: Error) => this.log(`schedule ${s.name}: ${error.message.split('\n')[0]}`))
    }
    const earliest = await this.rows.earliest()
    return earliest === undefined ? undefined : Math.max(0, earliest - Date.now())
  }

  private async fire(s: ScheduleRow, now: number): Promise<void> {
    const tick = s.next_run_at!
    const cron = parseCron(s.cron)
    const next = nextRun(cron, s.time_zone, now) ?? null
    const actor = `schedule:${s.name}`
    const active = await this.host.store.db.all<TaskRow>("SELECT * FROM tasks WHERE schedule = $1 AND state IN ('QUEUED', 'SUBMITTED', 'RUNNING') ORDER BY seq", [s.name])
    if (s.concurrency === 'forbid' && active.length > 0) {
      const still = active[0]!
      const why = `run due at ${iso(tick)} skipped: ${still.id} is still ${still.state} (concurrency forbid)`
      if (await this.rows.advance(this.rows.db, s.name, tick, next, {note: why}, now)) await this.host.store.note(still.id, still.state as TaskState, actor, why)
      return
    }
    let task: NewTask
    try {
      task = await this.runTask(s)
    } catch (error) {
      if (!(error instanceof UsageError) && !(error instanceof ApiError)) throw error
      // Refused now (a cluster that is gone, say): this tick is over; the schedule stays and tries the next one.
      await this.rows.advance(this.rows.db, s.name, tick, next, {note: `run due at ${iso(tick)} refused: ${error.message}`}, now)
      return
    }
    if (s.concurrency === 'replace') {
      for (const t of active) await this.host.cancel(t.id, actor).catch((error: Error) => this.log(`schedule ${s.name}: could not kill ${t.id}: ${error.message.split('\n')[0]}`))
    }
    const id = runTaskId(s.name, tick)
    const queued = await this.host.store.db.tx(async (db) => {
      if (!(await this.rows.advance(db, s.name, tick, next, {taskId: id}, now))) return false
      await this.host.store.insertTasks([{...task, id, schedule: s.name, note: joinNotes(task.note, runNote(s.name, tick, now, missedTicks(cron, s.time_zone, tick, now)))}], actor, now, db)
      return true
    })
    if (!queued) return
    this.host.queued()
    await this.host.store.pruneScheduleRuns(s.name, s.history)
  }
}

/** Ticks after `tick` up to `now` (capped): the runs a server that was down did not make. */
export function missedTicks(cron: ReturnType<typeof parseCron>, zone: string, tick: number, now: number, cap = 1000): number {
  let n = 0
  for (let t = nextRun(cron, zone, tick); t !== undefined && t <= now && n < cap; t = nextRun(cron, zone, t)) n++
  return n
}

export function runNote(name: string, tick: number, now: number, missed: number): string {
  const base = `run of schedule ${name} due at ${iso(tick)}`
  if (now - tick <= LATE_MS) return base
  const late = now - tick < 60_000 ? `${Math.round((now - tick) / 1000)} s` : `${Math.round((now - tick) / 60_000)} min`
  return `${base}, started ${late} late (the service was not running then)${missed > 0 ? `; ${missed} later tick${missed === 1 ? '' : 's'} missed meanwhile ${missed === 1 ? 'is' : 'are'} not made up` : ''}`
}

function joinNotes(...notes: Array<string | undefined>): string | undefined {
  const kept = notes.filter(Boolean)
  return kept.length ? kept.join('; ') : undefined
}

/** The stored task as shown: a webhook's URL may hold a token, so only its origin (as a task's view shows it). */
function shownTask(task: Record<string, unknown>): Record<string, unknown> {
  const n = task.notify as {url?: unknown; on?: unknown} | undefined
  if (!n || typeof n.url !== 'string') return task
  return {...task, notify: {...(n.on !== undefined ? {on: n.on} : {}), origin: originOf(n.url)}}
}

export function scheduleView(r: ScheduleRow, runs?: TaskRow[]): ScheduleView {
  const view: ScheduleView = {
    name: r.name,
    cron: r.cron,
    timeZone: r.time_zone,
    task: shownTask(JSON.parse(r.task) as Record<string, unknown>),
    concurrency: r.concurrency,
    suspend: Number(r.suspended) === 1,
    history: r.history,
    nextRunAt: Number(r.suspended) === 1 ? undefined : iso(r.next_run_at),
    lastRunAt: iso(r.last_run_at),
    lastTaskId: r.last_task_id ?? undefined,
    lastNote: r.last_note ?? undefined,
    createdBy: r.created_by,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    runs: runs?.map((t) => ({id: t.id, state: t.state, createdAt: iso(t.created_at)!, ...(t.finished_at ? {finishedAt: iso(t.finished_at)} : {})})),
  }
  for (const k of Object.keys(view) as Array<keyof ScheduleView>) if (view[k] === undefined) delete view[k]
  return view
}
