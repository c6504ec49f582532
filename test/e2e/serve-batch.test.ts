import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import pg from 'pg'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {UsageError} from '../../src/remote/errors.js'
import {TaskService} from '../../src/serve/service.js'

// Batches through the service (POST /tasks' path, below HTTP) on SQLite and, when CMS_TEST_PG_URL is set, on
// PostgreSQL: every task of a batch is queued with its QUEUED event, in order; one bad task anywhere refuses the batch
// with the message prepare() gives and nothing is stored; ids already stored come back as they are. No container: a
// stand-in Docker Engine API on a unix socket lists the one cluster the tasks name (its engine is never asked: the
// service's loops are not started).

const PG_URL = process.env.CMS_TEST_PG_URL
const REQUIRE_PG = process.env.CMS_TEST_REQUIRE_PG === '1'
const RUN = randomBytes(4).toString('hex')
const work = mkdtempSync(join(tmpdir(), 'cms-batch-'))
let docker: Server

beforeAll(async () => {
  const container = {Id: 'c'.repeat(64), Names: ['/c1-1'], State: 'exited', Labels: {'cms.cluster': 'c1', 'cms.role': 'head', 'cms.engine': 'spark', 'cms.index': '1'}}
  docker = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://docker')
    const labels = (JSON.parse(url.searchParams.get('filters') ?? '{}') as {label?: string[]}).label ?? []
    const mine = labels.every((l) => !l.startsWith('cms.cluster=') || l === 'cms.cluster=c1')
    res.writeHead(200, {'content-type': 'application/json'})
    res.end(JSON.stringify(url.pathname.endsWith('/containers/json') && mine ? [container] : []))
  })
  const socket = join(work, 'docker.sock')
  await new Promise<void>((resolve) => docker.listen(socket, resolve))
  process.env.DOCKER_HOST = `unix://${socket}`
  process.env.CMS_HOME = join(work, 'home')
})
afterAll(async () => {
  await new Promise((resolve) => docker.close(resolve))
  rmSync(work, {recursive: true, force: true})
})

const SPEC = {app: 'https://example.invalid/pi.py', args: ['2']}
const task = (id: string, over: Record<string, unknown> = {}) => ({raw: {id, cluster: 'c1', spec: SPEC, ...over}})
const batch = (n: number, prefix = 't') => Array.from({length: n}, (_, i) => task(`${prefix}${i}`))

interface Backend {
  name: string
  db(): Promise<{target: string; drop(): Promise<void>}>
}

const backends: Backend[] = [
  {
    name: 'sqlite',
    async db() {
      const dir = mkdtempSync(join(work, 'db-'))
      return {target: join(dir, 'queue.db'), drop: async () => rmSync(dir, {recursive: true, force: true})}
    },
  },
]
if (PG_URL) {
  let n = 0
  backends.push({
    name: 'postgres',
    async db() {
      const schema = `b_${RUN}_${++n}`
      const admin = new pg.Client({connectionString: PG_URL})
      await admin.connect()
      await admin.query(`CREATE SCHEMA ${schema}`)
      const url = new URL(PG_URL)
      url.searchParams.set('options', `-c search_path=${schema}`)
      return {
        target: url.toString(),
        drop: async () => {
          await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
          await admin.end()
        },
      }
    },
  })
} else if (REQUIRE_PG) {
  it('PostgreSQL is required', () => {
    throw new Error('CMS_TEST_REQUIRE_PG=1 but CMS_TEST_PG_URL is not set')
  })
}

for (const backend of backends) {
  describe(`batches through the service (${backend.name})`, () => {
    let service: TaskService
    let drop: () => Promise<void>
    const count = async (table: string) => Number((await service.store.db.all<{n: number}>(`SELECT COUNT(*) AS n FROM ${table}`))[0]!.n)
    /** What prepare() (every task checked before anything is stored) refuses the batch with. */
    const refusal = async (raws: ReturnType<typeof batch>) => (await service.prepare(raws, true).then(() => 'accepted', (error: Error) => error)) as Error

    beforeEach(async () => {
      const db = await backend.db()
      drop = db.drop
      service = await TaskService.open({db: db.target, dataDir: join(work, 'data'), run: {log: () => undefined, parallel: 1, connectTimeoutMs: 1000}, retainMs: 86_400_000, log: () => undefined})
    })
    afterEach(async () => {
      await service.stop()
      await drop()
    })

    it('350 tasks: all queued in order, each with its QUEUED event', async () => {
      const stored = await service.submit(batch(350), 'alice', true)
      expect(stored.map((s) => [s.task.id, s.created, s.task.state])).toEqual(batch(350).map((t) => [t.raw.id, true, 'QUEUED']))
      expect(await count('tasks')).toBe(350)
      expect(await service.store.db.all("SELECT COUNT(*) AS n FROM events WHERE to_state = 'QUEUED' AND actor = 'alice' GROUP BY task_id HAVING COUNT(*) <> 1")).toEqual([])
      expect(await count('events')).toBe(350)
      expect((await service.store.get('t349'))!.seq).toBeGreaterThan((await service.store.get('t0'))!.seq)
    })

    it('one bad task late in the batch: refused as prepare() refuses it, nothing stored', async () => {
      const raws = batch(350)
      raws[250] = task('t250', {priority: 5000})
      const expected = await refusal(raws)
      expect(expected).toBeInstanceOf(UsageError)
      expect(expected.message).toBe('tasks[250].priority: expected a whole number from 0 to 1000')
      await expect(service.submit(raws, 'alice', true)).rejects.toThrow(expected.message)
      expect([await count('tasks'), await count('events')]).toEqual([0, 0])
    })

    it('an id twice, far apart: refused, nothing stored', async () => {
      const raws = batch(350)
      raws[300] = task('t10')
      await expect(service.submit(raws, 'alice', true)).rejects.toThrow('tasks[300].id: t10 appears twice in this request')
      expect([await count('tasks'), await count('events')]).toEqual([0, 0])
    })

    it('parse errors anywhere win over an earlier refusal, as in prepare()', async () => {
      const raws = batch(350)
      raws[5] = task('t0')
      raws[280] = task('t280', {cluster: 'Not A Name'})
      raws[340] = task('t340', {spec: {app: 'pi.txt'}})
      const expected = await refusal(raws)
      expect(expected.message).toMatch(/^tasks\[280\]\.cluster: .*; tasks\[340\]\.spec: app: must be a \.jar or \.py file/)
      await expect(service.submit(raws, 'alice', true)).rejects.toThrow(expected.message)
      expect(await count('tasks')).toBe(0)
    })

    it('ids already stored come back as they are (created: false), with no second event', async () => {
      await service.submit(batch(150), 'alice', true)
      const again = await service.submit(batch(300), 'bob', true)
      expect(again.map((s) => s.created)).toEqual([...Array(150).fill(false), ...Array(150).fill(true)])
      expect(again[0]!.task).toMatchObject({id: 't0', created_by: 'alice', state: 'QUEUED'})
      expect(again[299]!.task).toMatchObject({id: 't299', created_by: 'bob'})
      expect([await count('tasks'), await count('events')]).toEqual([300, 300])
    })
  })
}
