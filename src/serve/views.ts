/**
 * The API's JSON for tasks, attempts and events: the contract of `GET /task/{id}` and friends (fields are only ever
 * added). Times are ISO 8601.
 */
import {originOf} from './notify/notifier.js'
import {ACTIVE} from './queue/states.js'
import type {AttemptRow, EventRow, FileRef, TaskRow} from './store/store.js'

export interface AttemptView {
  n: number
  cluster: string
  engine: string
  /** The name the job has on its engine. */
  engineName: string
  /** The engine's id of the job (what `cms job status -n CLUSTER ID` takes); absent until the engine took it. */
  engineJobId?: string
  state: string
  submittedAt: string
  startedAt?: string
  finishedAt?: string
  exitCode?: number
  detail?: string
}

export interface TaskView {
  id: string
  name: string
  kind: 'spec' | 'jobfile'
  state: string
  cluster: string
  clusters: string[]
  engine?: string
  priority: number
  retries: number
  /** Attempts that reached an engine. */
  runs: number
  createdAt: string
  createdBy: string
  updatedAt: string
  finishedAt?: string
  /** A queued task after a failure: not before this time. */
  notBefore?: string
  engineJobId?: string
  /** While its job runs: the kill asked for (DELETE), by which key and when; the job is being killed. */
  killRequested?: {by: string; at: string}
  demand: {cores: number; memoryMb: number}
  /** While queued: how many tasks come first on its cluster and what it waits for. */
  queue?: {position: number; waitingFor: string}
  attempts?: AttemptView[]
  files?: FileRef[]
  spec?: unknown
  jobfile?: {name: string; content: string}
  /** The schedule whose run this is. */
  schedule?: string
  /** The job source it came from. */
  source?: string
  /** The webhook's events and origin (its full URL may hold a token: it is not shown). */
  notify?: {on: string[]; origin: string}
}

export interface EventView {
  at: string
  from?: string
  to: string
  actor: string
  detail?: string
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? undefined : new Date(ms).toISOString())

function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k]
  return o
}

export function taskView(t: TaskRow, extra: {attempts?: AttemptRow[]; files?: FileRef[]; queue?: TaskView['queue']; body?: boolean} = {}): TaskView {
  const view: TaskView = {
    id: t.id,
    name: t.name,
    kind: t.kind,
    state: t.state,
    cluster: t.cluster,
    clusters: JSON.parse(t.clusters) as string[],
    engine: t.engine ?? undefined,
    priority: t.priority,
    retries: t.retries,
    runs: t.runs,
    createdAt: iso(t.created_at)!,
    createdBy: t.created_by,
    updatedAt: iso(t.updated_at)!,
    finishedAt: iso(t.finished_at),
    notBefore: t.state === 'QUEUED' && t.not_before > Date.now() ? iso(t.not_before) : undefined,
    engineJobId: t.engine_job_id ?? undefined,
    killRequested: t.kill_requested_by !== null && ACTIVE.has(t.state) ? {by: t.kill_requested_by, at: iso(t.kill_requested_at)!} : undefined,
    demand: {cores: t.demand_cores, memoryMb: t.demand_memory_mb},
    queue: extra.queue,
    attempts: extra.attempts?.map(attemptView),
    files: extra.files,
    schedule: t.schedule ?? undefined,
    source: t.source ?? undefined,
    notify: t.notify ? notifyView(t.notify) : undefined,
  }
  if (extra.body) {
    const body = JSON.parse(t.body) as unknown
    if (t.kind === 'spec') view.spec = body
    else view.jobfile = body as TaskView['jobfile']
  }
  return compact(view)
}

export function attemptView(a: AttemptRow): AttemptView {
  return compact({
    n: a.n,
    cluster: a.cluster,
    engine: a.engine,
    engineName: a.engine_name,
    engineJobId: a.engine_job_id ?? undefined,
    state: a.state,
    submittedAt: iso(a.submitted_at)!,
    startedAt: iso(a.started_at),
    finishedAt: iso(a.finished_at),
    exitCode: a.exit_code ?? undefined,
    detail: a.detail ?? undefined,
  })
}

export function eventView(e: EventRow): EventView {
  return compact({at: iso(e.at)!, from: e.from_state ?? undefined, to: e.to_state, actor: e.actor, detail: e.detail ?? undefined})
}

function notifyView(json: string): TaskView['notify'] {
  const n = JSON.parse(json) as {url: string; on: string[]}
  return {on: n.on, origin: originOf(n.url)}
}
