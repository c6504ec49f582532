import type {Db} from './db.js'
import {isReferenced, type FileRef} from './store.js'

/** One row of `schedules`. */
export interface ScheduleRow {
  name: string
  cron: string
  time_zone: string
  /** JSON: the task as POST /task takes it. */
  task: string
  concurrency: 'allow' | 'forbid' | 'replace'
  suspended: number
  history: number
  next_run_at: number | null
  last_run_at: number | null
  last_task_id: string | null
  /** Why the last tick started no run (skipped, refused), or null. */
  last_note: string | null
  created_by: string
  created_at: number
  updated_at: number
}

export type ScheduleFields = Pick<ScheduleRow, 'name' | 'cron' | 'time_zone' | 'task' | 'concurrency' | 'suspended' | 'history' | 'next_run_at'>

/** The schedules table: plain rows, and the compare-and-set that makes each tick fire once across servers. */
export class ScheduleStore {
  constructor(readonly db: Db) {}

  async create(s: ScheduleFields, files: readonly FileRef[], actor: string, now = Date.now()): Promise<boolean> {
    return this.db.tx(async (db) => {
      const made = await db.run(
        `INSERT INTO schedules (name, cron, time_zone, task, concurrency, suspended, history, next_run_at, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) ON CONFLICT (name) DO NOTHING`,
        [s.name, s.cron, s.time_zone, s.task, s.concurrency, s.suspended, s.history, s.next_run_at, actor, now],
      )
      if (made !== 1) return false
      await this.setFiles(db, s.name, files)
      return true
    })
  }

  /**
   * Replaces the definition and its files (keeps what the schedule did so far); false when there is no such
   * schedule. Returns the contents nothing references any more.
   */
  async replace(s: ScheduleFields, files: readonly FileRef[], now = Date.now()): Promise<{replaced: boolean; orphans: string[]}> {
    return this.db.tx(async (db) => {
      const changed = await db.run(
        'UPDATE schedules SET cron = $2, time_zone = $3, task = $4, concurrency = $5, suspended = $6, history = $7, next_run_at = $8, last_note = NULL, updated_at = $9 WHERE name = $1',
        [s.name, s.cron, s.time_zone, s.task, s.concurrency, s.suspended, s.history, s.next_run_at, now],
      )
      if (changed !== 1) return {replaced: false, orphans: []}
      return {replaced: true, orphans: await this.setFiles(db, s.name, files)}
    })
  }

  /** The schedule's files become `files`; returns the contents of the old ones nothing references any more. */
  private async setFiles(db: Db, name: string, files: readonly FileRef[]): Promise<string[]> {
    const old = await db.all<{sha256: string}>('SELECT sha256 FROM schedule_files WHERE schedule = $1', [name])
    await db.run('DELETE FROM schedule_files WHERE schedule = $1', [name])
    for (const f of files) await db.run('INSERT INTO schedule_files (schedule, name, sha256, size) VALUES ($1, $2, $3, $4)', [name, f.name, f.sha256, f.size])
    const orphans: string[] = []
    for (const {sha256} of old) if (!(await isReferenced(db, sha256))) orphans.push(sha256)
    return orphans
  }

  async files(name: string): Promise<FileRef[]> {
    return this.db.all<FileRef>('SELECT name, sha256, size FROM schedule_files WHERE schedule = $1 ORDER BY name', [name])
  }

  async get(name: string): Promise<ScheduleRow | undefined> {
    return (await this.db.all<ScheduleRow>('SELECT * FROM schedules WHERE name = $1', [name]))[0]
  }

  async list(): Promise<ScheduleRow[]> {
    return this.db.all<ScheduleRow>('SELECT * FROM schedules ORDER BY name')
  }

  /** Deletes the schedule and its file rows; returns whether it existed and the contents nothing references any more. */
  async remove(name: string): Promise<{removed: boolean; orphans: string[]}> {
    return this.db.tx(async (db) => {
      if ((await db.run('DELETE FROM schedules WHERE name = $1', [name])) !== 1) return {removed: false, orphans: []}
      return {removed: true, orphans: await this.setFiles(db, name, [])}
    })
  }

  /** Schedules whose next run is due at `now`, earliest first. */
  async due(now: number): Promise<ScheduleRow[]> {
    return this.db.all<ScheduleRow>('SELECT * FROM schedules WHERE suspended = 0 AND next_run_at IS NOT NULL AND next_run_at <= $1 ORDER BY next_run_at', [now])
  }

  /** The earliest next run of any active schedule. */
  async earliest(): Promise<number | undefined> {
    const [row] = await this.db.all<{t: number | null}>('SELECT MIN(next_run_at) AS t FROM schedules WHERE suspended = 0')
    return row?.t === null || row?.t === undefined ? undefined : Number(row.t)
  }

  /**
   * Moves a due tick on, only if no one else has (its next_run_at is still `tick`): the caller that gets true owns
   * the tick. Run inside the transaction that inserts the run's task, so both happen or neither.
   */
  async advance(db: Db, name: string, tick: number, next: number | null, result: {taskId?: string; note?: string}, now: number): Promise<boolean> {
    const sets = result.taskId ? 'last_run_at = $4, last_task_id = $5, last_note = NULL' : 'last_note = $5'
    return (
      (await db.run(`UPDATE schedules SET next_run_at = $3, ${sets}, updated_at = $4 WHERE name = $1 AND next_run_at = $2`, [name, tick, next, now, result.taskId ?? result.note ?? null])) === 1
    )
  }

  /** A run started by hand: the schedule's last run, its next one unchanged. */
  async ranByHand(name: string, taskId: string, now: number): Promise<void> {
    await this.db.run('UPDATE schedules SET last_run_at = $2, last_task_id = $3, last_note = NULL WHERE name = $1', [name, now, taskId])
  }
}
