import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import pg from 'pg'
import {afterAll, afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {Db} from '../../src/serve/store/db.js'
import {migrate, migrationFiles} from '../../src/serve/store/migrate.js'
import {openPostgres} from '../../src/serve/store/postgres-db.js'
import {openSqlite} from '../../src/serve/store/sqlite-db.js'
import {SourceStore} from '../../src/serve/store/source-store.js'
import {TaskStore, type ClaimContext, type FileRef, type NewTask, type TaskRow} from '../../src/serve/store/store.js'
import {parseSchedule} from '../../src/serve/schedules/schedule-input.js'
import {Schedules, type ScheduleHost} from '../../src/serve/schedules/schedules.js'
import {ClusterEventStore} from '../../src/serve/store/cluster-event-store.js'
import {Notifier} from '../../src/serve/notify/notifier.js'
import {signature} from '../../src/serve/notify/webhook.js'
import {createServer, type IncomingMessage} from 'node:http'

// The job service's store, on SQLite (better-sqlite3 is built for Node 20 only, so these tests live in the e2e
// suite) and, when CMS_TEST_PG_URL is set (scripts/postgres.sh prints it), every case again on PostgreSQL in a
// schema of its own that is dropped afterwards. CMS_TEST_REQUIRE_PG=1 makes a missing server a failure, not a skip.

const PG_URL = process.env.CMS_TEST_PG_URL
const REQUIRE_PG = process.env.CMS_TEST_REQUIRE_PG === '1'
const RUN = randomBytes(4).toString('hex')

interface Opened {
  db: Db
  /** PostgreSQL: the schema the connections use. */
  schema?: string
  close(): Promise<void>
}

interface Backend {
  name: string
  /** A new, empty database (not migrated). */
  open(): Promise<Opened>
  /** After every test of the backend. */
  finish?(): Promise<void>
}

const sqlite: Backend = {
  name: 'sqlite',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'cms-store-'))
    const db = openSqlite(join(dir, 'queue.db'))
    return {
      db,
      async close() {
        await db.close()
        rmSync(dir, {recursive: true, force: true})
      },
    }
  },
}

function postgres(): Backend {
  let admin: pg.Client | undefined
  let n = 0
  const prefix = `t_${RUN}_`
  return {
    name: 'postgres',
    async open() {
      if (!PG_URL) throw new Error('CMS_TEST_REQUIRE_PG=1 but CMS_TEST_PG_URL is not set: start a server with eval "$(bash scripts/postgres.sh)" (scripts/test.sh does)')
      if (!admin) {
        admin = new pg.Client({connectionString: PG_URL})
        await admin.connect()
      }
      const schema = `${prefix}${++n}`
      await admin.query(`CREATE SCHEMA ${schema}`)
      const url = new URL(PG_URL)
      url.searchParams.set('options', `-c search_path=${schema}`)
      const db = await openPostgres(url.toString())
      return {
        db,
        schema,
        async close() {
          await db.close()
          await admin!.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
        },
      }
    },
    async finish() {
      if (!admin) return
      // Anything a failed test left behind.
      const left = await admin.query<{nspname: string}>('SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)', [prefix])
      for (const {nspname} of left.rows) await admin.query(`DROP SCHEMA IF EXISTS ${nspname} CASCADE`)
      await admin.end()
      admin = undefined
    },
  }
}

const sha = (c: string) => c.repeat(64)
const file = (name: string, c: string): FileRef => ({name, sha256: sha(c), size: 10})
const newTask = (id: string, over: Partial<NewTask> = {}): NewTask => ({
  id,
  name: 'pi',
  kind: 'spec',
  body: JSON.stringify({name: 'pi', app: 'pi.py'}),
  clusters: ['c1'],
  engine: 'spark',
  priority: 0,
  retries: 0,
  demand: {cores: 1, memoryMb: 1024},
  files: [],
  ...over,
})
type Pick = ReturnType<Parameters<TaskStore['claim']>[0]['decide']>[number]
const pick = (id: string, cluster = 'c1', engine = 'spark'): Pick => ({id, cluster, engine, engineName: (t: TaskRow, n: number) => `${t.name}-${n}`})

