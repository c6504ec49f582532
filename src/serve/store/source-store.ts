import {FINISHED, type TaskState} from '../queue/states.js'
import type {Db} from './db.js'

/** One row of `sources`: a job source made through POST /mgmt/sources. */
export interface SourceRow {
  name: string
  /** JSON: the source as posted (may hold a password in a URL). */
  config: string
  created_by: string
  created_at: number
}

/** A task of a source reaching a final state: what a completion event is made from. */
export interface CompletionRow {
  id: number
  task_id: string
  at: number
  to_state: TaskState
  detail: string | null
}

const FINAL = [...FINISHED]
const POSTGRES_LAG_MS = 5000

/** The sources made through the API, and how far each source has published its tasks' completion events. */
export class SourceStore {
  constructor(readonly db: Db) {}

  async list(): Promise<SourceRow[]> {
    return this.db.all<SourceRow>('SELECT name, config, created_by, created_at FROM sources ORDER BY name')
  }

  /** False when a source of that name exists already. */
  async create(row: SourceRow): Promise<boolean> {
    return (await this.db.run('INSERT INTO sources (name, config, created_by, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING', [row.name, row.config, row.created_by, row.created_at])) === 1
  }

  /** Removes the source and its cursor; false when there was none. */
  async remove(name: string): Promise<boolean> {
    return this.db.tx(async (db) => {
      const removed = await db.run('DELETE FROM sources WHERE name = $1', [name])
      await db.run('DELETE FROM source_cursors WHERE name = $1', [name])
      return removed === 1
    })
  }

  /**
   * The id of the last event the source published; made on the first call as the newest event's id (a new source
   * publishes what happens from then on).
   */
  async cursor(name: string): Promise<number> {
    const rows = await this.db.all<{seq: number | string}>('SELECT seq FROM source_cursors WHERE name = $1', [name])
    if (rows[0]) return Number(rows[0].seq)
    await this.db.run('INSERT INTO source_cursors (name, seq) SELECT $1, COALESCE(MAX(id), 0) FROM events WHERE true ON CONFLICT (name) DO NOTHING', [name])
    return Number((await this.db.all<{seq: number | string}>('SELECT seq FROM source_cursors WHERE name = $1', [name]))[0]!.seq)
  }

  async advance(name: string, seq: number): Promise<void> {
    await this.db.run('UPDATE source_cursors SET seq = $2 WHERE name = $1 AND seq < $2', [name, seq])
  }

  /**
   * The moves into a final state of the source's tasks after event `after`, oldest first. On PostgreSQL an event's
   * id is taken before its transaction commits, so a later id may be seen first: events younger than
   * POSTGRES_LAG_MS are left for the next look, so the cursor does not pass one still being written (a state
   * change's transaction is short). SQLite writes one transaction at a time: ids commit in order.
   */
  async completions(source: string, after: number, limit: number, now = Date.now()): Promise<CompletionRow[]> {
    const before = this.db.dialect === 'postgres' ? now - POSTGRES_LAG_MS : now
    const marks = FINAL.map((_, i) => `$${i + 5}`).join(', ')
    const rows = await this.db.all<CompletionRow & {id: number | string}>(
      `SELECT e.id, e.task_id, e.at, e.to_state, e.detail FROM events e JOIN tasks t ON t.id = e.task_id
       WHERE e.id > $1 AND e.at <= $2 AND t.source = $3 AND e.to_state IN (${marks}) AND (e.from_state IS NULL OR e.from_state <> e.to_state)
       ORDER BY e.id LIMIT $4`,
      [after, before, source, limit, ...FINAL],
    )
    return rows.map((r) => ({...r, id: Number(r.id), at: Number(r.at)}))
  }
}
