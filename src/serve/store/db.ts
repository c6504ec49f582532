import {redactUrl} from '../redact-url.js'

/**
 * The one seam between the queue's SQL and a database: SQLite (embedded, the default) or PostgreSQL. The store's
 * statements are written once, with PostgreSQL's `$1` placeholders; the SQLite side rewrites them to `?1`.
 */
export type Param = string | number | null

export interface Db {
  readonly dialect: 'sqlite' | 'postgres'
  all<T>(sql: string, params?: Param[]): Promise<T[]>
  /** Rows changed. */
  run(sql: string, params?: Param[]): Promise<number>
  /**
   * One transaction. `exclusive`: taken by one writer at a time across every process sharing the database (SQLite:
   * BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock), so that decisions made from what was read
   * inside it hold until it commits.
   */
  tx<T>(fn: (db: Db) => Promise<T>, opts?: {exclusive?: boolean}): Promise<T>
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>
  close(): Promise<void>
}

/** Opens the database a `--db` value names: a postgres:// URL, else a SQLite file path. */
export async function openDb(target: string): Promise<Db> {
  if (/^postgres(ql)?:\/\//i.test(target)) {
    const {openPostgres} = await import('./postgres-db.js')
    return openPostgres(target)
  }
  const {openSqlite} = await import('./sqlite-db.js')
  return openSqlite(target)
}

/** Where a --db value points, without its password, for logs. */
export function describeDb(target: string): string {
  return /^postgres(ql)?:\/\//i.test(target) ? redactUrl(target) : target
}