function storeCases(backend: Backend): void {
  let opened: Opened | undefined
  let db: Db
  let store: TaskStore
  let firstMigration: number[]

  beforeEach(async () => {
    opened = await backend.open()
    db = opened.db
    firstMigration = await migrate(db)
    store = new TaskStore(db)
  })
  afterEach(async () => {
    await opened?.close()
    opened = undefined
  })
  afterAll(async () => {
    await backend.finish?.()
  })

  /** Claims exactly these picks at `now` (owner srv-1, lease 1000 ms). */
  const claim = (picks: Pick[], now = 1000, owner = 'srv-1') => store.claim({now, owner, leaseMs: 1000, limit: 100, actor: 'service', decide: () => picks})
  const eventsOf = async (id: string) => (await store.events(id)).map((e) => ({from: e.from_state, to: e.to_state, actor: e.actor, detail: e.detail}))
  const count = async (sql: string, params: Array<string | number> = []) => Number((await db.all<{n: number}>(sql, params))[0]!.n)

  it('migrates an empty database once; a second run applies nothing', async () => {
    expect(migrationFiles(db.dialect).map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(firstMigration).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(await migrate(db)).toEqual([])
    expect(await migrate(db)).toEqual([])
    const rows = await db.all<{version: number; name: string}>('SELECT version, name FROM schema_migrations ORDER BY version')
    expect(rows.map((r) => ({version: Number(r.version), name: r.name}))).toEqual([
      {version: 1, name: 'queue'},
      {version: 2, name: 'schedules'},
      {version: 3, name: 'sessions'},
      {version: 4, name: 'notifications'},
      {version: 5, name: 'sources'},
      {version: 6, name: 'cluster-scaling'},
      {version: 7, name: 'partial-indexes'},
      {version: 8, name: 'kill-intent'},
    ])
    await store.ping()
    if (opened!.schema) {
      // The tables are in this test's own schema, not in public.
      expect((await db.all<{s: string}>('SELECT current_schema() AS s'))[0]!.s).toBe(opened!.schema)
      expect(await count("SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'tasks'", [opened!.schema])).toBe(1)
    }
  })

  it('insertTasks: a new task is QUEUED with one event and its files', async () => {
    const [r] = await store.insertTasks([newTask('a', {clusters: ['c2', 'c1'], priority: 4, retries: 2, demand: {cores: 2.5, memoryMb: 3072}, files: [file('z.py', 'b'), file('a.zip', 'a')]})], 'alice', 5000)
    expect(r!.created).toBe(true)
    expect(r!.task).toEqual({
      seq: expect.any(Number),
      id: 'a',
      name: 'pi',
      kind: 'spec',
      body: '{"name":"pi","app":"pi.py"}',
      clusters: '["c2","c1"]',
      cluster: 'c2',
      engine: 'spark',
      priority: 4,
      retries: 2,
      demand_cores: 2.5,
      demand_memory_mb: 3072,
      state: 'QUEUED',
      attempts: 0,
      runs: 0,
      not_before: 0,
      engine_job_id: null,
      lease_owner: null,
      lease_until: null,
      created_by: 'alice',
      created_at: 5000,
      updated_at: 5000,
      finished_at: null,
      schedule: null,
      source: null,
      notify: null,
      kill_requested_by: null,
      kill_requested_at: null,
    })
    expect(await store.get('a')).toEqual(r!.task)
    expect(await eventsOf('a')).toEqual([{from: null, to: 'QUEUED', actor: 'alice', detail: null}])
    expect(await store.files('a')).toEqual([file('a.zip', 'a'), file('z.py', 'b')])
    expect(await store.get('nope')).toBeUndefined()
  })

  it('insertTasks is idempotent by id: the same id again is not created, changes nothing and writes no event', async () => {
    const first = await store.insertTasks([newTask('a', {priority: 1, files: [file('x.py', 'a')]})], 'alice', 1000)
    const again = await store.insertTasks([newTask('a', {priority: 9, name: 'other', files: [file('y.py', 'b')]})], 'bob', 2000)
    expect(again).toEqual([{task: first[0]!.task, created: false}])
    expect(await count('SELECT COUNT(*) AS n FROM tasks')).toBe(1)
    expect(await eventsOf('a')).toEqual([{from: null, to: 'QUEUED', actor: 'alice', detail: null}])
    expect(await store.files('a')).toEqual([file('x.py', 'a')])
    // In a batch: results in the batch's order, only the new ones created (with the note on their event).
    const batch = await store.insertTasks([newTask('b', {note: 'not checked yet'}), newTask('a'), newTask('c')], 'carol', 3000)
    expect(batch.map((b) => [b.task.id, b.created, b.task.created_by])).toEqual([
      ['b', true, 'carol'],
      ['a', false, 'alice'],
      ['c', true, 'carol'],
    ])
    expect(await eventsOf('b')).toEqual([{from: null, to: 'QUEUED', actor: 'carol', detail: 'not checked yet'}])
    expect(await count("SELECT COUNT(*) AS n FROM events WHERE to_state = 'QUEUED'")).toBe(3)
  })

  it('insertTasks: a batch larger than one statement chunk', async () => {
    const tasks = Array.from({length: 450}, (_, i) => newTask(`t${String(i).padStart(3, '0')}`, {files: [file('f.py', 'c')]}))
    const r = await store.insertTasks(tasks, 'bulk', 1000)
    expect(r.filter((x) => x.created)).toHaveLength(450)
    expect(r.map((x) => x.task.id)).toEqual(tasks.map((t) => t.id))
    expect(await count('SELECT COUNT(*) AS n FROM tasks')).toBe(450)
    expect(await count('SELECT COUNT(*) AS n FROM events')).toBe(450)
    expect(await count('SELECT COUNT(*) AS n FROM task_files')).toBe(450)
  })

  it('claim: offers ready tasks best first, marks each pick SUBMITTED with an attempt row, an event and a lease', async () => {
    await store.insertTasks([newTask('low'), newTask('high1', {priority: 5}), newTask('high2', {priority: 5}), newTask('later')], 'alice', 100)
    await db.run('UPDATE tasks SET not_before = $1 WHERE id = $2', [5000, 'later'])
    let seen: ClaimContext | undefined
    const claimed = await store.claim({
      now: 1000,
      owner: 'srv-1',
      leaseMs: 15_000,
      limit: 100,
      actor: 'service',
      decide: (ctx) => {
        seen = ctx
        return [pick('high2', 'c2', 'nomad'), pick('ghost')]
      },
    })
    expect(seen!.queued.map((t) => t.id)).toEqual(['high1', 'high2', 'low'])
    expect(seen!.active).toEqual([])
    expect(claimed).toHaveLength(1)
    const {task, attempt} = claimed[0]!
    expect(task).toMatchObject({id: 'high2', state: 'SUBMITTED', attempts: 1, cluster: 'c2', engine: 'nomad', engine_job_id: null, lease_owner: 'srv-1', lease_until: 16_000})
    expect(attempt).toEqual({task_id: 'high2', n: 1, cluster: 'c2', engine: 'nomad', engine_name: 'pi-1', engine_job_id: null, state: 'SUBMITTING', submitted_at: 1000, started_at: null, finished_at: null, exit_code: null, detail: null})
    expect(await store.attempt('high2', 1)).toEqual(attempt)
    expect(await store.attempts('high2')).toEqual([attempt])
    expect(await store.get('high2')).toMatchObject({state: 'SUBMITTED', attempts: 1, runs: 0, cluster: 'c2', engine: 'nomad', lease_owner: 'srv-1', lease_until: 16_000, updated_at: 1000})
    const events = await eventsOf('high2')
    expect(events).toHaveLength(2)
    expect(events[1]).toMatchObject({from: 'QUEUED', to: 'SUBMITTED', actor: 'service'})
    expect(events[1]!.detail).toMatch(/^attempt 1 on c2\b/)
    for (const id of ['high1', 'low', 'later']) expect((await store.get(id))!.state).toBe('QUEUED')
    expect(await store.get('ghost')).toBeUndefined()
    expect(await count('SELECT COUNT(*) AS n FROM attempts')).toBe(1)

    // The next step sees it as active, and no longer offers it; the limit caps what is offered.
    const again = await store.claim({now: 1000, owner: 'srv-1', leaseMs: 15_000, limit: 1, actor: 'service', decide: (ctx) => ((seen = ctx), [pick('high2'), pick('low')])})
    expect(again).toEqual([])
    expect(seen!.queued.map((t) => t.id)).toEqual(['high1'])
    expect(seen!.active).toEqual([{id: 'high2', cluster: 'c2', demand_cores: 1, demand_memory_mb: 1024}])
    // A task waiting for its retry time is offered once that time has come.
    seen = undefined
    await store.claim({now: 5000, owner: 'srv-1', leaseMs: 15_000, limit: 100, actor: 'service', decide: (ctx) => ((seen = ctx), [])})
    expect(seen!.queued.map((t) => t.id)).toEqual(['high1', 'low', 'later'])
  })

  it('claim: an empty queue does not call decide', async () => {
    let called = false
    expect(await store.claim({now: 1, owner: 'o', leaseMs: 1, limit: 10, actor: 'service', decide: () => ((called = true), [])})).toEqual([])
    expect(called).toBe(false)
  })

  it('claim is exclusive: two claims at once never take the same task twice', async () => {
    const ids = Array.from({length: 20}, (_, i) => `t${i}`)
    await store.insertTasks(ids.map((id) => newTask(id)), 'alice', 100)
    const all = (ctx: ClaimContext) => ctx.queued.map((t) => pick(t.id))
    const [a, b, c] = await Promise.all([1, 2, 3].map((k) => store.claim({now: 1000, owner: `srv-${k}`, leaseMs: 1000, limit: 100, actor: 'service', decide: all})))
    const got = [...a!, ...b!, ...c!].map((x) => x.task.id)
    expect(got.sort()).toEqual([...ids].sort())
    expect(await count('SELECT COUNT(*) AS n FROM attempts')).toBe(20)
    expect(await count("SELECT COUNT(*) AS n FROM events WHERE to_state = 'SUBMITTED'")).toBe(20)
  })

  it('move is a compare-and-set: the wrong from-state changes nothing and writes no event', async () => {
    await store.insertTasks([newTask('a')], 'alice', 100)
    expect(await store.move('a', {from: ['RUNNING', 'SUBMITTED'], to: 'KILLED', actor: 'bob', now: 200})).toBe(false)
    expect(await store.move('nope', {from: ['QUEUED'], to: 'KILLED', actor: 'bob', now: 200})).toBe(false)
    expect(await store.get('a')).toMatchObject({state: 'QUEUED', updated_at: 100, finished_at: null})
    expect(await eventsOf('a')).toHaveLength(1)
    expect(await store.move('a', {from: ['QUEUED'], to: 'KILLED', actor: 'bob', detail: 'cancelled', now: 300, patch: {finished_at: 300}})).toBe(true)
    expect(await store.get('a')).toMatchObject({state: 'KILLED', updated_at: 300, finished_at: 300})
    expect(await eventsOf('a')).toEqual([
      {from: null, to: 'QUEUED', actor: 'alice', detail: null},
      {from: 'QUEUED', to: 'KILLED', actor: 'bob', detail: 'cancelled'},
    ])
    // Moved already: the same move again is refused.
    expect(await store.move('a', {from: ['QUEUED'], to: 'KILLED', actor: 'bob', now: 400})).toBe(false)
    expect(await eventsOf('a')).toHaveLength(2)
  })

  it('move: a path (FAILED, then QUEUED) writes one event per step; the attempt guard and the attempt patch', async () => {
    await store.insertTasks([newTask('a', {retries: 2})], 'alice', 100)
    await claim([pick('a')], 1000)
    expect(await store.recordSubmitted('a', 1, 'app-1', 'service', 1100)).toBe(true)
    expect(await store.move('a', {from: ['SUBMITTED'], to: 'RUNNING', attempt: 1, actor: 'service', now: 1200, attemptPatch: {state: 'RUNNING', started_at: 1200}})).toBe(true)
    // Not the current attempt: refused, nothing written.
    expect(await store.move('a', {from: ['RUNNING'], to: ['FAILED', 'QUEUED'], attempt: 2, actor: 'service', now: 1300, attemptPatch: {state: 'FAILED'}})).toBe(false)
    expect((await store.attempt('a', 1))!.state).toBe('RUNNING')
    const before = (await store.events('a')).length
    expect(
      await store.move('a', {
        from: ['SUBMITTED', 'RUNNING'],
        to: ['FAILED', 'QUEUED'],
        attempt: 1,
        actor: 'service',
        detail: ['attempt 1: app-1 failed (exit 3)', 'retry 1 of 2 in 5 s'],
        now: 1400,
        patch: {not_before: 6400, engine_job_id: null},
        attemptPatch: {state: 'FAILED', finished_at: 1400, exit_code: 3, detail: 'attempt 1: app-1 failed (exit 3)'},
      }),
    ).toBe(true)
    const events = await eventsOf('a')
    expect(events).toHaveLength(before + 2)
    expect(events.slice(-2)).toEqual([
      {from: 'RUNNING', to: 'FAILED', actor: 'service', detail: 'attempt 1: app-1 failed (exit 3)'},
      {from: 'FAILED', to: 'QUEUED', actor: 'service', detail: 'retry 1 of 2 in 5 s'},
    ])
    expect(await store.get('a')).toMatchObject({state: 'QUEUED', not_before: 6400, engine_job_id: null, attempts: 1, runs: 1, updated_at: 1400})
    expect(await store.attempt('a', 1)).toMatchObject({state: 'FAILED', engine_job_id: 'app-1', started_at: 1200, finished_at: 1400, exit_code: 3, detail: 'attempt 1: app-1 failed (exit 3)'})
    expect(await store.lastEngineJob('a')).toBe('app-1')
  })

  it('move: a column that may not be patched is refused and nothing is written', async () => {
    await store.insertTasks([newTask('a')], 'alice', 100)
    await expect(store.move('a', {from: ['QUEUED'], to: 'KILLED', actor: 'x', patch: {state: 'RUNNING'} as never})).rejects.toThrow('not a patchable column: state')
    expect((await store.get('a'))!.state).toBe('QUEUED')
    expect(await eventsOf('a')).toHaveLength(1)
  })

  it('recordSubmitted: the engine job id, a run counted, the lease released, a note; false once the task moved on', async () => {
    await store.insertTasks([newTask('a'), newTask('b')], 'alice', 100)
    await claim([pick('a'), pick('b')], 1000)
    expect(await store.recordSubmitted('a', 1, 'app-1', 'service', 1500)).toBe(true)
    expect(await store.get('a')).toMatchObject({state: 'SUBMITTED', engine_job_id: 'app-1', runs: 1, lease_owner: null, lease_until: null, updated_at: 1500})
    expect(await store.attempt('a', 1)).toMatchObject({engine_job_id: 'app-1', state: 'SUBMITTED'})
    expect((await eventsOf('a')).at(-1)).toEqual({from: 'SUBMITTED', to: 'SUBMITTED', actor: 'service', detail: 'attempt 1: accepted by the engine as app-1'})
    expect((await store.active()).map((t) => t.id)).toEqual(['a', 'b'])
    // The wrong attempt number: not recorded.
    expect(await store.recordSubmitted('b', 2, 'app-x', 'service')).toBe(false)
    expect((await store.get('b'))!.engine_job_id).toBeNull()
    // b is cancelled while its submission is in flight: the engine's answer is not recorded, its attempt says KILLED.
    expect(await store.move('b', {from: ['SUBMITTED'], to: 'KILLED', attempt: 1, actor: 'bob', detail: 'cancelled while being submitted', patch: {finished_at: 1600, lease_owner: null, lease_until: null}})).toBe(true)
    const n = (await store.events('b')).length
    expect(await store.recordSubmitted('b', 1, 'app-2', 'service', 1700)).toBe(false)
    expect(await store.get('b')).toMatchObject({state: 'KILLED', engine_job_id: null, runs: 0})
    expect(await store.attempt('b', 1)).toMatchObject({engine_job_id: 'app-2', state: 'KILLED'})
    expect(await store.events('b')).toHaveLength(n)
  })

  it('requestKill: recorded with its event on the running job only; the first asker is kept; a rerun clears it', async () => {
    await store.insertTasks([newTask('k')], 'alice', 100)
    await claim([pick('k')], 1000)
    // No job yet: nothing to kill on an engine (cancel moves such a task itself).
    expect(await store.requestKill((await store.get('k'))!, 'bob', 1100)).toBe(false)
    expect(await store.recordSubmitted('k', 1, 'app-1', 'service', 1200)).toBe(true)
    const running = (await store.get('k'))!
    expect(await store.requestKill(running, 'bob', 1300)).toBe(true)
    expect(await store.get('k')).toMatchObject({state: 'SUBMITTED', kill_requested_by: 'bob', kill_requested_at: 1300, updated_at: 1200})
    expect((await eventsOf('k')).at(-1)).toEqual({from: 'SUBMITTED', to: 'SUBMITTED', actor: 'bob', detail: 'kill requested: app-1 on c1'})
    // A second request: its own event, the first asker and time kept.
    expect(await store.requestKill(running, 'carol', 1400)).toBe(true)
    expect(await store.get('k')).toMatchObject({kill_requested_by: 'bob', kill_requested_at: 1300})
    expect((await eventsOf('k')).at(-1)).toMatchObject({actor: 'carol', detail: 'kill requested: app-1 on c1'})
    // What was read is stale (another attempt, another job, another state): nothing is recorded.
    const n = (await store.events('k')).length
    for (const stale of [{attempts: 2}, {engine_job_id: 'app-0'}, {state: 'RUNNING' as const}]) expect(await store.requestKill({...running, ...stale}, 'dave')).toBe(false)
    expect(await store.events('k')).toHaveLength(n)
    // Ended, then run again: the new run carries no kill.
    expect(await store.move('k', {from: ['SUBMITTED'], to: 'KILLED', attempt: 1, actor: 'bob', patch: {finished_at: 1500}})).toBe(true)
    expect(await store.move('k', {from: ['KILLED'], to: 'QUEUED', actor: 'alice', detail: 'rerun', patch: {finished_at: null, engine_job_id: null, kill_requested_by: null, kill_requested_at: null}})).toBe(true)
    expect(await store.get('k')).toMatchObject({state: 'QUEUED', kill_requested_by: null, kill_requested_at: null})
  })

  it('takeOverExpired: only unrecorded submissions whose lease ran out, each taken by one server', async () => {
    await store.insertTasks([newTask('a'), newTask('b'), newTask('c')], 'alice', 100)
    await claim([pick('a'), pick('b'), pick('c')], 1000, 'old') // leases until 2000
    await store.recordSubmitted('b', 1, 'app-b', 'service')
    expect(await store.takeOverExpired('new', 1999, 500)).toEqual([])
    await store.renewLeases('old', 3000)
    expect(await store.takeOverExpired('new', 2500, 500)).toEqual([])
    const taken = await store.takeOverExpired('new', 3001, 500)
    expect(taken.map((t) => [t.id, t.lease_owner, t.lease_until]).sort()).toEqual([
      ['a', 'new', 3501],
      ['c', 'new', 3501],
    ])
    expect(await store.get('a')).toMatchObject({state: 'SUBMITTED', lease_owner: 'new', lease_until: 3501})
    expect(await store.get('b')).toMatchObject({lease_owner: null, lease_until: null})
    // Taken: another server finds nothing until that lease runs out too.
    expect(await store.takeOverExpired('other', 3100, 500)).toEqual([])
    expect((await store.takeOverExpired('other', 3600, 500)).map((t) => t.id).sort()).toEqual(['a', 'c'])
  })

  it('position: queued tasks of the same first-choice cluster ahead of it (priority, then age)', async () => {
    await store.insertTasks([newTask('a'), newTask('b', {priority: 5}), newTask('c', {priority: 5}), newTask('d'), newTask('e', {priority: 9, clusters: ['c2', 'c1']})], 'alice', 100)
    const pos = async (id: string) => store.position((await store.get(id))!)
    expect(await Promise.all(['a', 'b', 'c', 'd', 'e'].map(pos))).toEqual([2, 0, 1, 3, 0])
    await claim([pick('b')])
    expect(await Promise.all(['a', 'c', 'd'].map(pos))).toEqual([1, 0, 2])
  })

  it('detail: the task, its attempts, its files and (while queued) its position, as the single reads give them', async () => {
    await store.insertTasks([newTask('a'), newTask('b', {priority: 5, files: [file('z.py', 'z'), file('a.zip', 'a')]}), newTask('c', {priority: 5}), newTask('d', {clusters: ['c2']})], 'alice', 100)
    await claim([pick('b')])
    await store.recordSubmitted('b', 1, 'app-1', 'service', 1100)
    expect(await store.detail('nope')).toBeUndefined()
    for (const id of ['a', 'b', 'c', 'd']) {
      const task = (await store.get(id))!
      const expected = {task, attempts: await store.attempts(id), files: await store.files(id), ...(task.state === 'QUEUED' ? {position: await store.position(task)} : {})}
      expect(await store.detail(id)).toEqual(expected)
    }
    const b = (await store.detail('b'))!
    expect(b.position).toBeUndefined()
    expect(b.attempts).toMatchObject([{task_id: 'b', n: 1, engine_job_id: 'app-1', submitted_at: 1000}])
    expect(b.files.map((f) => f.name)).toEqual(['a.zip', 'z.py'])
    expect([(await store.detail('c'))!.position, (await store.detail('a'))!.position, (await store.detail('d'))!.position]).toEqual([0, 1, 0])
  })

  it('list: newest first, filters, and cursor paging', async () => {
    await store.insertTasks([newTask('t1'), newTask('t2', {clusters: ['c2']}), newTask('t3')], 'alice', 1000)
    await store.insertTasks([newTask('t4', {clusters: ['c2']}), newTask('t5')], 'alice', 2000)
    await store.move('t3', {from: ['QUEUED'], to: 'KILLED', actor: 'bob'})
    const ids = (rows: TaskRow[]) => rows.map((r) => r.id)
    const p1 = await store.list({limit: 2})
    expect(ids(p1)).toEqual(['t5', 't4'])
    const p2 = await store.list({limit: 2, cursor: p1.at(-1)!.seq})
    expect(ids(p2)).toEqual(['t3', 't2'])
    const p3 = await store.list({limit: 2, cursor: p2.at(-1)!.seq})
    expect(ids(p3)).toEqual(['t1'])
    expect(ids(await store.list({limit: 2, cursor: p3.at(-1)!.seq}))).toEqual([])
    expect(ids(await store.list({limit: 10, cluster: 'c2'}))).toEqual(['t4', 't2'])
    expect(ids(await store.list({limit: 10, state: 'KILLED'}))).toEqual(['t3'])
    expect(ids(await store.list({limit: 10, since: 2000}))).toEqual(['t5', 't4'])
    expect(ids(await store.list({limit: 10, state: 'QUEUED', cluster: 'c1', since: 1000}))).toEqual(['t5', 't1'])
    expect(ids(await store.list({limit: 10, state: 'QUEUED', cursor: p1[0]!.seq, cluster: 'c2'}))).toEqual(['t4', 't2'])
  })

  it('purge: finished tasks older than the cut go with their attempts, events and files; unreferenced content comes back', async () => {
    await store.insertTasks(
      [
        newTask('old1', {files: [file('x.py', 'a'), file('y.zip', 'b')]}),
        newTask('old2', {files: [file('y.zip', 'b')]}),
        newTask('keep', {files: [file('z.py', 'c')]}),
        newTask('live', {files: [file('x.py', 'a')]}),
      ],
      'alice',
      10,
    )
    await claim([pick('old1')], 50)
    await store.recordSubmitted('old1', 1, 'app-1', 'service', 60)
    await store.move('old1', {from: ['SUBMITTED'], to: 'SUCCEEDED', attempt: 1, actor: 'service', patch: {finished_at: 100}, attemptPatch: {state: 'SUCCEEDED', finished_at: 100}})
    await store.move('old2', {from: ['QUEUED'], to: 'KILLED', actor: 'bob', patch: {finished_at: 200}})
    await store.move('keep', {from: ['QUEUED'], to: 'KILLED', actor: 'service', patch: {finished_at: 5000}})
    expect(await store.purge(1000)).toEqual({tasks: 2, orphans: [sha('b')]})
    for (const id of ['old1', 'old2']) {
      expect(await store.get(id)).toBeUndefined()
      expect(await store.events(id)).toEqual([])
      expect(await store.attempts(id)).toEqual([])
      expect(await store.files(id)).toEqual([])
    }
    expect(await store.referenced(sha('a'))).toBe(true)
    expect(await store.referenced(sha('b'))).toBe(false)
    expect(await store.referenced(sha('c'))).toBe(true)
    expect(await store.purge(1000)).toEqual({tasks: 0, orphans: []})
    // A limit: the oldest first.
    expect(await store.purge(10_000, 1)).toEqual({tasks: 1, orphans: [sha('c')]})
    expect(await store.get('keep')).toBeUndefined()
    expect((await store.get('live'))!.state).toBe('QUEUED')
  })

  it('setPriority: changed with a note; the same priority writes nothing', async () => {
    await store.insertTasks([newTask('a')], 'alice', 100)
    expect(await store.setPriority('a', 9, 'bob')).toMatchObject({id: 'a', priority: 9})
    expect((await store.get('a'))!.priority).toBe(9)
    expect((await eventsOf('a')).at(-1)).toEqual({from: 'QUEUED', to: 'QUEUED', actor: 'bob', detail: 'priority 0 -> 9'})
    await store.setPriority('a', 9, 'bob')
    expect(await store.events('a')).toHaveLength(2)
    expect(await store.setPriority('nope', 1, 'bob')).toBeUndefined()
  })

  it('counts: by state, queue depth by first-choice cluster and priority, active by cluster', async () => {
    await store.insertTasks([newTask('a'), newTask('b', {priority: 5}), newTask('c', {priority: 5}), newTask('d', {clusters: ['c2']})], 'alice', 100)
    await store.insertTasks([newTask('e', {priority: 5})], 'alice', 50)
    await claim([pick('a')])
    const num = <T extends Record<string, unknown>>(rows: T[]) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v])))
    const byState = (await store.countByState()).sort((x, y) => x.state.localeCompare(y.state))
    expect(num(byState)).toEqual([
      {state: 'QUEUED', n: 4},
      {state: 'SUBMITTED', n: 1},
    ])
    expect(num(await store.queueDepth())).toEqual([
      {cluster: 'c1', priority: 5, n: 3, oldest: 50},
      {cluster: 'c2', priority: 0, n: 1, oldest: 100},
    ])
    const active = (await store.activeByCluster()).sort((x, y) => `${x.cluster}${x.state}`.localeCompare(`${y.cluster}${y.state}`))
    expect(num(active)).toEqual([
      {cluster: 'c1', state: 'QUEUED', n: 3},
      {cluster: 'c1', state: 'SUBMITTED', n: 1},
      {cluster: 'c2', state: 'QUEUED', n: 1},
    ])
  })

  // ---- schedules: the scheduler's step against the real database, with the task service stubbed ----------------

  const MIN = 60_000
  const T0 = Date.parse('2026-12-03T20:00:00Z')
  /** A scheduler on this database; its host queues what the schedule's task says and records what it cancels. */
  const scheduler = (cancelled: string[] = []) => {
    const host: ScheduleHost = {
      store,
      files: {remove: () => undefined} as never,
      prepare: async (raws) => raws.map((r) => newTask('ignored', {name: String((r.raw as {spec: {name: string}}).spec.name), files: [...(r.uploads?.values() ?? [])]})),
      cancel: async (id) => {
        cancelled.push(id)
        await store.move(id, {from: ['QUEUED', 'SUBMITTED', 'RUNNING'], to: 'KILLED', actor: 'x', patch: {finished_at: 1}})
      },
      queued: () => undefined,
    }
    return new Schedules(host, () => undefined)
  }
  const addSchedule = async (s: Schedules, raw: Record<string, unknown>, files: FileRef[] = []) => {
    const {fields} = parseSchedule({cron: '* * * * *', task: {cluster: 'c1', spec: {name: 'tick'}}, ...raw}, T0 - 30_000)
    expect(await s.rows.create(fields, files, 'alice', T0 - 30_000)).toBe(true)
  }
  const runsOf = async (name: string) => (await store.scheduleRuns(name, 100)).map((t) => t.id).sort()

  it('schedules: a due tick becomes one task linked to its schedule; the next run moves on', async () => {
    const s = scheduler()
    await addSchedule(s, {name: 'm'}, [file('pi.py', 'p')])
    expect((await s.rows.get('m'))!.next_run_at).toBe(T0)
    expect(await s.step(T0 - 1000)).toBeGreaterThanOrEqual(0)
    expect(await runsOf('m')).toEqual([])
    await s.step(T0 + 1500)
    expect(await runsOf('m')).toEqual(['m-20261203T2000Z'])
    const task = (await store.get('m-20261203T2000Z'))!
    expect({schedule: task.schedule, state: task.state, actor: task.created_by}).toEqual({schedule: 'm', state: 'QUEUED', actor: 'schedule:m'})
    expect(await store.files(task.id)).toEqual([file('pi.py', 'p')])
    expect(await eventsOf(task.id)).toEqual([{from: null, to: 'QUEUED', actor: 'schedule:m', detail: 'run of schedule m due at 2026-12-03T20:00:00.000Z'}])
    expect(await s.rows.get('m')).toMatchObject({next_run_at: T0 + MIN, last_run_at: T0 + 1500, last_task_id: 'm-20261203T2000Z', last_note: null})
    await s.step(T0 + 1600)
    expect(await runsOf('m')).toEqual(['m-20261203T2000Z'])
    // Run now: one more run, recorded as the last one; the next tick stays.
    const byHand = await s.runNow('m', 'alice')
    expect(await runsOf('m')).toEqual([byHand.id, 'm-20261203T2000Z'].sort())
    expect(await s.rows.get('m')).toMatchObject({next_run_at: T0 + MIN, last_task_id: byHand.id})
  })

  it('cluster events and the scaling lease: one owner at a time until it lapses or is released', async () => {
    const events = new ClusterEventStore(db)
    expect(await events.takeLease('etl', 'srv-1', 2000, 1000)).toBe(true)
    expect(await events.takeLease('etl', 'srv-2', 3000, 1500)).toBe(false)
    expect(await events.takeLease('etl', 'srv-1', 4000, 1500)).toBe(true)
    expect(await events.takeLease('etl', 'srv-2', 9000, 4001)).toBe(true)
    await events.releaseLease('etl', 'srv-1')
    expect(await count('SELECT COUNT(*) AS n FROM cluster_leases')).toBe(1)
    await events.releaseLease('etl', 'srv-2')
    expect(await count('SELECT COUNT(*) AS n FROM cluster_leases')).toBe(0)
    await events.add({cluster: 'etl', at: 10, actor: 'autoscaler', kind: 'grow', detail: 'adding 1 host(s)'})
    await events.add({cluster: 'etl', at: 20, actor: 'autoscaler', kind: 'grown', detail: 'added h2 in 40 s'})
    await events.add({cluster: 'other', at: 30, actor: 'autoscaler', kind: 'grow', detail: 'x'})
    expect((await events.list('etl', 10)).map((e) => [e.kind, e.at])).toEqual([['grown', 20], ['grow', 10]])
    expect(await events.purge(15)).toBe(1)
    expect((await events.list('etl', 10)).map((e) => e.kind)).toEqual(['grown'])
  })

  it('schedules: a server down across five ticks runs the schedule once when it is back, and says so', async () => {
    const s = scheduler()
    await addSchedule(s, {name: 'late'})
    await s.step(T0 + 5 * MIN + 2000)
    expect(await runsOf('late')).toEqual(['late-20261203T2000Z'])
    expect((await eventsOf('late-20261203T2000Z'))[0]!.detail).toBe(
      'run of schedule late due at 2026-12-03T20:00:00.000Z, started 5 min late (the service was not running then); 5 later ticks missed meanwhile are not made up',
    )
    expect((await s.rows.get('late'))!.next_run_at).toBe(T0 + 6 * MIN)
  })

  it('schedules: two schedulers stepping at once queue a tick once', async () => {
    const [a, b] = [scheduler(), scheduler()]
    await addSchedule(a, {name: 'race'})
    await Promise.all([a.step(T0 + 1000), b.step(T0 + 1000), a.step(T0 + 1001), b.step(T0 + 1002)])
    expect(await runsOf('race')).toEqual(['race-20261203T2000Z'])
    expect(await count("SELECT COUNT(*) AS n FROM events WHERE task_id = 'race-20261203T2000Z'")).toBe(1)
  })

  it('schedules: forbid skips a tick while a run is active (a note on it); replace kills it first', async () => {
    const cancelled: string[] = []
    const s = scheduler(cancelled)
    await addSchedule(s, {name: 'f', concurrency: 'forbid'})
    await addSchedule(s, {name: 'r', concurrency: 'replace'})
    await s.step(T0 + 1000)
    await s.step(T0 + MIN + 1000)
    expect(await runsOf('f')).toEqual(['f-20261203T2000Z'])
    expect((await s.rows.get('f'))!.last_note).toBe('run due at 2026-12-03T20:01:00.000Z skipped: f-20261203T2000Z is still QUEUED (concurrency forbid)')
    expect((await eventsOf('f-20261203T2000Z')).at(-1)).toEqual({from: 'QUEUED', to: 'QUEUED', actor: 'schedule:f', detail: 'run due at 2026-12-03T20:01:00.000Z skipped: f-20261203T2000Z is still QUEUED (concurrency forbid)'})
    expect(await runsOf('r')).toEqual(['r-20261203T2000Z', 'r-20261203T2001Z'])
    expect(cancelled).toEqual(['r-20261203T2000Z'])
    expect((await store.get('r-20261203T2000Z'))!.state).toBe('KILLED')
    // The forbidden schedule runs again once its run has ended.
    await store.move('f-20261203T2000Z', {from: ['QUEUED'], to: 'KILLED', actor: 'x', patch: {finished_at: 1}})
    await s.step(T0 + 2 * MIN + 1000)
    expect(await runsOf('f')).toEqual(['f-20261203T2000Z', 'f-20261203T2002Z'])
  })

  it('schedules: finished runs beyond history are deleted; suspended schedules do not run; delete keeps the runs', async () => {
    const s = scheduler()
    await addSchedule(s, {name: 'h', history: 1})
    await addSchedule(s, {name: 'z', suspend: true})
    for (let i = 0; i < 3; i++) {
      await s.step(T0 + i * MIN + 1000)
      for (const id of await runsOf('h')) await store.move(id, {from: ['QUEUED'], to: 'KILLED', actor: 'x', patch: {finished_at: 1}}).catch(() => false)
    }
    await s.step(T0 + 3 * MIN + 1000)
    // Three finished and one queued: the queued one and the newest finished one are kept.
    expect(await runsOf('h')).toEqual(['h-20261203T2002Z', 'h-20261203T2003Z'])
    expect(await runsOf('z')).toEqual([])
    await s.remove('h')
    expect(await s.rows.get('h')).toBeUndefined()
    expect(await runsOf('h')).toEqual(['h-20261203T2002Z', 'h-20261203T2003Z'])
  })

  it('webhooks: a matching move writes its call in the same transaction; the notifier sends it signed, retries a refusal, gives up in time', async () => {
    const got: Array<{headers: IncomingMessage['headers']; body: string}> = []
    let answer = 500
    const receiver = createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        got.push({headers: req.headers, body})
        res.writeHead(answer).end()
      })
    })
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
    try {
      const url = `http://127.0.0.1:${(receiver.address() as {port: number}).port}/hook?token=t0ps3cret`
      await store.insertTasks([newTask('w', {notify: JSON.stringify({url, on: ['failed', 'killed']})}), newTask('quiet')], 'alice', 1000)
      await store.move('quiet', {from: ['QUEUED'], to: 'KILLED', actor: 'x', patch: {finished_at: 2}})
      expect(await count('SELECT COUNT(*) AS n FROM notifications')).toBe(0)
      // A refused compare-and-set writes nothing either.
      expect(await store.move('w', {from: ['RUNNING'], to: 'KILLED', actor: 'x'})).toBe(false)
      expect(await store.move('w', {from: ['QUEUED'], to: 'KILLED', actor: 'bob', detail: 'cancelled', patch: {finished_at: 3000}, now: 3000})).toBe(true)
      expect(await db.all('SELECT task_id, event, state, detail, url, at, attempts, next_at, sent_at FROM notifications')).toEqual([
        {task_id: 'w', event: 'killed', state: 'KILLED', detail: 'cancelled', url, at: 3000, attempts: 0, next_at: 3000, sent_at: null},
      ])
      const secret = 'x'.repeat(40)
      const lines: string[] = []
      const notifier = new Notifier(db, {secret, taskJson: async (id) => ({id, state: (await store.get(id))!.state}), log: (l) => lines.push(l)})
      // Refused (500): tried again 5 s later; the log names the origin, never the URL's token.
      await notifier.step(4000)
      expect(got).toHaveLength(1)
      const row = (await db.all<{attempts: number; next_at: number; sent_at: number | null; last_error: string}>('SELECT attempts, next_at, sent_at, last_error FROM notifications'))[0]!
      expect({attempts: row.attempts, sent: row.sent_at, error: row.last_error}).toEqual({attempts: 1, sent: null, error: 'HTTP 500'})
      expect(Number(row.next_at) - Date.now()).toBeGreaterThan(3000)
      expect(lines.join('\n')).not.toContain('t0ps3cret')
      await notifier.step(4000)
      expect(got).toHaveLength(1)
      answer = 204
      await notifier.step(Number(row.next_at))
      expect(got).toHaveLength(2)
      const {headers, body} = got[1]!
      expect(JSON.parse(body)).toEqual({event: 'killed', at: new Date(3000).toISOString(), state: 'KILLED', detail: 'cancelled', task: {id: 'w', state: 'KILLED'}})
      const t = Number(/^t=(\d+),/.exec(String(headers['x-cms-signature']))![1])
      expect(headers['x-cms-signature']).toBe(signature(secret, body, t))
      expect(headers['x-cms-event']).toBe('killed')
      expect(await count('SELECT COUNT(*) AS n FROM notifications WHERE sent_at IS NOT NULL AND next_at IS NULL AND attempts = 2')).toBe(1)
      await notifier.step(Date.now() + 3_600_000)
      expect(got).toHaveLength(2)
      // A receiver that never answers 2xx: given up after 10 attempts, no more calls.
      answer = 503
      await store.insertTasks([newTask('w2', {notify: JSON.stringify({url, on: ['killed']})})], 'alice', 1000)
      await store.move('w2', {from: ['QUEUED'], to: 'KILLED', actor: 'x', patch: {finished_at: 1}})
      for (let i = 0; i < 12; i++) await notifier.step(Date.now() + 10 * 3_600_000)
      expect(got).toHaveLength(12)
      expect(await db.all('SELECT attempts, next_at, last_error FROM notifications WHERE task_id = $1', ['w2'])).toEqual([{attempts: 10, next_at: null, last_error: 'HTTP 503'}])
    } finally {
      receiver.close()
    }
  })

  it("job sources: stored once per name, removed with their cursor; a source's completion events after its cursor", async () => {
    const sources = new SourceStore(db)
    expect(await sources.create({name: 'bus', config: '{"kind":"rabbitmq"}', created_by: 'root', created_at: 5})).toBe(true)
    expect(await sources.create({name: 'bus', config: '{}', created_by: 'other', created_at: 6})).toBe(false)
    expect((await sources.list()).map((r) => ({...r, created_at: Number(r.created_at)}))).toEqual([{name: 'bus', config: '{"kind":"rabbitmq"}', created_by: 'root', created_at: 5}])
    // A new cursor starts at the newest event: what ended before the source existed is not published.
    await store.insertTasks([newTask('before', {source: 'bus'})], 'source:bus')
    await store.move('before', {from: ['QUEUED'], to: 'KILLED', actor: 'root'})
    const start = await sources.cursor('bus')
    expect(start).toBe(await count('SELECT MAX(id) AS n FROM events'))
    expect(await sources.cursor('bus')).toBe(start)
    await store.insertTasks([newTask('b1', {source: 'bus'}), newTask('b2', {source: 'bus'}), newTask('o1', {source: 'other'})], 'source:bus')
    await store.move('b1', {from: ['QUEUED'], to: ['SUBMITTED', 'RUNNING', 'SUCCEEDED'], actor: 'service'})
    await store.move('o1', {from: ['QUEUED'], to: 'KILLED', actor: 'root'})
    await store.move('b2', {from: ['QUEUED'], to: 'KILLED', actor: 'root', detail: 'cancelled'})
    await store.note('b2', 'KILLED', 'root', 'a note on a finished task') // no move: no completion
    const later = Date.now() + 60_000
    const got = await sources.completions('bus', start, 100, later)
    expect(got.map((e) => [e.task_id, e.to_state, e.detail])).toEqual([
      ['b1', 'SUCCEEDED', null],
      ['b2', 'KILLED', 'cancelled'],
    ])
    expect((await sources.completions('bus', got[0]!.id, 100, later)).map((e) => e.task_id)).toEqual(['b2'])
    expect(await sources.completions('bus', start, 1, later)).toHaveLength(1)
    // PostgreSQL: events younger than 5 s wait (a later id may commit first); SQLite commits in id order.
    expect(await sources.completions('bus', start, 100)).toHaveLength(db.dialect === 'postgres' ? 0 : 2)
    await sources.advance('bus', got[1]!.id)
    await sources.advance('bus', start) // never backwards
    expect(await sources.cursor('bus')).toBe(got[1]!.id)
    expect(await sources.completions('bus', got[1]!.id, 100, later)).toEqual([])
    expect(await sources.remove('bus')).toBe(true)
    expect(await sources.remove('bus')).toBe(false)
    expect(await sources.list()).toEqual([])
    expect(await count('SELECT COUNT(*) AS n FROM source_cursors')).toBe(0)
  })

  it('API keys: create once per name, look up by hash, list, revoke once', async () => {
    expect(await store.createKey({name: 'ci', scope: 'submit', hash: 'h1', created_at: 10})).toBe(true)
    expect(await store.createKey({name: 'ci', scope: 'admin', hash: 'h2', created_at: 11})).toBe(false)
    expect(await store.createKey({name: 'admin', scope: 'admin', hash: 'h3', created_at: 12})).toBe(true)
    expect(await store.keyByHash('h1')).toEqual({name: 'ci', scope: 'submit', hash: 'h1', created_at: 10, revoked_at: null})
    expect(await store.keyByHash('h2')).toBeUndefined()
    expect((await store.listKeys()).map((k) => k.name)).toEqual(['admin', 'ci'])
    expect(await store.revokeKey('ci', 20)).toBe(true)
    expect(await store.revokeKey('ci', 30)).toBe(false)
    expect(await store.revokeKey('nobody', 30)).toBe(false)
    expect(await store.keyByHash('h1')).toEqual({name: 'ci', scope: 'submit', hash: 'h1', created_at: 10, revoked_at: 20})
    expect((await store.keyByHash('h3'))!.revoked_at).toBeNull()
  })
}

describe('task store on SQLite', () => {
  storeCases(sqlite)
})

describe.skipIf(!PG_URL && !REQUIRE_PG)('task store on PostgreSQL (CMS_TEST_PG_URL)', () => {
  storeCases(postgres())
})
