import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROOT, cms, labelledContainers, makeCmsHome, removeClusterContainers, sparkJobFixtures} from './helpers.js'
import {s3SparkCases} from './s3-spark.cases.js'

// Jobs on a real cluster: a JVM job compiled here against the runtime's own jars, Spark's bundled Python
// example, and what the master itself reports about the drivers; s3a:// paths against a real S3 server on the same
// cluster (s3-spark.cases.ts).
const NAME = 'e2e-jobs'
// HDFS beside Spark (--hdfs) when the Hadoop runtime is built: a word count reads and writes it.
const HDFS = Boolean(process.env.CMS_HADOOP_DIST)

interface Driver {
  id: string
  state: string
}

async function masterDrivers(headIp: string): Promise<Driver[]> {
  const res = await fetch(`http://${headIp}:8080/json/`, {signal: AbortSignal.timeout(10_000)})
  const json = (await res.json()) as {activedrivers: Driver[]; completeddrivers: Driver[]}
  return [...json.activedrivers, ...json.completeddrivers]
}

describe('jobs on a Spark cluster', () => {
  const {home, cleanup} = makeCmsHome()
  const env = {CMS_HOME: home}
  let headIp = ''
  let fixtures: {jar: string; piPy: string}
  let okJob = ''

  const spec = (file: string, body: string) => {
    const path = join(home, file)
    writeFileSync(path, body)
    return path
  }

  beforeAll(async () => {
    fixtures = sparkJobFixtures()
    await removeClusterContainers(NAME)
    const r = await cms(['cluster', 'create', '-n', NAME, '--hosts', '2', ...(HDFS ? ['--hdfs'] : [])], env)
    if (r.code !== 0) throw new Error(`create failed: ${r.stderr}`)
    headIp = (await labelledContainers(NAME)).find((c) => c.role === 'head')!.ip
  })

  afterAll(async () => {
    await removeClusterContainers(NAME)
    cleanup()
  })

  it('a JVM job that succeeds: --wait exits 0 and the master reports the driver FINISHED', async () => {
    const file = spec('ok.yaml', `name: sum\napp: ${fixtures.jar}\nmainClass: CmsE2eJob\nargs: [ok]\nexecutor: {cores: 1, memory: 512m}\ndriver: {memory: 512m}\n`)
    const r = await cms(['cluster', 'submit', '-n', NAME, file, '--wait', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const job = JSON.parse(r.stdout).jobs[0]
    okJob = job.id
    expect(job.state).toBe('SUCCEEDED')
    const driver = (await masterDrivers(headIp)).find((d) => d.id === job.attempts[0].submissionId)
    expect(driver?.state).toBe('FINISHED')
  })

  it('logs shows the driver output, fetched from the worker that ran it', async () => {
    const r = await cms(['job', 'logs', '-n', NAME, okJob], env)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('CMS-E2E-RESULT sum=500500')
  })

  it('a JVM job that throws: --wait exits 1 and the master reports the driver FAILED', async () => {
    const r = await cms(['cluster', 'submit', '-n', NAME, fixtures.jar, '--class', 'CmsE2eJob', '--conf', 'spark.executor.memory=512m', '--wait', '--json', '--', 'fail'], env)
    expect(r.code).toBe(1)
    const job = JSON.parse(r.stdout).jobs[0]
    expect(job.state).toBe('FAILED')
    expect((await masterDrivers(headIp)).find((d) => d.id === job.attempts[0].submissionId)?.state).toBe('FAILED')
    const logs = await cms(['job', 'logs', '-n', NAME, job.id], env)
    expect(logs.stderr).toContain('CMS-E2E-FAILURE')
  })

  it("Spark's Python example runs in client mode on the head; logs show its result", async () => {
    const r = await cms(['cluster', 'submit', '-n', NAME, fixtures.piPy, '--wait', '--json', '--', '2'], env)
    expect(r.code, r.stderr).toBe(0)
    const job = JSON.parse(r.stdout).jobs[0]
    expect(job).toMatchObject({kind: 'python', state: 'SUCCEEDED'})
    const logs = await cms(['job', 'logs', '-n', NAME, job.id], env)
    expect(logs.stdout).toMatch(/Pi is roughly 3\.\d+/)
  })

  it('retries a failing job up to the spec’s count; the attempts are visible in status', async () => {
    const file = spec('retry.yaml', `app: ${fixtures.jar}\nmainClass: CmsE2eJob\nargs: [fail]\nretries: 1\nexecutor: {memory: 512m}\n`)
    const r = await cms(['cluster', 'submit', '-n', NAME, file, '--wait', '--json'], env)
    expect(r.code).toBe(1)
    const job = JSON.parse(r.stdout).jobs[0]
    expect(job.attempts).toHaveLength(2)
    const drivers = await masterDrivers(headIp)
    for (const a of job.attempts) expect(drivers.find((d) => d.id === a.submissionId)?.state).toBe('FAILED')
  })

  it('kill stops a long-running job and the master reports it KILLED', async () => {
    const r = await cms(['cluster', 'submit', '-n', NAME, fixtures.jar, '--class', 'CmsE2eJob', '--json', '--', 'sleep'], env)
    expect(r.code, r.stderr).toBe(0)
    const id = JSON.parse(r.stdout).jobs[0].id
    for (let i = 0; i < 120; i++) {
      const s = JSON.parse((await cms(['job', 'status', '-n', NAME, id, '--json'], env)).stdout)
      if (s.state === 'RUNNING') break
      await new Promise((res) => setTimeout(res, 1000))
    }
    const killed = await cms(['job', 'kill', '-n', NAME, id, '--json'], env)
    expect(killed.code, killed.stderr).toBe(0)
    const view = JSON.parse(killed.stdout)
    expect(view.state).toBe('KILLED')
    expect((await masterDrivers(headIp)).find((d) => d.id === view.attempts[0].submissionId)?.state).toBe('KILLED')
  })

  it('rerun submits the same spec again under a new id', async () => {
    const r = await cms(['job', 'rerun', '-n', NAME, okJob, '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const fresh = JSON.parse(r.stdout)
    expect(fresh.id).not.toBe(okJob)
    expect(fresh.rerunOf).toBe(okJob)
    let state = ''
    for (let i = 0; i < 180 && !['SUCCEEDED', 'FAILED'].includes(state); i++) {
      state = JSON.parse((await cms(['job', 'status', '-n', NAME, fresh.id, '--json'], env)).stdout).state
      if (!['SUCCEEDED', 'FAILED'].includes(state)) await new Promise((res) => setTimeout(res, 1000))
    }
    expect(state).toBe('SUCCEEDED')
  })

  it('job list agrees with the master about every driver', async () => {
    const r = await cms(['job', 'list', '-n', NAME, '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const list = JSON.parse(r.stdout)
    const drivers = await masterDrivers(headIp)
    const expected: Record<string, string> = {FINISHED: 'SUCCEEDED', FAILED: 'FAILED', KILLED: 'KILLED'}
    const jvm = list.jobs.filter((j: {kind: string}) => j.kind === 'jvm')
    expect(jvm.length).toBeGreaterThanOrEqual(4)
    for (const job of jvm) {
      const last = job.attempts.at(-1)
      const driver = drivers.find((d) => d.id === last.submissionId)
      expect(driver, job.id).toBeDefined()
      expect(job.state).toBe(expected[driver!.state])
    }
  })

  it('refuses invalid specs and missing files with exit 2 and submits nothing', async () => {
    const before = (await masterDrivers(headIp)).length
    const bad = spec('bad.yaml', `app: ${fixtures.jar}\nmainClass: CmsE2eJob\nexecutors: 3\n`)
    const cases = [
      ['cluster', 'submit', '-n', NAME, bad],
      ['cluster', 'submit', '-n', NAME, spec('nomain.yaml', `app: ${fixtures.jar}\n`)],
      ['cluster', 'submit', '-n', NAME, '/nonexistent/job.yaml'],
      ['cluster', 'submit', '-n', NAME, spec('missing-app.yaml', 'app: /nonexistent/app.jar\nmainClass: X\n')],
      ['cluster', 'submit', '-n', 'no-such-cluster', fixtures.jar, '--class', 'CmsE2eJob'],
      ['job', 'status', '-n', NAME, 'no-such-job'],
    ]
    for (const args of cases) {
      const r = await cms(args, env)
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    }
    expect((await masterDrivers(headIp)).length).toBe(before)
  })

  const webhdfs = (path: string, op: string) => fetch(`http://${headIp}:9870/webhdfs/v1${path}?op=${op}&user.name=root`, {signal: AbortSignal.timeout(15_000)})

  it.skipIf(!HDFS)('--hdfs: the NameNode lists every host\'s DataNode; a word count reads its input from HDFS and writes its result there', async () => {
    const ips = (await labelledContainers(NAME)).map((c) => c.ip).sort()
    const jmx = await fetch(`http://${headIp}:9870/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo`, {signal: AbortSignal.timeout(15_000)})
    const bean = ((await jmx.json()) as {beans: Array<{LiveNodes: string; Safemode: string}>}).beans[0]!
    expect(bean.Safemode).toBe('')
    expect(Object.values(JSON.parse(bean.LiveNodes) as Record<string, {xferaddr: string}>).map((d) => d.xferaddr.replace(/:\d+$/, '')).sort()).toEqual(ips)
    expect(JSON.parse((await cms(['cluster', 'info', '-n', NAME, '--json'], env)).stdout)).toMatchObject({health: 'healthy', hdfs: {liveDataNodes: 2}})
    writeFileSync(join(home, 'input.txt'), 'to be or not to be\nthat is the question to be\n')
    expect((await cms(['cluster', 'put', '-n', NAME, join(home, 'input.txt'), '/wc/input.txt'], env)).code).toBe(0)
    const r = await cms(['cluster', 'submit', '-n', NAME, join(ROOT, 'test/e2e/fixtures/wordcount.py'), '--wait', '--', '/wc/input.txt', 'hdfs:///wc/out'], env)
    expect(r.code, r.stderr).toBe(0)
    const parts = ((await (await webhdfs('/wc/out', 'LISTSTATUS')).json()) as {FileStatuses: {FileStatus: Array<{pathSuffix: string}>}}).FileStatuses.FileStatus
    expect(parts.map((p) => p.pathSuffix)).toContain('_SUCCESS')
    let text = ''
    for (const p of parts.filter((x) => x.pathSuffix.startsWith('part-'))) text += await (await webhdfs(`/wc/out/${p.pathSuffix}`, 'OPEN')).text()
    expect(Object.fromEntries(text.trim().split('\n').map((l) => l.split('\t')))).toMatchObject({to: '3', be: '3', or: '1', question: '1'})
  })

  it.skipIf(!HDFS)('--hdfs: refuses to remove a DataNode HDFS needs for its replication, and changes nothing', async () => {
    const worker = (await labelledContainers(NAME)).find((c) => c.role === 'worker')!
    const r = await cms(['cluster', 'remove', '-n', NAME, worker.name], env)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`removing ${worker.name} would leave 1 DataNode, fewer than HDFS's replication factor 2`)
    expect(await labelledContainers(NAME)).toHaveLength(2)
    const res = await fetch(`http://${headIp}:8080/json/`, {signal: AbortSignal.timeout(10_000)})
    expect(((await res.json()) as {aliveworkers: number}).aliveworkers).toBe(2)
  })

  s3SparkCases({name: NAME, home, engine: 'spark'})
})
