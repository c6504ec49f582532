import {redactUrl} from '../redact-url.js'
import pg from 'pg'
import {UsageError} from '../../remote/errors.js'
import {ApiError} from '../errors.js'
import {FINISHED} from '../queue/states.js'
import type {NewTask} from '../store/store.js'
import type {SqlSourceConfig} from './config.js'
import {PolledSource, type SourceHost} from './source.js'
import {taskOfJson} from './task-file.js'

const BATCH = 100

/** A name from the config (checked there to be plain), quoted as an SQL identifier; `schema.table` part by part. */
const q = (name: string) =>
  name
    .split('.')
    .map((p) => `"${p}"`)
    .join('.')

/**
 * A PostgreSQL table as a source: rows whose status is `pending` become tasks (the row's task column holds a task as
 * POST /task takes it, or a bare job spec, as JSON); the row then gets status `queued` and the task's id, and once
 * the task ends its final state (`succeeded`, `dead`, `killed`). A row that is refused gets `refused` and the reason.
 * A task's id comes from the row's id, so a crash between queueing and writing the row queues nothing twice.
 */
export class SqlSource extends PolledSource {
  private pool?: pg.Pool

  constructor(
    readonly config: SqlSourceConfig,
    private readonly host: SourceHost,
    log: (line: string) => void,
  ) {
    super(config.name, config.intervalMs, {kind: 'sql', from: `${redactUrl(config.url)} ${config.table}`}, log)
  }

  override async close(): Promise<void> {
    await this.pool?.end().catch(() => undefined)
  }

  async step(): Promise<void> {
    try {
      this.pool ??= this.openPool()
      await this.takePending(this.pool)
      await this.writeBack(this.pool)
      this.health.ok()
    } catch (error) {
      // The database is down or the table is not as configured: reported, and tried again on the next step.
      this.health.fail((error as Error).message.split('\n')[0]!)
    }
  }

  private openPool(): pg.Pool {
    const pool = new pg.Pool({connectionString: this.config.url, max: 2, application_name: `cms serve source ${this.config.name}`, connectionTimeoutMillis: 10_000})
    pool.on('error', () => undefined)
    return pool
  }

  private async takePending(pool: pg.Pool): Promise<void> {
    const c = this.config.columns
    const table = q(this.config.table)
    const rows = (await pool.query(`SELECT ${q(c.id)} AS id, ${q(c.task)}::text AS task FROM ${table} WHERE ${q(c.status)} = $1 ORDER BY ${q(c.id)} LIMIT ${BATCH}`, [this.config.pending])).rows as Array<{id: unknown; task: string | null}>
    for (const row of rows) {
      const id = `${this.config.name}-${String(row.id)}`
      let task: NewTask
      try {
        const raw = taskOfJson(row.task, this.config.cluster, 'row')
        ;[task] = (await this.host.prepare([{raw}], false)) as [NewTask]
      } catch (error) {
        if (!(error instanceof UsageError || error instanceof ApiError)) throw error
        await pool.query(`UPDATE ${table} SET ${q(c.status)} = 'refused', ${q(c.error)} = $1 WHERE ${q(c.id)} = $2 AND ${q(c.status)} = $3`, [error.message, row.id, this.config.pending])
        this.health.counts.refused++
        continue
      }
      const [stored] = await this.host.store.insertTasks([{...task, id, source: this.config.name, note: `from row ${String(row.id)} of ${this.config.table} (source ${this.config.name})`}], `source:${this.config.name}`)
      if (stored!.created) this.host.queued()
      await pool.query(`UPDATE ${table} SET ${q(c.status)} = 'queued', ${q(c.taskId)} = $1 WHERE ${q(c.id)} = $2 AND ${q(c.status)} = $3`, [id, row.id, this.config.pending])
      this.health.counts.queued++
    }
  }

  /** Rows whose task has ended get its final state. */
  private async writeBack(pool: pg.Pool): Promise<void> {
    const c = this.config.columns
    const table = q(this.config.table)
    const rows = (await pool.query(`SELECT ${q(c.taskId)} AS task_id FROM ${table} WHERE ${q(c.status)} = 'queued' AND ${q(c.taskId)} IS NOT NULL LIMIT 1000`)).rows as Array<{task_id: string}>
    const states = await this.host.store.states(rows.map((r) => r.task_id))
    for (const [taskId, state] of states) {
      if (!FINISHED.has(state)) continue
      await pool.query(`UPDATE ${table} SET ${q(c.status)} = $1 WHERE ${q(c.taskId)} = $2 AND ${q(c.status)} = 'queued'`, [state.toLowerCase(), taskId])
    }
  }
}
