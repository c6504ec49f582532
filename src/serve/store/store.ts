import type {Demand} from '../queue/capacity.js'
import {canMove, type TaskState} from '../queue/states.js'
import {eventOfState, type Notify} from '../notify/webhook.js'
import type {Db, Param} from './db.js'

/** One row of `tasks`: the service's own facts about a task (never a copy of what an engine reports). */
export interface TaskRow {
  seq: number
  id: string
  name: string
  kind: 'spec' | 'jobfile'
  /** JSON: the spec, or {name, content} of a native jobfile. */
  body: string
  /** JSON array: the clusters it may run on, in order. */
  clusters: string
  /** The cluster of the current attempt; the first choice while queued. */
  cluster: string
  engine: string | null
  priority: number
  retries: number
  demand_cores: number
  demand_memory_mb: number
  state: TaskState
  /** Attempts started (rows in `attempts`). */
  attempts: number
  /** Attempts that reached an engine (what retries count). */
  runs: number
  not_before: number
  engine_job_id: string | null
  lease_owner: string | null
  lease_until: number | null
  created_by: string
  created_at: number
  updated_at: number
  finished_at: number | null
  /** The schedule whose run this is. */
  schedule: string | null
  /** The job source it came from. */
  source: string | null
  /** JSON {url, on}: the task's webhook. */
  notify: string | null
  /** The key that asked for the current attempt's job to be killed (DELETE /task/{id}), and when. */
  kill_requested_by: string | null
  kill_requested_at: number | null
}

/** The cluster a task names first (where it is counted while queued). */
export function firstChoice(task: Pick<TaskRow, 'clusters'>): string {
  return (JSON.parse(task.clusters) as string[])[0]!
}

export interface AttemptRow {
  task_id: string
  n: number
  cluster: string
  engine: string
  /** The name the job was given on the engine: how a submission interrupted by a crash is found again. */
  engine_name: string
  engine_job_id: string | null
  state: string
  submitted_at: number
  started_at: number | null
  finished_at: number | null
  exit_code: number | null
  detail: string | null
}

export interface EventRow {
  id: number
  task_id: string
  at: number
  from_state: TaskState | null
  to_state: TaskState
  actor: string
  detail: string | null
}

export interface FileRef {
  name: string
  sha256: string
  size: number
}

export interface NewTask {
  id: string
  name: string
  kind: TaskRow['kind']
  body: string
  clusters: string[]
  engine?: string
  priority: number
  retries: number
  demand: Demand
  files: FileRef[]
  /** Appended to the QUEUED event (e.g. that a jobfile could not be checked with the engine yet). */
  note?: string
  schedule?: string
  source?: string
  /** JSON {url, on}. */
  notify?: string
}

export interface KeyRow {
  name: string
  scope: string
  hash: string
  created_at: number
  revoked_at: number | null
}

type TaskPatch = Partial<Pick<TaskRow, 'cluster' | 'engine' | 'priority' | 'attempts' | 'runs' | 'not_before' | 'engine_job_id' | 'lease_owner' | 'lease_until' | 'finished_at' | 'kill_requested_by' | 'kill_requested_at'>>
type AttemptPatch = Partial<Pick<AttemptRow, 'engine_job_id' | 'state' | 'started_at' | 'finished_at' | 'exit_code' | 'detail'>>

const TASK_PATCH = new Set(['cluster', 'engine', 'priority', 'attempts', 'runs', 'not_before', 'engine_job_id', 'lease_owner', 'lease_until', 'finished_at', 'kill_requested_by', 'kill_requested_at'])
const ATTEMPT_PATCH = new Set(['engine_job_id', 'state', 'started_at', 'finished_at', 'exit_code', 'detail'])

/** The row a new task gets (what the INSERT writes), without reading it back. */
function newRow(t: NewTask, seq: number, actor: string, now: number): TaskRow {
  return {
    seq,
    id: t.id,
    name: t.name,
    kind: t.kind,
    body: t.body,
    clusters: JSON.stringify(t.clusters),
    cluster: t.clusters[0]!,
    engine: t.engine ?? null,
    priority: t.priority,
    retries: t.retries,
    demand_cores: t.demand.cores,
    demand_memory_mb: t.demand.memoryMb,
    state: 'QUEUED',
    attempts: 0,
    runs: 0,
    not_before: 0,
    engine_job_id: null,
    lease_owner: null,
    lease_until: null,
    created_by: actor,
    created_at: now,
    updated_at: now,
    finished_at: null,
    schedule: t.schedule ?? null,
    source: t.source ?? null,
    notify: t.notify ?? null,
    kill_requested_by: null,
    kill_requested_at: null,
  }
}

