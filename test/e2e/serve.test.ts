import {createHash} from 'node:crypto'
import {appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cms, docker, labelledContainers, makeCmsHome, removeClusterContainers, ROOT, waitUntil} from './helpers.js'
import {networkGateway, s3TestCredentials, startS3Store} from './s3-store.js'
import {KILL_AGAIN_MS} from '../../src/serve/queue/kill-intent.js'
import {openSqlite} from '../../src/serve/store/sqlite-db.js'
import {TaskStore} from '../../src/serve/store/store.js'
import {freshPgSchema, makeKey, piPyPath, startServer, taskForm, testAmqpUrl, waitForTasks, type TestServer} from './serve-harness.js'

// cms serve in front of a real Spark cluster (2 hosts, 2 cores each): what the engine runs is read from the
// Spark master and from the cluster's own job records (`cms job list`), not from what the service says.
const NAME = 'e2e-serve'
const WORK = join(ROOT, '.cache', 'e2e-serve')
const FAIL_PY = 'import sys\nprint("failing on purpose")\nsys.exit(3)\n'
const QUICK_PY = 'print("quick")\n'
// A Spark app that keeps the name cms gives it (spark.app.name), so the master's records say which task it is.
const SUM_PY = 'from pyspark.sql import SparkSession\nspark = SparkSession.builder.getOrCreate()\nprint(spark.sparkContext.parallelize(range(100), 1).sum())\nspark.stop()\n'

interface App {
  id: string
  name: string
  state: string
  cores: number
  starttime: number
}

async function master(headIp: string): Promise<{cores: number; coresused: number; activeapps: App[]; completedapps: App[]}> {
  const res = await fetch(`http://${headIp}:8080/json/`, {signal: AbortSignal.timeout(10_000)})
  return (await res.json()) as never
}

const piPy = () => readFileSync(piPyPath(WORK), 'utf8')

