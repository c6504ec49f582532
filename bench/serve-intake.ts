// The client half of bench/serve-intake.sh (which bundles this file with esbuild and runs it once per phase).
// Each phase prints one JSON line on stdout; progress goes to stderr. Subcommands:
//
//   cms    --url U --cluster C --tasks N --batch B --tag T [--read-every MS --read-max M --after-reads M]
//          (the API key in the environment: BENCH_SERVE_KEY, never on a command line)
//          POST /tasks batches (one in flight) of N tasks that name cluster C and ask for more cores than any
//          cluster has (resources.cores 100000), so admission keeps every one QUEUED; meanwhile a second loop
//          GETs /task/{id} of tasks already accepted, one request at a time, one every MS ms, at most M. After the
//          intake, M' more GETs on the quiet service (the same ids, the same pace): the per-request cost without
//          the intake running. Checks with GET /mgmt/queue that all N tasks are queued.
//   pgboss --pg URL --schema S --tasks N --batch B [--read-every MS --read-max M --after-reads M]
//          The peer: pg-boss (its own schema S, dropped and made anew before the phase) inserting the same N jobs
//          (the same JSON payloads) with boss.insert(), B per call, one call in flight; meanwhile
//          boss.getJobById() on inserted jobs, paced as above. Checks the queue holds N jobs.
//   store  --pg URL --schema S --tasks N --batch B [--tag T]
//          The service's own store (src/serve/store) alone, in this process: the same N tasks as the service writes
//          them (task and QUEUED event rows; the spec parsed once, before the clock), B per insertTasks() call, one
//          call in flight, into schema S made anew and migrated as `cms serve` does. No HTTP, no key, no validation,
//          no service loops: the database's share of a cms batch, to set against pg-boss's whole one.
//   schema --pg URL --schema S [--drop]
//          Drops schema S (CASCADE) and, without --drop, makes it again: a fresh database for one cms phase.
//
// Timing: performance.now() around the whole intake (first request sent to last answer received); every body is
// serialized before the clock starts. Bounded: N <= 100000, every request has a 120 s timeout, reads are capped.
import {randomUUID} from 'node:crypto'
import {performance} from 'node:perf_hooks'
import {parseArgs} from 'node:util'
import pg from 'pg'
import PgBoss from 'pg-boss'
import {migrate} from '../src/serve/store/migrate.js'
import {openPostgres} from '../src/serve/store/postgres-db.js'
import {TaskStore, type NewTask} from '../src/serve/store/store.js'
import {parseTask} from '../src/serve/task-input.js'

const {positionals, values: opt} = parseArgs({
  allowPositionals: true,
  options: {
    url: {type: 'string'},
    cluster: {type: 'string'},
    pg: {type: 'string'},
    schema: {type: 'string'},
    tasks: {type: 'string', default: '10000'},
    batch: {type: 'string', default: '500'},
    tag: {type: 'string', default: 'r1'},
    'read-every': {type: 'string', default: '5'},
    'read-max': {type: 'string', default: '2000'},
    'after-reads': {type: 'string', default: '200'},
    drop: {type: 'boolean', default: false},
  },
})

const log = (s: string) => process.stderr.write(`[serve-intake] ${s}\n`)
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
function int(name: keyof typeof opt, lo: number, hi: number): number {
  const n = Number(opt[name])
  if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`--${name}: expected a whole number from ${lo} to ${hi}`)
  return n
}
function need(name: 'url' | 'cluster' | 'pg' | 'schema'): string {
  const v = opt[name]
  if (!v) throw new Error(`--${name} is required`)
  return v
}

const TASKS = int('tasks', 1, 100_000)
const BATCH = int('batch', 1, 1000)
const READ_EVERY = int('read-every', 0, 10_000)
const READ_MAX = int('read-max', 0, 100_000)
const AFTER_READS = int('after-reads', 0, 100_000)

/** The job every task carries: Spark's pi.py from a URL (nothing to upload), one small executor. */
const SPEC = {name: 'pi', app: 'https://example.invalid/pi.py', args: ['2'], executor: {instances: 1, cores: 1, memory: '512m'}}

interface Latencies {
  n: number
  errors: number
  p50Ms: number | null
  p99Ms: number | null
  maxMs: number | null
}

function summary(ms: number[], errors: number): Latencies {
  const s = [...ms].sort((a, b) => a - b)
  const q = (p: number) => (s.length ? round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!) : null)
  return {n: s.length, errors, p50Ms: q(50), p99Ms: q(99), maxMs: s.length ? round(s[s.length - 1]!) : null}
}
const round = (x: number) => Math.round(x * 100) / 100