/** Deletes tasks with their events, attempts and file rows; returns the contents no task references any more. */
async function deleteTasks(db: Db, ids: string[]): Promise<{tasks: number; orphans: string[]}> {
  if (ids.length === 0) return {tasks: 0, orphans: []}
  const marks = ids.map((_, k) => `$${k + 1}`).join(', ')
  const shas = await db.all<{sha256: string}>(`SELECT DISTINCT sha256 FROM task_files WHERE task_id IN (${marks})`, ids)
  for (const table of ['events', 'attempts', 'task_files']) await db.run(`DELETE FROM ${table} WHERE task_id IN (${marks})`, ids)
  await db.run(`DELETE FROM tasks WHERE id IN (${marks})`, ids)
  const orphans: string[] = []
  for (const {sha256} of shas) if (!(await isReferenced(db, sha256))) orphans.push(sha256)
  return {tasks: ids.length, orphans}
}

/** Whether a task or a schedule still uses this content. */
export async function isReferenced(db: Db, sha256: string): Promise<boolean> {
  const rows = await db.all('SELECT 1 AS x FROM task_files WHERE sha256 = $1 UNION ALL SELECT 1 AS x FROM schedule_files WHERE sha256 = $1 LIMIT 1', [sha256])
  return rows.length > 0
}

/** `SET a = $k, b = $k+1`, its values, and the next placeholder number; only whitelisted columns. */
function setClause(patch: Record<string, Param | undefined>, allowed: Set<string>, first: number): {sql: string; values: Param[]; next: number} {
  const parts: string[] = []
  const values: Param[] = []
  let n = first
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue
    if (!allowed.has(k)) throw new Error(`not a patchable column: ${k}`)
    parts.push(`${k} = $${n++}`)
    values.push(v)
  }
  return {sql: parts.join(', '), values, next: n}
}

export interface Move {
  /** States the task must be in for the move to happen (compare-and-set). */
  from: readonly TaskState[]
  /** One state, or a path through states (FAILED then QUEUED), each with its own event row. */
  to: TaskState | readonly TaskState[]
  actor: string
  /** One detail per step of `to`. */
  detail?: string | readonly (string | undefined)[]
  /** The attempt the move is about must still be the task's current one. */
  attempt?: number
  patch?: TaskPatch
  attemptPatch?: AttemptPatch
  now?: number
}

export interface ListFilter {
  state?: TaskState
  cluster?: string
  /** Part of the name. */
  name?: string
  /** Created at or after (ms). */
  since?: number
  limit: number
  /** Tasks older than this `seq` (the previous page's cursor). */
  cursor?: number
}

export interface ClaimContext {
  /** Ready queued tasks, best first (priority, then age): what admission needs of each (the picks are read whole). */
  queued: Array<Pick<TaskRow, 'seq' | 'id' | 'clusters' | 'priority' | 'demand_cores' | 'demand_memory_mb'>>
  /** The service's active tasks (submitted or running), for each cluster's load. */
  active: Array<Pick<TaskRow, 'id' | 'cluster' | 'demand_cores' | 'demand_memory_mb'>>
}

export interface Claimed {
  task: TaskRow
  attempt: AttemptRow
}

/** GET /task's view of a task: the row, its attempts and files, and its queue position while queued. */
export interface TaskDetail {
  task: TaskRow
  attempts: AttemptRow[]
  files: FileRef[]
  /** Set while the task is queued. */
  position?: number
}

/**
 * How many queued tasks of a cluster come before (priority PRIORITY, seq SEQ): higher priorities, then older ones of
 * the same priority. Two counts, each one range of the tasks_queued index (cluster, priority DESC, seq), so that a
 * count reads only the tasks before this one.
 */
export function positionSql(cluster: string, priority: string, seq: string): string {
  const queued = `SELECT COUNT(*) FROM tasks q WHERE q.state = 'QUEUED' AND q.cluster = ${cluster}`
  return `((${queued} AND q.priority > ${priority}) + (${queued} AND q.priority = ${priority} AND q.seq < ${seq}))`
}

const CHUNK = 200
const WITHOUT_BODY = 'seq, id, name, kind, clusters, cluster, engine, priority, retries, demand_cores, demand_memory_mb, state, attempts, runs, not_before, engine_job_id, lease_owner, lease_until, created_by, created_at, updated_at, finished_at, schedule, source, notify, kill_requested_by, kill_requested_at'

/** The queue and the audit trail in SQL shared by SQLite and PostgreSQL. Every state change writes its event row in the same transaction. */
export class TaskStore {
  constructor(readonly db: Db) {}

