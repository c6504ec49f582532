import {mkdirSync} from 'node:fs'
import {dirname} from 'node:path'
import Database from 'better-sqlite3'
import type {Db, Param} from './db.js'

/** `$1` -> `@p1`: better-sqlite3 binds named parameters from an object (it takes no `?1`). */
function toSqlite(sql: string): string {
  return sql.replace(/\$(\d+)/g, '@p$1')
}

function named(params: Param[]): Record<string, Param> {
  const out: Record<string, Param> = {}
  params.forEach((v, i) => (out[`p${i + 1}`] = v))
  return out
}

/**
 * One connection, WAL, synchronous=FULL (a commit is on disk before a response is sent). Statements are synchronous;
 * a transaction holds a lock in this process too, so that no other request's statement runs inside it while it
 * awaits.
 */
class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const
  private readonly cache = new Map<string, Database.Statement>()
  private chain: Promise<unknown> = Promise.resolve()
  private inTx = false

  constructor(private readonly db: Database.Database) {}

  private stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql)
    if (!s) {
      s = this.db.prepare(toSqlite(sql))
      if (this.cache.size > 500) this.cache.clear()
      this.cache.set(sql, s)
    }
    return s
  }

  private rawAll<T>(sql: string, params: Param[]): T[] {
    const s = this.stmt(sql)
    return (s.reader ? s.all(named(params)) : (s.run(named(params)), [])) as T[]
  }

  private rawRun(sql: string, params: Param[]): number {
    return this.stmt(sql).run(named(params)).changes
  }

  /** Waits until no transaction is open, then runs `fn` in the same tick (so none can open in between). */
  private async outside<T>(fn: () => T): Promise<T> {
    for (let i = 0; this.inTx && i < 1_000_000; i++) await this.chain
    return fn()
  }

  all<T>(sql: string, params: Param[] = []): Promise<T[]> {
    return this.outside(() => this.rawAll<T>(sql, params))
  }

  run(sql: string, params: Param[] = []): Promise<number> {
    return this.outside(() => this.rawRun(sql, params))
  }

  async tx<T>(fn: (db: Db) => Promise<T>, opts: {exclusive?: boolean} = {}): Promise<T> {
    const previous = this.chain
    let release!: () => void
    this.chain = new Promise<void>((r) => (release = r))
    await previous
    for (let i = 0; this.inTx && i < 1_000_000; i++) await new Promise((r) => setImmediate(r))
    this.inTx = true
    const inner: Db = {
      dialect: 'sqlite',
      all: async <R>(sql: string, params: Param[] = []) => this.rawAll<R>(sql, params),
      run: async (sql: string, params: Param[] = []) => this.rawRun(sql, params),
      tx: (f) => f(inner),
      exec: async (sql: string) => void this.db.exec(sql),
      close: async () => undefined,
    }
    try {
      this.db.exec(opts.exclusive ? 'BEGIN IMMEDIATE' : 'BEGIN')
      try {
        const result = await fn(inner)
        this.db.exec('COMMIT')
        return result
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK')
        throw error
      }
    } finally {
      this.inTx = false
      release()
    }
  }

  async exec(sql: string): Promise<void> {
    await this.outside(() => this.db.exec(sql))
  }

  async close(): Promise<void> {
    await this.chain
    this.db.close()
  }
}

export function openSqlite(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), {recursive: true, mode: 0o700})
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('busy_timeout = 5000')
  db.pragma('foreign_keys = ON')
  return new SqliteDb(db)
}
