import pg from 'pg'
import type {Db, Param} from './db.js'

/** Every server process takes this advisory lock for the exclusive transactions (dispatch). */
const DISPATCH_LOCK = 0x636d7301

type Queryable = pg.Pool | pg.PoolClient

class PostgresDb implements Db {
  readonly dialect = 'postgres' as const

  constructor(
    private readonly pool: pg.Pool,
    private readonly client?: pg.PoolClient,
  ) {}

  private get q(): Queryable {
    return this.client ?? this.pool
  }

  async all<T>(sql: string, params: Param[] = []): Promise<T[]> {
    return (await this.q.query(sql, params)).rows as T[]
  }

  async run(sql: string, params: Param[] = []): Promise<number> {
    return (await this.q.query(sql, params)).rowCount ?? 0
  }

  async tx<T>(fn: (db: Db) => Promise<T>, opts: {exclusive?: boolean} = {}): Promise<T> {
    if (this.client) return fn(this)
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      if (opts.exclusive) await client.query('SELECT pg_advisory_xact_lock($1)', [DISPATCH_LOCK])
      const result = await fn(new PostgresDb(this.pool, client))
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
  }

  async exec(sql: string): Promise<void> {
    await this.q.query(sql)
  }

  async close(): Promise<void> {
    await this.pool.end()
  }
}

/** BIGINT columns (times in ms, counts) come back as numbers; every value the store keeps fits in 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === 20) return (v: string) => Number(v)
    return pg.types.getTypeParser(oid, format as 'text')
  }) as typeof pg.types.getTypeParser,
}

export async function openPostgres(url: string): Promise<Db> {
  const pool = new pg.Pool({connectionString: url, max: 10, types, application_name: 'cms serve'})
  // A dropped idle connection must not crash the service; the next query opens a new one.
  pool.on('error', () => undefined)
  return new PostgresDb(pool)
}
