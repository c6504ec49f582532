import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {beforeAll, expect, it} from 'vitest'
import {cms, docker, labelledContainers, ROOT, sparkJobFixtures, waitUntil} from './helpers.js'

// Jobs on YARN: the portable spec as Spark in cluster deploy mode on a 2-host hadoop cluster, checked against
// what the ResourceManager itself reports about each application. The cases run on hadoop.test.ts's cluster
// (one cluster for the engine's whole e2e), registered by yarnJobCases inside its describe.
const HADOOP_DIST = process.env.CMS_HADOOP_DIST

interface RmApp {
  id: string
  state: string
  finalStatus: string
  priority: number
  applicationTags: string
  applicationType: string
}

/** A MapReduce word count compiled against the Hadoop runtime's own jars (extracted once from CMS_HADOOP_DIST). */
function wordCountJar(): string {
  const work = join(ROOT, '.cache', 'e2e-hadoop-jobs')
  const jar = join(work, 'cms-wordcount.jar')
  if (existsSync(jar)) return jar
  const runtime = join(work, 'runtime')
  mkdirSync(runtime, {recursive: true})
  execFileSync('tar', ['-xzf', HADOOP_DIST!, '-C', runtime, '--wildcards', '*/share/hadoop/lib/*'])
  const lib = join(runtime, readdirSync(runtime).find((d) => d.startsWith('hadoop-'))!, 'share', 'hadoop', 'lib')
  const classes = join(work, 'classes')
  mkdirSync(classes, {recursive: true})
  execFileSync('javac', ['-d', classes, '-cp', `${lib}/*`, join(ROOT, 'test', 'e2e', 'fixtures', 'CmsWordCount.java')])
  execFileSync('jar', ['cf', jar, '-C', classes, '.'])
  return jar
}

async function rm<T>(headIp: string, path: string): Promise<T> {
  const res = await fetch(`http://${headIp}:8088${path}`, {headers: {accept: 'application/json'}, signal: AbortSignal.timeout(15_000)})
  expect(res.status, path).toBe(200)
  return (await res.json()) as T
}

const rmApp = async (headIp: string, id: string) => (await rm<{app: RmApp}>(headIp, `/ws/v1/cluster/apps/${id}`)).app
const rmAttempts = async (headIp: string, id: string) =>
  (await rm<{appAttempts: {appAttempt?: Array<{id: number; containerId: string}>}}>(headIp, `/ws/v1/cluster/apps/${id}/appattempts`)).appAttempts.appAttempt ?? []

/** The cluster the cases run on: its name, the test's cms environment and home, and its head's address once made. */
export interface YarnJobCluster {
  name: string
  env: Record<string, string>
  home: string
  headIp: string
}

