import {randomBytes} from 'node:crypto'
import {execFileSync, type ChildProcess} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {cms, startCms} from './helpers.js'

/** Spark's own pi.py, from the runtime the clusters run (CMS_SPARK_DIST), unpacked once under `work`: its path. */
export function piPyPath(work: string): string {
  const dist = process.env.CMS_SPARK_DIST
  if (!dist) throw new Error('CMS_SPARK_DIST is not set: run through scripts/test.sh')
  const dir = join(work, 'runtime')
  if (!existsSync(join(dir, '.done'))) {
    mkdirSync(dir, {recursive: true})
    execFileSync('tar', ['-xzf', dist, '-C', dir, '--wildcards', '*/examples/src/main/python/pi.py'])
    writeFileSync(join(dir, '.done'), '')
  }
  const home = readdirSync(dir).find((d) => d.startsWith('spark-'))!
  return join(dir, home, 'examples', 'src', 'main', 'python', 'pi.py')
}

/** One `cms serve` process of a test: its URL, how to call it, how to stop it (cleanly or with SIGKILL). */
export interface TestServer {
  url: string
  child: ChildProcess
  output: () => string
  call: (method: string, path: string, opts?: {key?: string; json?: unknown; form?: FormData; raw?: string; contentType?: string}) => Promise<{status: number; body: any; text: string}>
  stop: () => Promise<void>
  kill9: () => Promise<void>
}

/** Starts `cms serve` on a free loopback port and waits until it says where it listens (bounded). */
export async function startServer(env: Record<string, string>, args: string[] = []): Promise<TestServer> {
  const {child, done} = startCms(['serve', '--listen', '127.0.0.1:0', '--log-level', 'warn', ...args], env)
  let out = ''
  let err = ''
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()))
  const deadline = Date.now() + 60_000
  let url = ''
  for (let i = 0; i < 600 && Date.now() < deadline && !url; i++) {
    url = /listening on (\S+)/.exec(out)?.[1] ?? ''
    if (!url && child.exitCode !== null) break
    if (!url) await new Promise((r) => setTimeout(r, 100))
  }
  if (!url) {
    child.kill('SIGKILL')
    throw new Error(`cms serve did not start: ${err}`)
  }
  const call: TestServer['call'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = {}
    if (opts.key) headers.authorization = `Bearer ${opts.key}`
    let body: BodyInit | undefined
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(opts.json)
    } else if (opts.raw !== undefined) {
      headers['content-type'] = opts.contentType ?? 'application/json'
      body = opts.raw
    } else if (opts.form) body = opts.form
    const res = await fetch(`${url}${path}`, {method, headers, body, signal: AbortSignal.timeout(120_000)})
    const text = await res.text()
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
    return {status: res.status, body: parsed, text}
  }
  return {
    url,
    child,
    output: () => err,
    call,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      await Promise.race([done, new Promise((r) => setTimeout(r, 30_000))])
      if (child.exitCode === null) child.kill('SIGKILL')
    },
    kill9: async () => {
      child.kill('SIGKILL')
      await done
    },
  }
}

/** A key of the given scope, made with the CLI against the service's database. */
export async function makeKey(env: Record<string, string>, name: string, scope: string, db?: string): Promise<string> {
  const r = await cms(['serve', 'keys', 'create', '--name', name, '--scope', scope, ...(db ? ['--db', db] : [])], env)
  if (r.code !== 0) throw new Error(`keys create failed: ${r.stderr}`)
  return r.stdout.trim()
}

/** A multipart task: the task JSON and files (name -> content). */
export function taskForm(task: unknown, files: Record<string, string | Buffer>): FormData {
  const form = new FormData()
  form.append('task', JSON.stringify(task))
  for (const [name, content] of Object.entries(files)) form.append('files', new Blob([content]), name)
  return form
}

/**
 * A PostgreSQL schema of this test run's own on the server scripts/postgres.sh started (CMS_TEST_PG_URL): a URL
 * whose connections use it, and a drop. Undefined without a server, unless CMS_TEST_REQUIRE_PG=1 (then it throws).
 */
export async function freshPgSchema(): Promise<{url: string; drop: () => Promise<void>} | undefined> {
  const base = process.env.CMS_TEST_PG_URL
  if (!base) {
    if (process.env.CMS_TEST_REQUIRE_PG === '1') throw new Error('CMS_TEST_PG_URL is not set: run through scripts/test.sh (it starts PostgreSQL with scripts/postgres.sh)')
    return undefined
  }
  const schema = `t_${randomBytes(6).toString('hex')}`
  const {default: pg} = await import('pg')
  const admin = new pg.Client({connectionString: base})
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.end()
  const url = new URL(base)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({connectionString: base})
      await c.connect()
      await c.query(`DROP SCHEMA ${schema} CASCADE`)
      await c.end()
    },
  }
}

/**
 * The RabbitMQ broker scripts/rabbitmq.sh started (CMS_TEST_AMQP_URL). Undefined without one, unless
 * CMS_TEST_REQUIRE_AMQP=1 (then it throws).
 */
export function testAmqpUrl(): string | undefined {
  const url = process.env.CMS_TEST_AMQP_URL
  if (!url && process.env.CMS_TEST_REQUIRE_AMQP === '1') throw new Error('CMS_TEST_AMQP_URL is not set: run through scripts/test.sh (it starts RabbitMQ with scripts/rabbitmq.sh)')
  return url || undefined
}

/** Polls the service until every task is in one of `states` (bounded); returns the tasks. */
export async function waitForTasks(server: TestServer, key: string, ids: string[], states: string[], timeoutMs: number): Promise<any[]> {
  const deadline = Date.now() + timeoutMs
  let last: any[] = []
  for (let i = 0; i < 2000 && Date.now() < deadline; i++) {
    last = await Promise.all(ids.map(async (id) => (await server.call('GET', `/task/${encodeURIComponent(id)}`, {key})).body))
    if (last.every((t) => t && states.includes(t.state))) return last
    await new Promise((r) => setTimeout(r, 1000))
  }
  throw new Error(`tasks not all ${states.join('/')}: ${last.map((t) => `${t?.id}=${t?.state}`).join(', ')}`)
}

/** A cluster's audit trail (autoscaler actions), read from the service's SQLite database under CMS_HOME. */
export function clusterEvents(home: string, cluster: string): Array<{kind: string; actor: string; detail: string}> {
  const db = new Database(join(home, 'serve.db'), {readonly: true})
  try {
    return db.prepare('SELECT kind, actor, detail FROM cluster_events WHERE cluster = ? ORDER BY id').all(cluster) as Array<{kind: string; actor: string; detail: string}>
  } finally {
    db.close()
  }
}