  async ping(): Promise<void> {
    await this.db.all('SELECT 1 AS ok')
  }

  /**
   * Inserts new tasks (QUEUED, with their event and file rows) in one transaction. An id that exists already is
   * not inserted again: its stored task comes back with `created: false`.
   */
  async insertTasks(tasks: readonly NewTask[], actor: string, now = Date.now(), db: Db = this.db): Promise<Array<{task: TaskRow; created: boolean}>> {
    const seqs = new Map<string, number>()
    const existing = await (db.dialect === 'postgres' ? this.insertPostgres(db, tasks, actor, now, seqs) : this.insertSqlite(db, tasks, actor, now, seqs))
    return tasks.map((t) => {
      const seq = seqs.get(t.id)
      return seq === undefined ? {task: existing.get(t.id)!, created: false} : {task: newRow(t, seq, actor, now), created: true}
    })
  }

  /**
   * PostgreSQL: the tasks, their QUEUED events and their file rows in one statement (atomic by itself: one round
   * trip), the rows as one JSON array of arrays, read as jsonb (parsed once; `->>` on plain json parses the element
   * again for every field: twice the statement's time). New rows are known without reading them back; only ids
   * that existed already are read.
   */
  private async insertPostgres(db: Db, tasks: readonly NewTask[], actor: string, now: number, seqs: Map<string, number>): Promise<Map<string, TaskRow>> {
    const rows = tasks.map((t) => [t.id, t.name, t.kind, t.body, JSON.stringify(t.clusters), t.clusters[0]!, t.engine ?? null, t.priority, t.retries, t.demand.cores, t.demand.memoryMb, t.note ?? null, t.schedule ?? null, t.source ?? null, t.notify ?? null])
    const files = tasks.flatMap((t) => t.files.map((f) => [t.id, f.name, f.sha256, f.size]))
    const created = await db.all<{id: string; seq: number}>(
      `WITH input AS (
         SELECT e->>0 AS id, e->>1 AS name, e->>2 AS kind, e->>3 AS body, e->>4 AS clusters, e->>5 AS cluster, e->>6 AS engine,
                (e->>7)::integer AS priority, (e->>8)::integer AS retries, (e->>9)::double precision AS demand_cores,
                (e->>10)::integer AS demand_memory_mb, e->>11 AS note, e->>12 AS schedule, e->>13 AS source, e->>14 AS notify
         FROM jsonb_array_elements($1::jsonb) AS e),
       ins AS (
         INSERT INTO tasks (id, name, kind, body, clusters, cluster, engine, priority, retries, demand_cores, demand_memory_mb, schedule, source, notify, created_by, created_at, updated_at, state, attempts, runs, not_before)
         SELECT id, name, kind, body, clusters, cluster, engine, priority, retries, demand_cores, demand_memory_mb, schedule, source, notify, $2, $3, $3, 'QUEUED', 0, 0, 0 FROM input
         ON CONFLICT (id) DO NOTHING RETURNING id, seq),
       ev AS (
         INSERT INTO events (task_id, at, from_state, to_state, actor, detail)
         SELECT ins.id, $3, NULL, 'QUEUED', $2, input.note FROM ins JOIN input USING (id)),
       fi AS (
         INSERT INTO task_files (task_id, name, sha256, size)
         SELECT f->>0, f->>1, f->>2, (f->>3)::bigint FROM jsonb_array_elements($4::jsonb) AS f JOIN ins ON ins.id = f->>0)
       SELECT id, seq FROM ins`,
      [JSON.stringify(rows), actor, now, JSON.stringify(files)],
    )
    for (const r of created) seqs.set(r.id, Number(r.seq))
    return this.getMany(db, tasks.filter((t) => !seqs.has(t.id)).map((t) => t.id))
  }