describe('cms serve on a Spark cluster', () => {
  const {home, cleanup} = makeCmsHome()
  const env = {CMS_HOME: home}
  let headIp = ''
  let server: TestServer
  let submit = ''
  let read = ''
  let pi = ''

  /** The cluster's own job records (on the head), by name. */
  const engineJobs = async (): Promise<Array<{id: string; name: string; state: string}>> => {
    const r = await cms(['job', 'list', '-n', NAME, '--json'], env)
    if (r.code !== 0) throw new Error(r.stderr)
    return JSON.parse(r.stdout).jobs
  }
  /** The engine-side jobs of one task: every attempt's name starts with the spec name and the task's tag. */
  const jobsOfTask = (jobs: Array<{name: string; state: string}>, specName: string, taskId: string) => {
    const tag = createHash('sha256').update(taskId).digest('hex').slice(0, 10)
    return jobs.filter((j) => j.name.startsWith(`${specName}-q${tag}-`))
  }

  beforeAll(async () => {
    pi = piPy()
    await removeClusterContainers(NAME)
    const r = await cms(['cluster', 'create', '-n', NAME, '--hosts', '2', '--worker-cores', '2', '--worker-memory', '3g'], env)
    if (r.code !== 0) throw new Error(`create failed: ${r.stderr}`)
    headIp = (await labelledContainers(NAME)).find((c) => c.role === 'head')!.ip
    submit = await makeKey(env, 'ci', 'submit')
    read = await makeKey(env, 'viewer', 'read')
    server = await startServer(env)
  })

  afterAll(async () => {
    await server?.stop()
    await removeClusterContainers(NAME)
    cleanup()
  })

  it('keys: 401 without or with a revoked key, 403 out of scope; /health needs none', async () => {
    expect((await server.call('GET', '/health')).status).toBe(200)
    const none = await server.call('POST', '/task', {json: {cluster: NAME, spec: {app: 'https://example.invalid/a.py'}}})
    expect(none.status).toBe(401)
    expect(none.body.error).toMatch(/missing API key/)
    const wrong = await server.call('GET', '/tasks', {key: 'cms_not-a-key'})
    expect(wrong.status).toBe(401)
    const scoped = await server.call('POST', '/task', {key: read, json: {cluster: NAME, spec: {app: 'https://example.invalid/a.py'}}})
    expect(scoped.status).toBe(403)
    expect(scoped.body.error).toBe('key viewer has scope read; POST /task needs submit')
    expect((await server.call('GET', '/openapi.json', {key: read})).body.paths['/task']).toBeDefined()
    expect((await server.call('GET', '/mgmt/keys', {key: submit})).status).toBe(403)
    const temp = await makeKey(env, 'temp', 'read')
    expect((await server.call('GET', '/tasks', {key: temp})).status).toBe(200)
    expect((await cms(['serve', 'keys', 'revoke', 'temp'], env)).code).toBe(0)
    expect((await server.call('GET', '/tasks', {key: temp})).status).toBe(401)
    // Keys are stored hashed: the database holds no key.
    const db = new Database(join(home, 'serve.db'), {readonly: true})
    const rows = db.prepare('SELECT name, hash FROM api_keys').all() as Array<{name: string; hash: string}>
    db.close()
    expect(rows.find((r) => r.name === 'ci')?.hash).toBe(createHash('sha256').update(submit).digest('hex'))
    expect(readFileSync(join(home, 'serve.db')).includes(Buffer.from(submit))).toBe(false)
  })

  it('bad input: 422 with one line naming the field, and nothing is queued', async () => {
    const count = () => {
      const db = new Database(join(home, 'serve.db'), {readonly: true})
      const n = (db.prepare('SELECT COUNT(*) AS n FROM tasks').get() as {n: number}).n
      db.close()
      return n
    }
    const before = count()
    const cases: Array<[unknown, RegExp]> = [
      [{cluster: NAME, spec: {app: 'https://example.invalid/a.py'}, prio: 1}, /^prio: unknown field/],
      [{cluster: NAME, spec: {ap: 'x.py'}}, /^spec: app: required; ap: unknown field \(did you mean app\?\)$/],
      [{cluster: 'no-such-cluster', spec: {app: 'https://example.invalid/a.py'}}, /^cluster: no-such-cluster is not a cluster this service knows/],
      [{cluster: NAME, spec: {app: 'pi.py'}}, /^spec: app: pi.py was not uploaded/],
      [{cluster: NAME, spec: {app: 'https://example.invalid/a.py'}, priority: 5000}, /^priority: expected a whole number from 0 to 1000$/],
      [{cluster: NAME}, /either spec .* or jobfile/],
    ]
    for (const [body, message] of cases) {
      const r = await server.call('POST', '/task', {key: submit, json: body})
      expect(r.status, JSON.stringify(body)).toBe(422)
      expect(r.body.error).toMatch(message)
      expect(r.body.error).not.toContain('\n')
    }
    const batch = await server.call('POST', '/tasks', {key: submit, json: {tasks: [{cluster: NAME, spec: {app: 'https://example.invalid/a.py'}}, {cluster: NAME, spec: {app: 'x.txt'}}]}})
    expect(batch.status).toBe(422)
    expect(batch.body.error).toMatch(/^tasks\[1\]\.spec: app: must be a \.jar or \.py file/)
    expect((await server.call('POST', '/task', {key: submit, raw: '{nope'})).status).toBe(422)
    expect(count()).toBe(before)
  })

  it('uploads are stored once by content (0600) and a client id is an idempotency key', async () => {
    const task = {id: 'upload-1', cluster: NAME, spec: {app: 'pi.py', args: [2]}, resources: {cores: 1000, memory: '1g'}}
    const first = await server.call('POST', '/task', {key: submit, form: taskForm(task, {'pi.py': pi})})
    expect(first.status, first.text).toBe(201)
    expect(first.body.state).toBe('QUEUED')
    const again = await server.call('POST', '/task', {key: submit, form: taskForm(task, {'pi.py': pi})})
    expect(again.status).toBe(200)
    expect(again.body.id).toBe('upload-1')
    const sha = createHash('sha256').update(pi).digest('hex')
    const stored = join(home, 'serve', 'files', sha.slice(0, 2), sha)
    expect(statSync(stored).mode & 0o777).toBe(0o600)
    expect(readFileSync(stored, 'utf8')).toBe(pi)
    let view = await server.call('GET', '/task/upload-1', {key: read})
    expect(view.body.files).toEqual([{name: 'pi.py', sha256: sha, size: Buffer.byteLength(pi)}])
    // Bigger than the whole cluster: it waits, and says why (once the cluster's capacity has been asked).
    await waitUntil('the wait reason', async () => /more than/.test((view = await server.call('GET', '/task/upload-1', {key: read})).body.queue.waitingFor), 30_000)
    expect(view.body.queue.waitingFor).toMatch(/^needs 1000 cores and 1024 MiB, more than e2e-serve has in all \(4 cores/)
    const killed = await server.call('DELETE', '/task/upload-1', {key: submit})
    expect(killed.body.state).toBe('KILLED')
    const events = (await server.call('GET', '/task/upload-1/events', {key: read})).body.events
    expect(events.map((e: {to: string}) => e.to)).toEqual(['QUEUED', 'KILLED'])
    expect(events.map((e: {actor: string}) => e.actor)).toEqual(['ci', 'ci'])
  })

  it('6 tasks of mixed priority: the engine never runs more than it holds, higher priorities start first, all finish', async () => {
    // A task holding the whole cluster's room makes the others queue until all of them are in.
    const hold = await server.call('POST', '/task', {key: submit, form: taskForm({id: 'hold', cluster: NAME, spec: {name: 'hold', app: 'hold.py'}, resources: {cores: 4, memory: '1g'}}, {'hold.py': 'import time\ntime.sleep(15)\n'})})
    expect(hold.status, hold.text).toBe(201)
    await waitForTasks(server, read, ['hold'], ['SUBMITTED', 'RUNNING'], 60_000)
    // Each task's executor takes a whole worker (2 cores): the cluster holds two at a time, so the three priorities
    // run as three waves.
    const plan = [0, 0, 50, 50, 100, 100]
    const ids: string[] = []
    for (const [i, priority] of plan.entries()) {
      const r = await server.call('POST', '/task', {key: submit, form: taskForm({id: `prio-${i}`, cluster: NAME, priority, spec: {name: `p${priority}-${i}`, app: 'sum.py', executor: {instances: 1, cores: 2, memory: '512m'}, driver: {memory: '512m'}, conf: {'spark.ui.enabled': false}}}, {'sum.py': SUM_PY})})
      expect(r.status, r.text).toBe(201)
      ids.push(r.body.id)
    }
    const queued = (await server.call('GET', '/task/prio-0', {key: read})).body
    expect(queued.state).toBe('QUEUED')
    expect(queued.queue.position).toBeGreaterThanOrEqual(4)
    // Sample the master while everything runs: never an app waiting for cores, never more than 2 running.
    let maxActive = 0
    let waiting = 0
    let over = 0
    let sampling = true
    const sampler = (async () => {
      for (let i = 0; i < 1200 && sampling; i++) {
        const m = await master(headIp).catch(() => undefined)
        if (m) {
          maxActive = Math.max(maxActive, m.activeapps.length)
          waiting += m.activeapps.filter((a) => a.state === 'WAITING').length
          if (m.coresused > m.cores) over++
        }
        await new Promise((r) => setTimeout(r, 500))
      }
    })()
    const done = await waitForTasks(server, read, [...ids, 'hold'], ['SUCCEEDED', 'DEAD', 'KILLED'], 900_000).finally(() => (sampling = false))
    await sampler
    expect(done.map((t) => t.state)).toEqual(Array(7).fill('SUCCEEDED'))
    expect(waiting).toBe(0)
    expect(over).toBe(0)
    expect(maxActive).toBe(2)
    // Order as the cluster recorded it: the head's job records (written when each job was handed over) put every
    // priority-100 job before any 50 and every 50 before any 0; the master's own start times put every 100 app
    // before any 0 (100 against 50 could cross if one driver's JVM starts much later than its wave's other).
    const records = (await engineJobs()).filter((j) => /^p\d+-\d+-q/.test(j.name)) as unknown as Array<{name: string; createdAt: string}>
    expect(records).toHaveLength(6)
    const handed = (p: number) => records.filter((j) => j.name.startsWith(`p${p}-`)).map((j) => Date.parse(j.createdAt))
    expect(Math.max(...handed(100))).toBeLessThan(Math.min(...handed(50)))
    expect(Math.max(...handed(50))).toBeLessThan(Math.min(...handed(0)))
    const apps = (await master(headIp)).completedapps.filter((a) => /^p\d+-\d+-q/.test(a.name))
    expect(apps).toHaveLength(6)
    const starts = (p: number) => apps.filter((a) => a.name.startsWith(`p${p}-`)).map((a) => a.starttime)
    expect(Math.max(...starts(100))).toBeLessThan(Math.min(...starts(0)))
  }, 1_200_000)

  it('a failing task with retries: 2 runs 3 times on the engine and ends DEAD', async () => {
    const r = await server.call('POST', '/task', {key: submit, form: taskForm({id: 'failing', cluster: NAME, retries: 2, spec: {name: 'failing', app: 'fail.py'}}, {'fail.py': FAIL_PY})})
    expect(r.status, r.text).toBe(201)
    const [task] = await waitForTasks(server, read, ['failing'], ['DEAD', 'SUCCEEDED'], 600_000)
    expect(task.state).toBe('DEAD')
    expect(task.runs).toBe(3)
    const runs = jobsOfTask(await engineJobs(), 'failing', 'failing')
    expect(runs.map((j) => j.state)).toEqual(['FAILED', 'FAILED', 'FAILED'])
    const events = (await server.call('GET', '/task/failing/events', {key: read})).body.events as Array<{from?: string; to: string; detail?: string}>
    expect(events.filter((e) => e.to === 'FAILED')).toHaveLength(3)
    expect(events.filter((e) => e.from === 'FAILED' && e.to === 'QUEUED')).toHaveLength(2)
    expect(events[events.length - 1]).toMatchObject({from: 'FAILED', to: 'DEAD'})
    const logs = await server.call('GET', '/task/failing/logs', {key: read})
    expect(logs.status).toBe(200)
    expect(logs.text).toContain('failing on purpose')
  })

  it('s3a:// paths: a task gets the server\'s S3 credentials at submission; no task record, event or database row holds them', async () => {
    const creds = s3TestCredentials(home)
    const store = await startS3Store(await networkGateway(`cms-${NAME}`))
    const db = join(home, 's3.db')
    const s3Key = await makeKey(env, 's3-ci', 'submit', db)
    const s3Server = await startServer({...creds.env}, ['--db', db, '--s3-endpoint', store.url])
    try {
      await store.createBucket('cms-e2e')
      await store.put('cms-e2e', 'in/words.txt', 'to be or not to be\n')
      const wordcount = readFileSync(join(ROOT, 'test', 'e2e', 'fixtures', 's3_wordcount.py'), 'utf8')
      const r = await s3Server.call('POST', '/task', {key: s3Key, form: taskForm({id: 's3-wc', cluster: NAME, spec: {name: 's3wc', app: 's3_wordcount.py', args: ['s3a://cms-e2e/in/words.txt', 's3a://cms-e2e/out/wc'], driver: {memory: '512m'}, executor: {cores: 1, memory: '512m'}}}, {'s3_wordcount.py': wordcount})})
      expect(r.status, r.text).toBe(201)
      const [task] = await waitForTasks(s3Server, s3Key, ['s3-wc'], ['SUCCEEDED', 'DEAD', 'FAILED'], 600_000)
      const logs = (await s3Server.call('GET', '/task/s3-wc/logs', {key: s3Key})).text
      expect(task.state, logs).toBe('SUCCEEDED')
      expect(logs).toContain('read back 4 words from s3a://cms-e2e/out/wc')
      expect(await store.list('cms-e2e', 'out/wc/')).toContain('out/wc/_SUCCESS')
      creds.expectNoSecret(JSON.stringify(task), 'GET /task')
      creds.expectNoSecret((await s3Server.call('GET', '/task/s3-wc/events', {key: s3Key})).text, 'the task events')
      creds.expectNoSecret(logs + s3Server.output(), "the job's logs and the server's output")
      await s3Server.stop()
      for (const file of [db, `${db}-wal`]) if (existsSync(file)) creds.expectNoSecret(readFileSync(file).toString('latin1'), file)
    } finally {
      await s3Server.stop()
      await store.stop()
    }
  })

  it('schedules: an every-minute run is queued on the minute and runs; a server stopped across a tick runs it once, late, on restart', async () => {
    const sleepUntil = async (t: number) => {
      while (Date.now() < t) await new Promise((r) => setTimeout(r, Math.min(1000, t - Date.now())))
    }
    const tickId = (t: number) => `minutely-${new Date(t).toISOString().slice(0, 16).replace(/[-:]/g, '')}Z`
    // The CLI, against the server (the key in the environment) and against the database: a bad expression is exit 2.
    mkdirSync(WORK, {recursive: true})
    writeFileSync(join(WORK, 'nightly.json'), JSON.stringify({cluster: NAME, spec: {name: 'nightly', app: 'https://example.org/jobs/nightly.py'}}))
    const bad = await cms(['serve', 'schedule', 'add', 'bad', '--cron', '61 * * * *', '--task', join(WORK, 'nightly.json')], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('cron: minute field "61": 61 is outside 0-59')
    const added = await cms(['serve', 'schedule', 'add', 'nightly', '--cron', '0 2 * * *', '--time-zone', 'Europe/Berlin', '--task', join(WORK, 'nightly.json'), '--url', server.url, '--json'], {...env, CMS_SERVE_KEY: submit})
    expect(added.code, added.stderr).toBe(0)
    expect(JSON.parse(added.stdout)).toMatchObject({name: 'nightly', timeZone: 'Europe/Berlin', concurrency: 'allow'})
    const viaApi = (await server.call('GET', '/schedules/nightly', {key: read})).body
    expect(new Date(viaApi.nextRunAt).getTime()).toBeGreaterThan(Date.now())
    expect(new Intl.DateTimeFormat('en-GB', {timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit'}).format(new Date(viaApi.nextRunAt))).toBe('02:00')
    const removed = await cms(['serve', 'schedule', 'rm', 'nightly', '--json'], env)
    expect(removed.code, removed.stderr).toBe(0)
    expect((await server.call('GET', '/schedules/nightly', {key: read})).status).toBe(404)

    // Every minute, with pi.py uploaded once for every run.
    const form = new FormData()
    form.set('schedule', JSON.stringify({name: 'minutely', cron: '* * * * *', task: {cluster: NAME, spec: {name: 'sched-pi', app: 'pi.py', args: ['2'], conf: {'spark.ui.enabled': 'false'}}}}))
    form.append('file', new Blob([pi]), 'pi.py')
    const made = await server.call('POST', '/schedules', {key: submit, form})
    expect(made.status, made.text).toBe(201)
    const first = Date.parse(made.body.nextRunAt)
    expect(first % 60_000).toBe(0)
    const run1 = tickId(first)
    await waitUntil(`the run of ${run1}`, async () => (await server.call('GET', `/task/${run1}`, {key: read})).status === 200, first - Date.now() + 30_000)
    const queued1 = Date.parse((await server.call('GET', `/task/${run1}/events`, {key: read})).body.events[0].at)
    expect(queued1 - first).toBeGreaterThanOrEqual(0)
    expect(queued1 - first).toBeLessThan(5000)

    // Down across the next tick: on restart that tick runs once, saying it is late (that later missed ticks are not
    // made up is the unit tests' missedTicks/runNote: waiting out two ticks here would cost a minute more).
    await server.stop()
    const second = first + 60_000
    await sleepUntil(second + 25_000)
    server = await startServer(env)
    const run2 = tickId(second)
    await waitUntil(`the late run of ${run2}`, async () => (await server.call('GET', `/task/${run2}`, {key: read})).status === 200, 30_000)
    const listed = await cms(['serve', 'schedule', 'list', '--url', server.url, '--json'], {...env, CMS_SERVE_KEY: read})
    expect(listed.code, listed.stderr).toBe(0)
    expect(JSON.parse(listed.stdout).schedules.map((s: {name: string; lastTaskId: string}) => [s.name, s.lastTaskId])).toEqual([['minutely', run2]])
    expect((await server.call('DELETE', '/schedules/minutely', {key: submit})).status).toBe(200)
    const events2 = (await server.call('GET', `/task/${run2}/events`, {key: read})).body.events
    expect(events2[0].detail).toMatch(/, started \d+ (s|min) late \(the service was not running then\)$/)
    const runs = await server.call('GET', '/tasks?limit=1000', {key: read})
    expect(runs.body.tasks.filter((t: {schedule?: string}) => t.schedule === 'minutely').map((t: {id: string}) => t.id).sort()).toEqual([run1, run2])

    // Both ran on the engine, from the one upload.
    const done = await waitForTasks(server, read, [run1, run2], ['SUCCEEDED', 'DEAD'], 420_000)
    expect(done.map((t) => t.state)).toEqual(['SUCCEEDED', 'SUCCEEDED'])
    const jobs = await engineJobs()
    for (const id of [run1, run2]) expect(jobsOfTask(jobs, 'sched-pi', id).map((j) => j.state), id).toEqual(['SUCCEEDED'])
    expect((await server.call('GET', `/task/${run2}/logs`, {key: read})).text).toContain('Pi is roughly')
  })

  it('job sources: files in a folder (complete ones only) and rows of a PostgreSQL table become tasks that run, the outcome written back', async () => {
    const drop = join(WORK, 'drop')
    rmSync(drop, {recursive: true, force: true})
    mkdirSync(drop, {recursive: true})
    // The table, in a schema of its own; a row's app is served over HTTP on the head's own loopback (the head's
    // spark-submit fetches it).
    const pgSchema = (await freshPgSchema())!
    const {default: pg} = await import('pg')
    const table = new pg.Client({connectionString: pgSchema.url})
    await table.connect()
    await table.query("CREATE TABLE pending_jobs (id SERIAL PRIMARY KEY, status TEXT NOT NULL DEFAULT 'pending', task JSONB, task_id TEXT, error TEXT)")
    const head = (await labelledContainers(NAME)).find((c) => c.role === 'head')!
    await docker('exec', head.name, 'mkdir', '-p', '/tmp/apps')
    await docker('cp', piPyPath(WORK), `${head.name}:/tmp/apps/pi.py`)
    await docker('exec', '-d', head.name, 'python3', '-m', 'http.server', '18998', '--bind', '127.0.0.1', '--directory', '/tmp/apps')
    writeFileSync(
      join(WORK, 'sources.yaml'),
      `sources:\n  - {name: drop, kind: directory, path: ${drop}, cluster: ${NAME}, interval: 1s, settle: 2s}\n  - {name: rows, kind: sql, url: ${JSON.stringify(pgSchema.url)}, table: pending_jobs, cluster: ${NAME}, interval: 1s}\n`,
    )
    await server.stop()
    server = await startServer(env, ['--sources', join(WORK, 'sources.yaml')])
    // The app first, then its spec renamed into the folder (complete at once); a bad spec; a spec written slowly.
    writeFileSync(join(drop, 'pi.py'), pi)
    writeFileSync(join(drop, 'quick.py'), QUICK_PY)
    writeFileSync(join(drop, '.pi-job.yaml.part'), `name: dropped-pi\napp: pi.py\nargs: [2]\nconf: {spark.ui.enabled: "false"}\n`)
    renameSync(join(drop, '.pi-job.yaml.part'), join(drop, 'pi-job.yaml'))
    writeFileSync(join(drop, 'broken.yaml'), 'app: pi.py\nexecutor: {memory: lots}\n')
    writeFileSync(join(drop, 'slow.yaml'), 'name: dropped-quick\napp: qu')
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 800))
      appendFileSync(join(drop, 'slow.yaml'), i < 2 ? '' : 'ick.py\n')
      utimesSync(join(drop, 'slow.yaml'), new Date(), new Date())
    }
    await table.query('INSERT INTO pending_jobs (task) VALUES ($1), ($2)', [
      JSON.stringify({name: 'row-pi', app: 'http://127.0.0.1:18998/pi.py', args: ['2'], conf: {'spark.ui.enabled': 'false'}}),
      JSON.stringify({app: 'http://127.0.0.1:18998/pi.py', executor: {instances: 0}}),
    ])
    await waitUntil('the source to take the three files', async () => readdirSync(drop).filter((f) => f.endsWith('.yaml')).length === 0, 60_000)
    expect(readdirSync(join(drop, 'done')).sort()).toEqual(['pi-job.yaml', 'slow.yaml'])
    expect(readdirSync(join(drop, 'failed')).sort()).toEqual(['broken.yaml', 'broken.yaml.error'])
    expect(readFileSync(join(drop, 'failed', 'broken.yaml.error'), 'utf8')).toContain('executor.memory: expected a size like 512m or 2g')
    await waitUntil('the source to take the rows', async () => (await table.query("SELECT 1 FROM pending_jobs WHERE status = 'pending'")).rowCount === 0, 60_000)
    const rows = (await table.query('SELECT id, status, task_id, error FROM pending_jobs ORDER BY id')).rows
    expect(rows[0]).toMatchObject({status: 'queued', task_id: `rows-${rows[0].id}`, error: null})
    expect(rows[1]).toMatchObject({status: 'refused', task_id: null})
    expect(rows[1].error).toContain('executor.instances')
    const all = (await server.call('GET', '/tasks?limit=1000', {key: read})).body.tasks
    const mine = all.filter((t: {source?: string}) => t.source === 'drop' || t.source === 'rows')
    expect(mine.map((t: {name: string}) => t.name).sort()).toEqual(['dropped-pi', 'dropped-quick', 'row-pi'])
    const sources = (await server.call('GET', '/mgmt/sources', {key: read})).body.sources
    expect(sources).toMatchObject([
      {name: 'drop', kind: 'directory', from: drop, queued: 2, refused: 1},
      {name: 'rows', kind: 'sql', queued: 1, refused: 1},
    ])
    expect(JSON.stringify(sources)).not.toContain(new URL(pgSchema.url).password)
    const done = await waitForTasks(server, read, mine.map((t: {id: string}) => t.id), ['SUCCEEDED', 'DEAD'], 420_000)
    expect(done.map((t) => t.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED'])
    const jobs = await engineJobs()
    for (const t of done) expect(jobsOfTask(jobs, t.name, t.id).map((j) => j.state), t.id).toEqual(['SUCCEEDED'])
    for (const name of ['dropped-pi', 'row-pi']) expect((await server.call('GET', `/task/${done.find((t) => t.name === name).id}/logs`, {key: read})).text, name).toContain('Pi is roughly')
    // The row gets the task's final state.
    await waitUntil('the row to get its final state', async () => (await table.query('SELECT status FROM pending_jobs WHERE id = $1', [rows[0].id])).rows[0].status === 'succeeded', 30_000)
    await table.end()
    await pgSchema.drop()
    // A folder that goes away is reported, not fatal.
    rmSync(drop, {recursive: true, force: true})
    await waitUntil('the source to report its folder missing', async () => Boolean((await server.call('GET', '/health')).body.sources?.[0]?.lastError?.includes('ENOENT')), 30_000)
    expect((await server.call('GET', '/health')).status).toBe(200)
  })

  it('job sources through /mgmt/sources: a RabbitMQ queue (one task per message id, refusals and completion events published, acked), kept across a restart, removed', async () => {
    const amqpUrl = testAmqpUrl()
    if (!amqpUrl) return
    const {default: amqp} = await import('amqplib')
    const admin = await makeKey(env, 'root', 'admin')
    const run = Math.random().toString(36).slice(2, 8)
    const queue = `cms.e2e.tasks.${run}`
    const exchange = `cms.e2e.events.${run}`
    // The message's app is served over HTTP on the head's own loopback (the head's spark-submit fetches it).
    const head = (await labelledContainers(NAME)).find((c) => c.role === 'head')!
    await docker('exec', head.name, 'mkdir', '-p', '/tmp/mq-apps')
    await docker('cp', piPyPath(WORK), `${head.name}:/tmp/mq-apps/pi.py`)
    await docker('exec', '-d', head.name, 'python3', '-m', 'http.server', '18997', '--bind', '127.0.0.1', '--directory', '/tmp/mq-apps')
    // A server with a sources file of its own (a file source, which the API may not remove).
    const kept = join(WORK, 'kept-drop')
    mkdirSync(kept, {recursive: true})
    writeFileSync(join(WORK, 'sources-mq.yaml'), `sources:\n  - {name: filed, kind: directory, path: ${kept}, cluster: ${NAME}}\n`)
    await server.stop()
    server = await startServer(env, ['--sources', join(WORK, 'sources-mq.yaml')])

    const bus = {name: 'bus', kind: 'rabbitmq', url: amqpUrl, queue, cluster: NAME, interval: '1s', declare: true, exchange}
    expect((await server.call('POST', '/mgmt/sources', {key: read, json: bus})).status).toBe(403)
    const bad = await server.call('POST', '/mgmt/sources', {key: admin, json: {...bus, prefetch: 0}})
    expect(bad.status).toBe(422)
    expect(bad.body.error).toBe('prefetch: expected a whole number from 1 to 1000')
    expect((await server.call('POST', '/mgmt/sources', {key: admin, json: {...bus, name: 'filed'}})).status).toBe(409)
    const made = await server.call('POST', '/mgmt/sources', {key: admin, json: bus})
    expect(made.status, made.text).toBe(201)
    expect(made.body).toMatchObject({name: 'bus', kind: 'rabbitmq', origin: 'api', queued: 0, refused: 0})
    const password = new URL(amqpUrl).password
    expect(made.text).not.toContain(password)
    expect((await server.call('POST', '/mgmt/sources', {key: admin, json: bus})).status).toBe(409)
    const busStatus = async () => ((await server.call('GET', '/mgmt/sources', {key: read})).body.sources as any[]).find((x) => x.name === 'bus')
    await waitUntil('the source to connect and declare its queue and exchange', async () => Boolean((await busStatus())?.lastOkAt), 30_000)

    // A consumer of the completion events, then the messages: one spec sent twice with one message id, one invalid.
    const conn = await amqp.connect(amqpUrl)
    try {
      const ch = await conn.createChannel()
      const events = (await ch.assertQueue('', {exclusive: true, autoDelete: true})).queue
      await ch.bindQueue(events, exchange, 'task.#')
      const spec = {name: 'mq-pi', app: 'http://127.0.0.1:18997/pi.py', args: ['2'], conf: {'spark.ui.enabled': 'false'}}
      for (let i = 0; i < 2; i++) ch.sendToQueue(queue, Buffer.from(JSON.stringify(spec)), {messageId: `order-${run}`, persistent: true, contentType: 'application/json'})
      ch.sendToQueue(queue, Buffer.from(JSON.stringify({app: 'http://127.0.0.1:18997/pi.py', executor: {instances: 0}})), {messageId: `bad-${run}`, persistent: true})
      await waitUntil('the source to take the three messages', async () => {
        const st = await busStatus()
        return st?.queued === 1 && st?.refused === 1 && (await ch.checkQueue(queue)).messageCount === 0
      }, 60_000)
      const all = (await server.call('GET', '/tasks?limit=1000', {key: read})).body.tasks
      const mine = all.filter((t: {source?: string}) => t.source === 'bus')
      expect(mine.map((t: {id: string}) => t.id)).toEqual([`bus-order-${run}`])
      const [done] = await waitForTasks(server, read, [`bus-order-${run}`], ['SUCCEEDED', 'DEAD'], 420_000)
      expect(done.state).toBe('SUCCEEDED')
      expect(jobsOfTask(await engineJobs(), 'mq-pi', done.id).map((j) => j.state)).toEqual(['SUCCEEDED'])
      expect((await server.call('GET', `/task/${done.id}/logs`, {key: read})).text).toContain('Pi is roughly')

      // On the exchange: the refusal with its reason, and the task's completion (as GET /task/{id} shows it).
      const got: Array<{key: string; body: any}> = []
      await waitUntil('the completion event', async () => {
        for (let m = await ch.get(events, {noAck: true}); m; m = await ch.get(events, {noAck: true})) got.push({key: m.fields.routingKey, body: JSON.parse(m.content.toString())})
        return got.some((g) => g.key === 'task.succeeded')
      }, 30_000)
      expect(got.map((g) => g.key)).toEqual(['task.refused', 'task.succeeded'])
      expect(got[0]!.body).toMatchObject({event: 'task.refused', source: 'bus', queue, messageId: `bad-${run}`})
      expect(got[0]!.body.reason).toContain('executor.instances')
      expect(got[1]!.body).toMatchObject({event: 'task.succeeded', state: 'SUCCEEDED', source: 'bus', task: {id: done.id, name: 'mq-pi', state: 'SUCCEEDED'}})

      // Every message was acked or rejected: none comes back to the queue when the server (its consumer) goes.
      await server.stop()
      expect(await ch.checkQueue(queue)).toMatchObject({messageCount: 0, consumerCount: 0})
    } finally {
      await conn.close()
    }

    // A restart: the source made through the API is still there (the database has it) and runs; then removed.
    server = await startServer(env, ['--sources', join(WORK, 'sources-mq.yaml')])
    const listed = (await server.call('GET', '/mgmt/sources', {key: read})).body.sources
    expect(listed.map((x: {name: string; origin: string}) => [x.name, x.origin])).toEqual([
      ['filed', 'file'],
      ['bus', 'api'],
    ])
    expect(JSON.stringify(listed)).not.toContain(password)
    await waitUntil('the source to connect again', async () => Boolean((await busStatus())?.lastOkAt), 30_000)
    const fromFile = await server.call('DELETE', '/mgmt/sources/filed', {key: admin})
    expect(fromFile.status).toBe(409)
    expect(fromFile.body.error).toContain('comes from the --sources file')
    expect((await server.call('DELETE', '/mgmt/sources/bus', {key: read})).status).toBe(403)
    expect((await server.call('DELETE', '/mgmt/sources/bus', {key: admin})).body).toEqual({name: 'bus', deleted: true})
    expect((await server.call('GET', '/mgmt/sources', {key: read})).body.sources.map((x: {name: string}) => x.name)).toEqual(['filed'])
    expect((await server.call('DELETE', '/mgmt/sources/bus', {key: admin})).status).toBe(404)

    // A broker that cannot be reached: reported in /health (with the service healthy), never its password.
    const down = await server.call('POST', '/mgmt/sources', {key: admin, json: {name: 'down', kind: 'rabbitmq', url: 'amqp://cms:n0tshown@127.0.0.1:1/', queue: 'q', cluster: NAME, interval: '1s'}})
    expect(down.status, down.text).toBe(201)
    await waitUntil('the source to report the broker down', async () => Boolean((await server.call('GET', '/health')).body.sources?.find((x: {name: string}) => x.name === 'down')?.lastError?.includes('ECONNREFUSED')), 30_000)
    const health = await server.call('GET', '/health')
    expect(health.status).toBe(200)
    expect(health.text).not.toContain('n0tshown')
    expect((await server.call('DELETE', '/mgmt/sources/down', {key: admin})).status).toBe(200)
  })

  it('kill -9 of the server while tasks run and wait, then a restart: every task ends exactly once', async () => {
    const ids: string[] = []
    for (let i = 0; i < 8; i++) {
      const r = await server.call('POST', '/task', {key: submit, form: taskForm({id: `crash-${i}`, cluster: NAME, spec: {name: `crash-${i}`, app: 'quick.py'}}, {'quick.py': QUICK_PY})})
      expect(r.status, r.text).toBe(201)
      ids.push(r.body.id)
    }
    await new Promise((r) => setTimeout(r, 1500))
    await server.kill9()
    server = await startServer(env)
    const done = await waitForTasks(server, read, ids, ['SUCCEEDED', 'DEAD'], 300_000)
    expect(done.map((t) => t.state)).toEqual(Array(8).fill('SUCCEEDED'))
    const jobs = await engineJobs()
    for (const id of ids) expect(jobsOfTask(jobs, id, id).map((j) => j.state), id).toEqual(['SUCCEEDED'])
  })

  it('a kill recorded by a server that died before telling the engine: after the restart the engine kills the job, the task ends KILLED in the asker\'s name, not retried', async () => {
    const r = await server.call('POST', '/task', {key: submit, form: taskForm({id: 'doomed', cluster: NAME, retries: 2, spec: {name: 'doomed', app: 'long.py'}}, {'long.py': 'import time\ntime.sleep(600)\n'})})
    expect(r.status, r.text).toBe(201)
    const [running] = await waitForTasks(server, read, ['doomed'], ['RUNNING'], 120_000)
    expect(running!.engineJobId).toBeTruthy()
    await server.kill9()
    // What DELETE /task/doomed records before it tells the engine, as a server that died right after left it (the
    // store's own code), a little longer ago than the tracker waits for a kill under way.
    const db = openSqlite(join(home, 'serve.db'))
    try {
      const store = new TaskStore(db)
      expect(await store.requestKill((await store.get('doomed'))!, 'ci', Date.now() - KILL_AGAIN_MS - 1000)).toBe(true)
    } finally {
      await db.close()
    }
    server = await startServer(env)
    // While the job runs, the view says who asked for the kill (unless the tracker was quicker than this read).
    const pending = (await server.call('GET', '/task/doomed', {key: read})).body
    if (pending.state === 'RUNNING') expect(pending.killRequested).toMatchObject({by: 'ci'})
    const [done] = await waitForTasks(server, read, ['doomed'], ['KILLED', 'SUCCEEDED', 'DEAD'], 180_000)
    expect(done!.state).toBe('KILLED')
    expect(jobsOfTask(await engineJobs(), 'doomed', 'doomed').map((j) => j.state)).toEqual(['KILLED'])
    const view = (await server.call('GET', '/task/doomed', {key: read})).body
    expect({runs: view.runs, attempts: view.attempts.map((a: {state: string}) => a.state), killRequested: view.killRequested}).toEqual({runs: 1, attempts: ['KILLED'], killRequested: undefined})
    const events = (await server.call('GET', '/task/doomed/events', {key: read})).body.events as Array<{to: string; actor: string; detail?: string}>
    expect(events.slice(-2).map((e) => [e.to, e.actor, e.detail])).toEqual([
      ['RUNNING', 'ci', `kill requested: ${running!.engineJobId} on ${NAME}`],
      ['KILLED', 'ci', `attempt 1: killed ${running!.engineJobId} on ${NAME}`],
    ])
  })

  it('two servers on one PostgreSQL share 16 tasks: each is submitted once; a job source made through one runs on both', async () => {
    const pg = await freshPgSchema()
    if (!pg) return
    const dataDir = join(home, 'shared-data')
    const pgKey = await makeKey(env, 'pg-ci', 'submit', pg.url)
    const a = await startServer(env, ['--db', pg.url, '--data-dir', dataDir, '--max-running', '6'])
    const b = await startServer(env, ['--db', pg.url, '--data-dir', dataDir, '--max-running', '6'])
    try {
      // Both servers know the cluster's capacity before the first task comes (GET /mgmt/clusters asks the engine):
      // each claims the tasks it is handed at once, so both take part (else the first to know may claim them all).
      for (const s of [a, b]) {
        const clusters = (await s.call('GET', '/mgmt/clusters', {key: pgKey})).body.clusters as Array<{name: string; capacity?: {cores: number}}>
        expect(clusters.find((c) => c.name === NAME)?.capacity?.cores).toBeGreaterThan(0)
      }
      const ids: string[] = []
      for (let i = 0; i < 16; i++) {
        const r = await (i % 2 ? a : b).call('POST', '/task', {key: pgKey, form: taskForm({id: `shared-${i}`, cluster: NAME, spec: {name: `shared-${i}`, app: 'quick.py'}, resources: {cores: 0.5, memory: '256m'}}, {'quick.py': QUICK_PY})})
        expect(r.status, r.text).toBe(201)
        ids.push(r.body.id)
      }
      const done = await waitForTasks(a, pgKey, ids, ['SUCCEEDED', 'DEAD'], 600_000)
      expect(done.map((t) => t.state)).toEqual(Array(16).fill('SUCCEEDED'))
      const jobs = await engineJobs()
      for (const id of ids) expect(jobsOfTask(jobs, id, id), id).toHaveLength(1)
      // Both servers took part: each claim names its server.
      const owners = new Set<string>()
      for (const id of ids) {
        const events = (await a.call('GET', `/task/${id}/events`, {key: pgKey})).body.events as Array<{to: string; detail?: string}>
        for (const e of events) if (e.to === 'SUBMITTED' && e.detail?.includes('(server ')) owners.add(/\(server (\S+)\)/.exec(e.detail)![1]!)
      }
      expect(owners.size).toBe(2)
      // A job source made through one server runs on both (each reads the stored sources every 5 s); removed
      // through the other, it stops on both.
      const pgAdmin = await makeKey(env, 'pg-admin', 'admin', pg.url)
      const names = async (s: TestServer) => ((await s.call('GET', '/mgmt/sources', {key: pgKey})).body.sources as Array<{name: string}>).map((x) => x.name)
      const made = await a.call('POST', '/mgmt/sources', {key: pgAdmin, json: {name: 'shared-drop', kind: 'directory', path: join(home, 'shared-drop'), cluster: NAME}})
      expect(made.status, made.text).toBe(201)
      await waitUntil('the other server to run the source', async () => (await names(b)).includes('shared-drop'), 30_000)
      expect((await b.call('DELETE', '/mgmt/sources/shared-drop', {key: pgAdmin})).status).toBe(200)
      await waitUntil('the first server to stop it', async () => (await names(a)).length === 0, 30_000)
    } finally {
      await a.stop()
      await b.stop()
      await pg.drop()
    }
  })
})