export function yarnJobCases(ctx: YarnJobCluster): void {
  const NAME = ctx.name
  const env = ctx.env
  const home = ctx.home
  let fixtures: {jar: string; piPy: string}
  let piJob = ''

  const spec = (file: string, body: string) => {
    const path = join(home, file)
    writeFileSync(path, body)
    return path
  }

  beforeAll(() => {
    fixtures = sparkJobFixtures()
  })

  it('pi.py runs in cluster mode: --wait exits 0, the ResourceManager reports it FINISHED/SUCCEEDED, logs show its result', async () => {
    const r = await cms(['cluster', 'submit', '-n', NAME, fixtures.piPy, '--wait', '--json', '--', '2'], env)
    expect(r.code, r.stderr).toBe(0)
    const job = JSON.parse(r.stdout).jobs[0]
    piJob = job.id
    expect(job).toMatchObject({kind: 'python', state: 'SUCCEEDED'})
    const app = await rmApp(ctx.headIp, job.applicationId)
    expect([app.state, app.finalStatus]).toEqual(['FINISHED', 'SUCCEEDED'])
    expect(app.applicationTags).toBe(`cms-job-${job.id}`.toLowerCase())
    const logs = await cms(['job', 'logs', '-n', NAME, job.id], env)
    expect(logs.code, logs.stderr).toBe(0)
    expect(logs.stdout).toMatch(/Pi is roughly 3\.\d+/)
  })

  it('retries are YARN attempts and priority is YARN priority: a failing JVM job with retries 1 has 2 attempts', async () => {
    const file = spec('retry.yaml', `app: ${fixtures.jar}\nmainClass: CmsE2eJob\nargs: [fail]\nretries: 1\npriority: 500\ndriver: {memory: 512m}\nexecutor: {memory: 512m}\n`)
    const r = await cms(['cluster', 'submit', '-n', NAME, file, '--wait', '--json'], env)
    expect(r.code).toBe(1)
    const job = JSON.parse(r.stdout).jobs[0]
    expect(job.state).toBe('FAILED')
    const app = await rmApp(ctx.headIp, job.applicationId)
    expect([app.state, app.finalStatus, app.priority]).toEqual(['FINISHED', 'FAILED', 5])
    const attempts = await rmAttempts(ctx.headIp, job.applicationId)
    expect(attempts).toHaveLength(2)
    expect(job.attempts.map((a: {containerId: string}) => a.containerId)).toEqual(attempts.map((a) => a.containerId))
    const logs = await cms(['job', 'logs', '-n', NAME, job.id], env)
    expect(logs.stderr).toContain('CMS-E2E-FAILURE')
  })

  it('kill: the ResourceManager reports the running application KILLED', async () => {
    const r = await cms(['cluster', 'submit', '-n', NAME, fixtures.jar, '--class', 'CmsE2eJob', '--json', '--', 'sleep'], env)
    expect(r.code, r.stderr).toBe(0)
    const {id, applicationId} = JSON.parse(r.stdout).jobs[0]
    await waitUntil('the application runs', async () => (await rmApp(ctx.headIp, applicationId)).state === 'RUNNING', 120_000)
    const killed = await cms(['job', 'kill', '-n', NAME, id, '--json'], env)
    expect(killed.code, killed.stderr).toBe(0)
    expect(JSON.parse(killed.stdout).state).toBe('KILLED')
    expect((await rmApp(ctx.headIp, applicationId)).state).toBe('KILLED')
  })

  it('a MapReduce jar runs with hadoop jar semantics: a MAPREDUCE application SUCCEEDED, its output in HDFS, the client output in logs', async () => {
    const head = (await labelledContainers(NAME)).find((c) => c.role === 'head')!.name
    await docker('exec', head, 'bash', '-c', `printf 'a b a\\nc a\\n' > /tmp/words.txt && HADOOP_CONF_DIR=/root/.cms/clusters/${NAME}/hadoop-conf HADOOP_ROOT_LOGGER=WARN,console /root/.cms/dist/*/hadoop-*/bin/hdfs dfs -put -f /tmp/words.txt /words.txt`)
    const file = spec('wc.yaml', `name: wc\napp: ${wordCountJar()}\nmainClass: CmsWordCount\nargs: [/words.txt, /wc-out]\npriority: 1000\nexecutor: {memory: 512m}\n`)
    const r = await cms(['cluster', 'submit', '-n', NAME, file, '--wait', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const job = JSON.parse(r.stdout).jobs[0]
    expect(job).toMatchObject({kind: 'mapreduce', state: 'SUCCEEDED'})
    const app = await rmApp(ctx.headIp, job.applicationId)
    expect([app.applicationType, app.state, app.finalStatus, app.priority]).toEqual(['MAPREDUCE', 'FINISHED', 'SUCCEEDED', 10])
    expect(app.applicationTags).toBe(`cms-job-${job.id}`.toLowerCase())
    const out = await fetch(`http://${ctx.headIp}:9870/webhdfs/v1/wc-out/part-r-00000?op=OPEN`, {signal: AbortSignal.timeout(15_000)})
    expect(await out.text()).toBe('a\t3\nb\t1\nc\t1\n')
    const logs = await cms(['job', 'logs', '-n', NAME, job.id], env)
    expect(logs.stdout).toContain('CMS-E2E-WORDCOUNT done')
  })

  it('job list agrees with the ResourceManager about every application; an unknown job exits 2', async () => {
    const r = await cms(['job', 'list', '-n', NAME, '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const list = JSON.parse(r.stdout)
    expect(list.jobs).toHaveLength(4)
    const expected: Record<string, string> = {'FINISHED/SUCCEEDED': 'SUCCEEDED', 'FINISHED/FAILED': 'FAILED', 'KILLED/KILLED': 'KILLED'}
    for (const job of list.jobs) {
      const app = await rmApp(ctx.headIp, job.applicationId)
      expect(job.state, job.id).toBe(expected[`${app.state}/${app.finalStatus}`])
      expect(list.applications.map((a: {id: string}) => a.id)).toContain(app.id)
    }
    const unknown = await cms(['job', 'status', '-n', NAME, 'no-such-job'], env)
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('no-such-job')
  })

  it('rerun submits the same job again as a new application, under its new id', async () => {
    const r = await cms(['job', 'rerun', '-n', NAME, piJob, '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const fresh = JSON.parse(r.stdout)
    expect(fresh).toMatchObject({rerunOf: piJob, name: 'pi'})
    expect(fresh.id).not.toBe(piJob)
    // That a submitted pi.py runs to SUCCEEDED is shown above; here YARN has the new application, tagged with the new job.
    const app = await rmApp(ctx.headIp, fresh.applicationId)
    expect(app.applicationTags).toBe(`cms-job-${fresh.id}`.toLowerCase())
    expect(app.state).not.toBe('KILLED')
  })
}