  /** SQLite: multi-row INSERTs in one transaction (an in-process call each: no round trips to save). */
  private async insertSqlite(outer: Db, tasks: readonly NewTask[], actor: string, now: number, seqs: Map<string, number>): Promise<Map<string, TaskRow>> {
    return outer.tx(async (db) => {
      const columns = 'id, name, kind, body, clusters, cluster, engine, priority, retries, demand_cores, demand_memory_mb, schedule, source, notify, created_by, created_at, updated_at'
      const width = 17
      for (let i = 0; i < tasks.length; i += CHUNK) {
        const rows = tasks.slice(i, i + CHUNK).map((t) => [t.id, t.name, t.kind, t.body, JSON.stringify(t.clusters), t.clusters[0]!, t.engine ?? null, t.priority, t.retries, t.demand.cores, t.demand.memoryMb, t.schedule ?? null, t.source ?? null, t.notify ?? null, actor, now, now])
        const tuples = rows.map((_, r) => `(${Array.from({length: width}, (_, k) => `$${r * width + k + 1}`).join(', ')}, 'QUEUED', 0, 0, 0)`)
        const created = await db.all<{id: string; seq: number}>(`INSERT INTO tasks (${columns}, state, attempts, runs, not_before) VALUES ${tuples.join(', ')} ON CONFLICT (id) DO NOTHING RETURNING id, seq`, rows.flat())
        for (const r of created) seqs.set(r.id, Number(r.seq))
      }
      const fresh = tasks.filter((t) => seqs.has(t.id))
      await this.insertMany(db, 'events (task_id, at, from_state, to_state, actor, detail)', 6, fresh.map((t) => [t.id, now, null, 'QUEUED', actor, t.note ?? null]))
      await this.insertMany(db, 'task_files (task_id, name, sha256, size)', 4, fresh.flatMap((t) => t.files.map((f) => [t.id, f.name, f.sha256, f.size])))
      return this.getMany(db, tasks.filter((t) => !seqs.has(t.id)).map((t) => t.id))
    })
  }

  /** Many rows in multi-row INSERTs (SQLite). */
  private async insertMany(db: Db, into: string, width: number, rows: Param[][]): Promise<void> {
    const per = Math.max(1, Math.floor((CHUNK * 8) / width))
    for (let i = 0; i < rows.length; i += per) {
      const chunk = rows.slice(i, i + per)
      const tuples = chunk.map((_, r) => `(${Array.from({length: width}, (_, k) => `$${r * width + k + 1}`).join(', ')})`)
      await db.run(`INSERT INTO ${into} VALUES ${tuples.join(', ')}`, chunk.flat())
    }
  }

  private async getMany(db: Db, ids: readonly string[]): Promise<Map<string, TaskRow>> {
    const out = new Map<string, TaskRow>()
    const unique = [...new Set(ids)]
    for (let i = 0; i < unique.length; i += CHUNK) {
      const chunk = unique.slice(i, i + CHUNK)
      const rows = await db.all<TaskRow>(`SELECT * FROM tasks WHERE id IN (${chunk.map((_, k) => `$${k + 1}`).join(', ')})`, chunk)
      for (const r of rows) out.set(r.id, r)
    }
    return out
  }

  /** The states of these tasks (one query); a task that is gone is left out. */
  async states(ids: readonly string[]): Promise<Map<string, TaskState>> {
    const rows = await this.getMany(this.db, ids)
    return new Map([...rows].map(([id, t]) => [id, t.state]))
  }

  async get(id: string): Promise<TaskRow | undefined> {
    return (await this.db.all<TaskRow>('SELECT * FROM tasks WHERE id = $1', [id]))[0]
  }

  async attempts(id: string): Promise<AttemptRow[]> {
    return this.db.all<AttemptRow>('SELECT * FROM attempts WHERE task_id = $1 ORDER BY n', [id])
  }

  async events(id: string): Promise<EventRow[]> {
    return this.db.all<EventRow>('SELECT * FROM events WHERE task_id = $1 ORDER BY id', [id])
  }

  async files(id: string): Promise<FileRef[]> {
    return this.db.all<FileRef>('SELECT name, sha256, size FROM task_files WHERE task_id = $1 ORDER BY name', [id])
  }