/**
 * The sampling loop: one read at a time, `every` ms apart, of a random id among those accepted so far, until
 * `done()` or `max` reads. Returns every latency.
 */
async function sampler(ids: string[], read: (id: string) => Promise<boolean>, done: () => boolean, max: number, every: number): Promise<{ms: number[]; errors: number}> {
  const ms: number[] = []
  let errors = 0
  while (ids.length === 0 && !done()) await sleep(1)
  for (let i = 0; i < max && !done(); i++) {
    const id = ids[Math.floor(Math.random() * ids.length)]!
    const t0 = performance.now()
    const ok = await read(id).catch(() => false)
    ms.push(performance.now() - t0)
    if (!ok) errors++
    if (every > 0) await sleep(every)
  }
  return {ms, errors}
}

async function cmsPhase(): Promise<void> {
  const url = need('url').replace(/\/$/, '')
  const key = process.env.BENCH_SERVE_KEY
  if (!key) throw new Error('BENCH_SERVE_KEY (the API key) is required')
  const auth = {authorization: `Bearer ${key}`}
  const cluster = need('cluster')
  const tag = opt.tag!
  const bodies: Array<{ids: string[]; body: string}> = []
  for (let i = 0; i < TASKS; i += BATCH) {
    const ids = Array.from({length: Math.min(BATCH, TASKS - i)}, (_, k) => `${tag}-${i + k}`)
    const tasks = ids.map((id) => ({id, cluster, spec: SPEC, resources: {cores: 100_000, memory: '1g'}}))
    bodies.push({ids, body: JSON.stringify({tasks})})
  }
  const read = async (id: string) => {
    const r = await fetch(`${url}/task/${encodeURIComponent(id)}`, {headers: auth, signal: AbortSignal.timeout(120_000)})
    const view = (await r.json()) as {state?: string}
    return r.status === 200 && view.state === 'QUEUED'
  }
  // Warm the connection and the server's code paths (auth, the route) outside the timed window.
  const health = await fetch(`${url}/mgmt/queue`, {headers: auth})
  if (health.status !== 200) throw new Error(`GET /mgmt/queue: HTTP ${health.status}: ${await health.text()}`)

  const accepted: string[] = []
  const batchMs: number[] = []
  let finished = false
  const reads = sampler(accepted, read, () => finished, READ_MAX, READ_EVERY)
  const t0 = performance.now()
  try {
    for (const {ids, body} of bodies) {
      const b0 = performance.now()
      const r = await fetch(`${url}/tasks`, {method: 'POST', headers: {...auth, 'content-type': 'application/json'}, body, signal: AbortSignal.timeout(120_000)})
      const text = await r.text()
      if (r.status !== 201) throw new Error(`POST /tasks: HTTP ${r.status}: ${text.slice(0, 300)}`)
      const res = JSON.parse(text) as {created: number}
      if (res.created !== ids.length) throw new Error(`POST /tasks: created ${res.created} of ${ids.length}`)
      batchMs.push(performance.now() - b0)
      accepted.push(...ids)
    }
  } finally {
    finished = true
  }
  const wallMs = performance.now() - t0
  const during = await reads
  // The same reads on the quiet service: what a read costs with N tasks queued and nothing else running.
  const after = await sampler(accepted, read, () => false, AFTER_READS, READ_EVERY)
  const q = (await (await fetch(`${url}/mgmt/queue`, {headers: auth})).json()) as {queued: number; submitted: number; running: number}
  if (q.queued < TASKS || q.submitted + q.running > 0) throw new Error(`after the intake the service reports ${JSON.stringify(q)}: expected ${TASKS} queued and none admitted`)
  console.log(JSON.stringify({side: 'cms', tasks: TASKS, batch: BATCH, wallMs: round(wallMs), perSecond: Math.round((TASKS / wallMs) * 1000), batchP50Ms: summary(batchMs, 0).p50Ms, batchMaxMs: summary(batchMs, 0).maxMs, readsDuring: summary(during.ms, during.errors), readsAfter: summary(after.ms, after.errors), queued: q.queued}))
}

