import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {packageRoot} from '../../config/package-root.js'
import type {Db} from './db.js'

/** The numbered plain-SQL migrations of a dialect, in order: `NNN-name.sql`. */
export function migrationFiles(dialect: Db['dialect']): Array<{version: number; name: string; sql: string}> {
  const dir = join(packageRoot(), 'src', 'serve', 'store', 'migrations', dialect)
  return readdirSync(dir)
    .map((file) => /^(\d+)-(.+)\.sql$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({version: Number(m[1]), name: m[2]!, sql: readFileSync(join(dir, m[0]), 'utf8')}))
    .sort((a, b) => a.version - b.version)
}

/**
 * Applies the migrations not applied yet, each in its own transaction with its row in schema_migrations. Several
 * servers starting at once on one PostgreSQL: the exclusive transaction makes one of them apply, the others see it
 * done.
 */
export async function migrate(db: Db): Promise<number[]> {
  const applied: number[] = []
  for (const m of migrationFiles(db.dialect)) {
    const done = await db.tx(async (tx) => {
      // Inside the lock: two PostgreSQL servers creating the table at once would collide on its type name.
      await tx.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)')
      const rows = await tx.all<{version: number}>('SELECT version FROM schema_migrations WHERE version = $1', [m.version])
      if (rows.length > 0) return false
      await tx.exec(m.sql)
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()])
      return true
    }, {exclusive: true})
    if (done) applied.push(m.version)
  }
  return applied
}