  /** Newest first; the cursor is the last row's seq. */
  async list(f: ListFilter): Promise<TaskRow[]> {
    const where: string[] = []
    const values: Param[] = []
    const add = (sql: string, v: Param) => {
      values.push(v)
      where.push(sql.replace('?', `$${values.length}`))
    }
    if (f.state) add('state = ?', f.state)
    if (f.cluster) add('cluster = ?', f.cluster)
    if (f.name) add("name LIKE ? ESCAPE '\\'", `%${f.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
    if (f.since !== undefined) add('created_at >= ?', f.since)
    if (f.cursor !== undefined) add('seq < ?', f.cursor)
    values.push(f.limit)
    return this.db.all<TaskRow>(`SELECT * FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${values.length}`, values)
  }

  /** How many queued tasks for the same first-choice cluster come before this one (0: it is next). */
  async position(task: TaskRow): Promise<number> {
    const rows = await this.db.all<{n: number}>(`SELECT ${positionSql('$1', '$2', '$3')} AS n`, [task.cluster, task.priority, task.seq])
    return Number(rows[0]?.n ?? 0)
  }

  /**
   * A task with what GET /task shows: its attempts, its files and, while it is queued, its position. PostgreSQL:
   * one statement (one round trip, one snapshot); SQLite: the same reads one by one (in-process calls).
   */
  async detail(id: string): Promise<TaskDetail | undefined> {
    if (this.db.dialect === 'postgres') {
      const rows = await this.db.all<TaskRow & {detail_attempts: AttemptRow[]; detail_files: FileRef[]; detail_position: number | null}>(
        `SELECT t.*,
           (SELECT COALESCE(json_agg(a ORDER BY a.n), '[]'::json) FROM attempts a WHERE a.task_id = t.id) AS detail_attempts,
           (SELECT COALESCE(json_agg(json_build_object('name', f.name, 'sha256', f.sha256, 'size', f.size) ORDER BY f.name), '[]'::json) FROM task_files f WHERE f.task_id = t.id) AS detail_files,
           CASE WHEN t.state = 'QUEUED' THEN ${positionSql('t.cluster', 't.priority', 't.seq')} END AS detail_position
         FROM tasks t WHERE t.id = $1`,
        [id],
      )
      const row = rows[0]
      if (!row) return undefined
      const {detail_attempts: attempts, detail_files: files, detail_position: position, ...task} = row
      return {task, attempts, files, ...(position === null ? {} : {position: Number(position)})}
    }
    const task = await this.get(id)
    if (!task) return undefined
    const [attempts, files] = await Promise.all([this.attempts(id), this.files(id)])
    return {task, attempts, files, ...(task.state === 'QUEUED' ? {position: await this.position(task)} : {})}
  }

  /** Compare-and-set a task's state, with its event rows, in one transaction; false when the task was not in `from`. */
  async move(id: string, m: Move): Promise<boolean> {
    return this.db.tx((db) => this.moveIn(db, id, m))
  }

  async moveIn(db: Db, id: string, m: Move): Promise<boolean> {
    const now = m.now ?? Date.now()
    const path = typeof m.to === 'string' ? [m.to] : [...m.to]
    const details = typeof m.detail === 'string' || m.detail === undefined ? [m.detail] : [...m.detail]
    const final = path[path.length - 1]!
    for (const f of m.from) if (!canMove(f, path[0]!)) throw new Error(`no move from ${f} to ${path[0]}`)
    for (let i = 1; i < path.length; i++) if (!canMove(path[i - 1]!, path[i]!)) throw new Error(`no move from ${path[i - 1]} to ${path[i]}`)
    const set = setClause({...m.patch}, TASK_PATCH, 4)
    const values: Param[] = [final, now, id, ...set.values]
    let sql = `UPDATE tasks SET state = $1, updated_at = $2${set.sql ? `, ${set.sql}` : ''} WHERE id = $3 AND state IN (${m.from.map((_, k) => `$${set.next + k}`).join(', ')})`
    values.push(...m.from)
    if (m.attempt !== undefined) {
      values.push(m.attempt)
      sql += ` AND attempts = $${values.length}`
    }
    // The row lock (PostgreSQL) keeps the state read for the event the one the update changes.
    const before = await db.all<{state: TaskState; notify: string | null}>(`SELECT state, notify FROM tasks WHERE id = $1${db.dialect === 'postgres' ? ' FOR UPDATE' : ''}`, [id])
    const changed = await db.run(sql, values)
    if (changed === 0) return false
    let from: TaskState | null = before[0]?.state ?? null
    const notify = before[0]?.notify ? (JSON.parse(before[0].notify) as Notify) : undefined
    for (const [i, to] of path.entries()) {
      await db.run('INSERT INTO events (task_id, at, from_state, to_state, actor, detail) VALUES ($1, $2, $3, $4, $5, $6)', [id, now, from, to, m.actor, details[i] ?? null])
      // The webhook's call is written with the change that causes it: an outbox the notifier sends from.
      const event = eventOfState(to)
      if (notify && event && notify.on.includes(event)) {
        await db.run('INSERT INTO notifications (task_id, event, state, detail, url, at, attempts, next_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $6)', [id, event, to, details[i] ?? null, notify.url, now])
      }
      from = to
    }
    if (m.attemptPatch && m.attempt !== undefined) await this.patchAttemptIn(db, id, m.attempt, m.attemptPatch)
    return true
  }

  /**
   * Records that `actor` asked for the task's running job (its current attempt's) to be killed, with its event, before
   * the engine is told. False when the task moved on meanwhile. A second request keeps the first asker.
   */
  async requestKill(task: Pick<TaskRow, 'id' | 'state' | 'attempts' | 'engine_job_id' | 'cluster'>, actor: string, now = Date.now()): Promise<boolean> {
    return this.db.tx(async (db) => {
      const changed = await db.run(
        "UPDATE tasks SET kill_requested_by = COALESCE(kill_requested_by, $1), kill_requested_at = COALESCE(kill_requested_at, $2) WHERE id = $3 AND state = $4 AND attempts = $5 AND engine_job_id = $6",
        [actor, now, task.id, task.state, task.attempts, task.engine_job_id],
      )
      if (changed === 0) return false
      await this.note(task.id, task.state, actor, `kill requested: ${task.engine_job_id} on ${task.cluster}`, db)
      return true
    })
  }

  /** The current attempt's job is gone by a kill: the task ends KILLED with it (false when the task moved on). */
  async endKilled(task: Pick<TaskRow, 'id' | 'attempts'>, actor: string, detail: string, now = Date.now()): Promise<boolean> {
    return this.move(task.id, {from: ['SUBMITTED', 'RUNNING'], to: 'KILLED', attempt: task.attempts, actor, detail, now, patch: {finished_at: now}, attemptPatch: {state: 'KILLED', finished_at: now}})
  }

  /** An event that changes no state (a priority change, a note). */
  async note(id: string, state: TaskState, actor: string, detail: string, db: Db = this.db): Promise<void> {
    await db.run('INSERT INTO events (task_id, at, from_state, to_state, actor, detail) VALUES ($1, $2, $3, $3, $4, $5)', [id, Date.now(), state, actor, detail])
  }

  async patchAttempt(id: string, n: number, patch: AttemptPatch): Promise<void> {
    await this.patchAttemptIn(this.db, id, n, patch)
  }

  private async patchAttemptIn(db: Db, id: string, n: number, patch: AttemptPatch): Promise<void> {
    const set = setClause({...patch}, ATTEMPT_PATCH, 3)
    if (!set.sql) return
    await db.run(`UPDATE attempts SET ${set.sql} WHERE task_id = $1 AND n = $2`, [id, n, ...set.values])
  }

  /** Changes a task's priority (while it has not finished), with its event. */
  async setPriority(id: string, priority: number, actor: string): Promise<TaskRow | undefined> {
    return this.db.tx(async (db) => {
      const task = (await db.all<TaskRow>('SELECT * FROM tasks WHERE id = $1', [id]))[0]
      if (!task) return undefined
      if (task.priority === priority) return task
      await db.run('UPDATE tasks SET priority = $1, updated_at = $2 WHERE id = $3', [priority, Date.now(), id])
      await this.note(id, task.state, actor, `priority ${task.priority} -> ${priority}`, db)
      return {...task, priority}
    })
  }

  /**
   * The dispatcher's step, in one exclusive transaction (one server at a time): reads the ready queue and every
   * active task, lets `decide` pick, and marks each pick SUBMITTED with a new attempt row, a lease and its event.
   * `engineName` gives the name the attempt's job gets on its engine.
   */
  async claim(opts: {now: number; owner: string; leaseMs: number; limit: number; actor: string; decide: (ctx: ClaimContext) => Array<{id: string; cluster: string; engine: string; engineName: (task: TaskRow, n: number) => string}>}): Promise<Claimed[]> {
    return this.db.tx(async (db) => {
      // Only what admission needs (a window of up to 500 rows is read on every step, a burst of intake included):
      // the picks are read whole.
      const queued = await db.all<ClaimContext['queued'][number]>(
        "SELECT seq, id, clusters, priority, demand_cores, demand_memory_mb FROM tasks WHERE state = 'QUEUED' AND not_before <= $1 ORDER BY priority DESC, seq ASC LIMIT $2",
        [opts.now, opts.limit],
      )
      if (queued.length === 0) return []
      const active = await db.all<ClaimContext['active'][number]>("SELECT id, cluster, demand_cores, demand_memory_mb FROM tasks WHERE state IN ('SUBMITTED', 'RUNNING')")
      const picks = opts.decide({queued, active})
      const queuedIds = new Set(queued.map((t) => t.id))
      const byId = await this.getMany(db, picks.map((p) => p.id).filter((id) => queuedIds.has(id)))
      const claimed: Claimed[] = []
      for (const pick of picks) {
        const task = byId.get(pick.id)
        if (!task) continue
        const n = task.attempts + 1
        const engineName = pick.engineName(task, n)
        const moved = await this.moveIn(db, task.id, {
          from: ['QUEUED'],
          to: 'SUBMITTED',
          actor: opts.actor,
          detail: `attempt ${n} on ${pick.cluster} (server ${opts.owner})`,
          now: opts.now,
          patch: {attempts: n, cluster: pick.cluster, engine: pick.engine, engine_job_id: null, lease_owner: opts.owner, lease_until: opts.now + opts.leaseMs},
        })
        if (!moved) continue
        const attempt: AttemptRow = {task_id: task.id, n, cluster: pick.cluster, engine: pick.engine, engine_name: engineName, engine_job_id: null, state: 'SUBMITTING', submitted_at: opts.now, started_at: null, finished_at: null, exit_code: null, detail: null}
        await db.run('INSERT INTO attempts (task_id, n, cluster, engine, engine_name, engine_job_id, state, submitted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
          attempt.task_id, attempt.n, attempt.cluster, attempt.engine, attempt.engine_name, null, attempt.state, attempt.submitted_at,
        ])
        claimed.push({task: {...task, state: 'SUBMITTED', attempts: n, cluster: pick.cluster, engine: pick.engine, engine_job_id: null, lease_owner: opts.owner, lease_until: opts.now + opts.leaseMs}, attempt})
      }
      return claimed
    }, {exclusive: true})
  }

  /**
   * The engine accepted the attempt as job `engineJobId`: recorded with the run it counts as. False when the task
   * moved on meanwhile (killed while its submission was in flight): the caller kills that job.
   */
  async recordSubmitted(id: string, n: number, engineJobId: string, actor: string, now = Date.now()): Promise<boolean> {
    return this.db.tx(async (db) => {
      const changed = await db.run(
        "UPDATE tasks SET engine_job_id = $1, runs = runs + 1, lease_owner = NULL, lease_until = NULL, updated_at = $2 WHERE id = $3 AND attempts = $4 AND state = 'SUBMITTED' AND engine_job_id IS NULL",
        [engineJobId, now, id, n],
      )
      if (changed === 0) {
        // Recorded already (a server that took the lease over found it first): the same job, not a second one.
        const now = (await db.all<TaskRow>('SELECT * FROM tasks WHERE id = $1', [id]))[0]
        if (now && now.attempts === n && now.engine_job_id === engineJobId) return true
        await this.patchAttemptIn(db, id, n, {engine_job_id: engineJobId, state: 'KILLED', detail: 'the task was cancelled while its submission was in flight'})
        return false
      }
      await this.patchAttemptIn(db, id, n, {engine_job_id: engineJobId, state: 'SUBMITTED'})
      await this.note(id, 'SUBMITTED', actor, `attempt ${n}: accepted by the engine as ${engineJobId}`, db)
      return true
    })
  }

  /**
   * Submissions whose server stopped renewing their lease (it crashed mid-submission): each is taken over by
   * `owner` (compare-and-set on the lease), to be looked up on its engine by name.
   */
  async takeOverExpired(owner: string, now: number, leaseMs: number): Promise<TaskRow[]> {
    const expired = await this.db.all<TaskRow>("SELECT * FROM tasks WHERE state = 'SUBMITTED' AND engine_job_id IS NULL AND lease_until < $1", [now])
    const mine: TaskRow[] = []
    for (const t of expired) {
      const ok = await this.db.run("UPDATE tasks SET lease_owner = $1, lease_until = $2 WHERE id = $3 AND state = 'SUBMITTED' AND engine_job_id IS NULL AND lease_until = $4", [owner, now + leaseMs, t.id, t.lease_until])
      if (ok === 1) mine.push({...t, lease_owner: owner, lease_until: now + leaseMs})
    }
    return mine
  }

  async countAttempts(id: string, state: string): Promise<number> {
    const rows = await this.db.all<{n: number}>('SELECT COUNT(*) AS n FROM attempts WHERE task_id = $1 AND state = $2', [id, state])
    return Number(rows[0]?.n ?? 0)
  }

  /** The engine job of the task's latest attempt that reached an engine (a native jobfile's rerun starts from it). */
  async lastEngineJob(id: string): Promise<string | undefined> {
    const rows = await this.db.all<{engine_job_id: string}>('SELECT engine_job_id FROM attempts WHERE task_id = $1 AND engine_job_id IS NOT NULL ORDER BY n DESC LIMIT 1', [id])
    return rows[0]?.engine_job_id
  }

  /** Keeps this server's in-flight submissions leased (a crashed server's leases run out). */
  async renewLeases(owner: string, until: number): Promise<void> {
    await this.db.run("UPDATE tasks SET lease_until = $1 WHERE lease_owner = $2 AND state = 'SUBMITTED' AND engine_job_id IS NULL", [until, owner])
  }

  /** Active tasks: submitted or running. */
  async active(): Promise<TaskRow[]> {
    return this.db.all<TaskRow>("SELECT * FROM tasks WHERE state IN ('SUBMITTED', 'RUNNING') ORDER BY seq")
  }

  async attempt(id: string, n: number): Promise<AttemptRow | undefined> {
    return (await this.db.all<AttemptRow>('SELECT * FROM attempts WHERE task_id = $1 AND n = $2', [id, n]))[0]
  }

  /** Counts per state (all tasks). */
  async countByState(): Promise<Array<{state: TaskState; n: number}>> {
    return this.db.all<{state: TaskState; n: number}>('SELECT state, COUNT(*) AS n FROM tasks GROUP BY state')
  }

  /** Queued tasks by first-choice cluster and priority, with the oldest one's creation time. */
  async queueDepth(): Promise<Array<{cluster: string; priority: number; n: number; oldest: number}>> {
    return this.db.all("SELECT cluster, priority, COUNT(*) AS n, MIN(created_at) AS oldest FROM tasks WHERE state = 'QUEUED' GROUP BY cluster, priority ORDER BY cluster, priority DESC")
  }

  async activeByCluster(): Promise<Array<{cluster: string; state: TaskState; n: number}>> {
    return this.db.all("SELECT cluster, state, COUNT(*) AS n FROM tasks WHERE state IN ('QUEUED', 'SUBMITTED', 'RUNNING') GROUP BY cluster, state")
  }

  /**
   * Deletes finished tasks older than `before` with their attempts, events and file references; returns the
   * content hashes no task references any more (their files can go).
   */
  async purge(before: number, limit = 1000): Promise<{tasks: number; orphans: string[]}> {
    return this.db.tx(async (db) => {
      const old = await db.all<{id: string}>("SELECT id FROM tasks WHERE state IN ('SUCCEEDED', 'KILLED', 'DEAD') AND finished_at < $1 ORDER BY finished_at LIMIT $2", [before, limit])
      return deleteTasks(db, old.map((r) => r.id))
    })
  }

  /** Deletes a finished task with its history; false when it is not finished (or gone). */
  async deleteFinished(id: string): Promise<{deleted: boolean; orphans: string[]}> {
    return this.db.tx(async (db) => {
      const rows = await db.all<{id: string}>("SELECT id FROM tasks WHERE id = $1 AND state IN ('SUCCEEDED', 'KILLED', 'DEAD')", [id])
      if (rows.length === 0) return {deleted: false, orphans: []}
      return {deleted: true, orphans: (await deleteTasks(db, [id])).orphans}
    })
  }

  /** Finished runs of a schedule beyond its newest `keep`, deleted with their history. */
  async pruneScheduleRuns(schedule: string, keep: number): Promise<{tasks: number; orphans: string[]}> {
    return this.db.tx(async (db) => {
      const old = await db.all<{id: string}>(
        "SELECT id FROM tasks WHERE schedule = $1 AND state IN ('SUCCEEDED', 'KILLED', 'DEAD') ORDER BY seq DESC LIMIT 1000 OFFSET $2",
        [schedule, keep],
      )
      return deleteTasks(db, old.map((r) => r.id))
    })
  }

  /** The newest tasks of a schedule (its runs), newest first. */
  async scheduleRuns(schedule: string, limit: number): Promise<TaskRow[]> {
    return this.db.all<TaskRow>(`SELECT ${WITHOUT_BODY} FROM tasks WHERE schedule = $1 ORDER BY seq DESC LIMIT $2`, [schedule, limit])
  }

  /** Whether any task or schedule still references this content (an upload of a refused request may then go). */
  async referenced(sha256: string): Promise<boolean> {
    return isReferenced(this.db, sha256)
  }

  // ---- API keys -------------------------------------------------------------------------------------------------

  async createKey(row: Omit<KeyRow, 'revoked_at'>): Promise<boolean> {
    return (await this.db.run('INSERT INTO api_keys (name, scope, hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING', [row.name, row.scope, row.hash, row.created_at])) === 1
  }

  async keyByHash(hash: string): Promise<KeyRow | undefined> {
    return (await this.db.all<KeyRow>('SELECT * FROM api_keys WHERE hash = $1', [hash]))[0]
  }

  async listKeys(): Promise<KeyRow[]> {
    return this.db.all<KeyRow>('SELECT * FROM api_keys ORDER BY name')
  }

  async revokeKey(name: string, now = Date.now()): Promise<boolean> {
    return (await this.db.run('UPDATE api_keys SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL', [now, name])) === 1
  }
}