async function pgbossPhase(): Promise<void> {
  const url = need('pg')
  const schema = need('schema')
  await dropSchema(url, schema, true) // pg-boss makes its schema itself
  const boss = new PgBoss({connectionString: url, schema, application_name: 'bench pg-boss'})
  boss.on('error', (e: Error) => log(`pg-boss: ${e.message}`))
  await boss.start()
  const queue = 'bench'
  await boss.createQueue(queue)
  const batches: PgBoss.JobInsert[][] = []
  for (let i = 0; i < TASKS; i += BATCH) {
    batches.push(Array.from({length: Math.min(BATCH, TASKS - i)}, () => ({id: randomUUID(), name: queue, data: {cluster: 'benchq', spec: SPEC, resources: {cores: 100_000, memory: '1g'}}})))
  }
  const read = async (id: string) => (await boss.getJobById(queue, id)) !== null
  const inserted: string[] = []
  const batchMs: number[] = []
  let finished = false
  const reads = sampler(inserted, read, () => finished, READ_MAX, READ_EVERY)
  const t0 = performance.now()
  try {
    for (const jobs of batches) {
      const b0 = performance.now()
      await boss.insert(jobs)
      batchMs.push(performance.now() - b0)
      inserted.push(...jobs.map((j) => j.id!))
    }
  } finally {
    finished = true
  }
  const wallMs = performance.now() - t0
  const during = await reads
  const after = await sampler(inserted, read, () => false, AFTER_READS, READ_EVERY)
  const size = await boss.getQueueSize(queue)
  await boss.stop({graceful: false, wait: true})
  if (size < TASKS) throw new Error(`pg-boss holds ${size} jobs, expected ${TASKS}`)
  console.log(JSON.stringify({side: 'pg-boss', tasks: TASKS, batch: BATCH, wallMs: round(wallMs), perSecond: Math.round((TASKS / wallMs) * 1000), batchP50Ms: summary(batchMs, 0).p50Ms, batchMaxMs: summary(batchMs, 0).maxMs, readsDuring: summary(during.ms, during.errors), readsAfter: summary(after.ms, after.errors), queued: size}))
}

async function storePhase(): Promise<void> {
  const schema = need('schema')
  await dropSchema(need('pg'), schema, false)
  const url = new URL(need('pg'))
  url.searchParams.set('options', `-c search_path=${schema}`)
  const db = await openPostgres(url.toString())
  try {
    await migrate(db)
    const store = new TaskStore(db)
    const t = parseTask({cluster: 'benchq', spec: SPEC, resources: {cores: 100_000, memory: '1g'}})
    const body = JSON.stringify(t.spec)
    const batches: NewTask[][] = []
    for (let i = 0; i < TASKS; i += BATCH) {
      batches.push(Array.from({length: Math.min(BATCH, TASKS - i)}, (_, k) => ({id: `${opt.tag}-${i + k}`, name: t.name, kind: t.kind, body, clusters: t.clusters, engine: 'spark', priority: t.priority, retries: t.retries, demand: t.demand!, files: []})))
    }
    const batchMs: number[] = []
    const t0 = performance.now()
    for (const tasks of batches) {
      const b0 = performance.now()
      const stored = await store.insertTasks(tasks, 'bench')
      if (stored.some((s) => !s.created)) throw new Error('the store found some of the tasks already there')
      batchMs.push(performance.now() - b0)
    }
    const wallMs = performance.now() - t0
    const queued = Number((await db.all<{n: number}>("SELECT COUNT(*) AS n FROM tasks WHERE state = 'QUEUED'"))[0]!.n)
    if (queued !== TASKS) throw new Error(`the store holds ${queued} queued tasks, expected ${TASKS}`)
    console.log(JSON.stringify({side: 'store', tasks: TASKS, batch: BATCH, wallMs: round(wallMs), perSecond: Math.round((TASKS / wallMs) * 1000), batchP50Ms: summary(batchMs, 0).p50Ms, batchMaxMs: summary(batchMs, 0).maxMs, queued}))
  } finally {
    await db.close()
  }
}

async function dropSchema(url: string, schema: string, dropOnly: boolean): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`--schema: not a plain lowercase identifier: ${schema}`)
  const client = new pg.Client({connectionString: url})
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    if (!dropOnly) await client.query(`CREATE SCHEMA ${schema}`)
  } finally {
    await client.end()
  }
}

async function main(): Promise<void> {
  switch (positionals[0]) {
    case 'cms':
      return cmsPhase()
    case 'pgboss':
      return pgbossPhase()
    case 'store':
      return storePhase()
    case 'schema':
      return dropSchema(need('pg'), need('schema'), opt.drop!)
    default:
      throw new Error('usage: serve-intake cms|pgboss|store|schema [options] (see the header of bench/serve-intake.ts)')
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    log(`ERROR: ${error.message}`)
    process.exit(1)
  },
)
