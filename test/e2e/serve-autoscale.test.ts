import {join} from 'node:path'
import Database from 'better-sqlite3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cms, labelledContainers, makeCmsHome, removeClusterContainers, waitUntil} from './helpers.js'
import {clusterEvents, makeKey, startServer, taskForm, waitForTasks, type TestServer} from './serve-harness.js'

// cms serve --autoscale on a real 1-host Spark cluster on docker: the hosts are counted by Docker (the provider),
// the workers and their apps by the Spark master, the actions by the service's database.
const NAME = 'e2e-scale'
// Holds its executor for a while, so that queued tasks wait for the cluster's room.
const HOLD_PY = 'import time\nfrom pyspark.sql import SparkSession\nspark = SparkSession.builder.getOrCreate()\nprint(spark.sparkContext.parallelize(range(100), 1).sum())\ntime.sleep(20)\nspark.stop()\n'

interface App {
  name: string
  starttime: number
  duration: number
}

async function master(headIp: string): Promise<{aliveworkers: number; workers: Array<{state: string}>; activeapps: App[]; completedapps: App[]}> {
  const res = await fetch(`http://${headIp}:8080/json/`, {signal: AbortSignal.timeout(10_000)})
  return (await res.json()) as never
}

/** The most apps that ran at the same time, from the master's own start times and durations. */
function mostAtOnce(apps: App[]): number {
  const edges = apps.flatMap((a) => [
    [a.starttime, 1],
    [a.starttime + a.duration, -1],
  ])
  edges.sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!)
  let now = 0
  let most = 0
  for (const [, d] of edges) most = Math.max(most, (now += d!))
  return most
}

describe('cms serve --autoscale on a docker Spark cluster', () => {
  const {home, cleanup} = makeCmsHome()
  const env = {CMS_HOME: home}
  let server: TestServer | undefined
  let key = ''
  let headIp = ''

  beforeAll(async () => {
    await removeClusterContainers(NAME)
    const r = await cms(['cluster', 'create', '-n', NAME, '--hosts', '1', '--worker-cores', '1', '--worker-memory', '1g'], env)
    if (r.code !== 0) throw new Error(`create failed: ${r.stderr}`)
    headIp = (await labelledContainers(NAME)).find((c) => c.role === 'head')!.ip
    key = await makeKey(env, 'ci', 'submit')
  })

  afterAll(async () => {
    await server?.stop()
    await removeClusterContainers(NAME)
    cleanup()
  })

  it('refuses a policy for a cluster no provider knows, before anything starts', async () => {
    const r = await cms(['serve', '--listen', '127.0.0.1:0', '--db', join(home, 'refused.db'), '--autoscale', 'e2e-nope:min=1,max=2'], env, {timeoutMs: 60_000})
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toContain('--autoscale e2e-nope: no provider knows this cluster')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    const bad = await cms(['serve', '--listen', '127.0.0.1:0', '--autoscale', `${NAME}:min=2,max=1`], env, {timeoutMs: 60_000})
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('max=1 is below min=2')
  })

  it('6 queued tasks grow the 1-host cluster to 3 hosts, all finish, and it shrinks back to 1 once idle', async () => {
    server = await startServer(env, ['--cluster', NAME, '--autoscale', `${NAME}:min=1,max=3,idle=20s,wait=5s`])
    const ids: string[] = []
    for (let i = 0; i < 6; i++) {
      const spec = {name: `scale-${i}`, app: 'hold.py', conf: {'spark.ui.enabled': 'false'}, executor: {instances: 1, cores: 1, memory: '512m'}}
      const res = await server.call('POST', '/task', {key, form: taskForm({cluster: NAME, spec}, {'hold.py': HOLD_PY})})
      expect(res.status, res.text).toBe(201)
      ids.push(res.body.id)
    }
    // Docker runs 3 hosts of the cluster, and the master has 3 live workers.
    await waitUntil('the cluster to grow to 3 hosts', async () => (await labelledContainers(NAME)).filter((c) => c.state === 'running').length === 3, 300_000)
    await waitUntil('3 live workers', async () => (await master(headIp)).aliveworkers === 3, 120_000)
    const done = await waitForTasks(server, key, ids, ['SUCCEEDED', 'DEAD', 'KILLED'], 600_000)
    expect(done.map((t) => t.state)).toEqual(Array(6).fill('SUCCEEDED'))
    // One worker core could run one app at a time: more at once means the new hosts took work.
    const apps = (await master(headIp)).completedapps.filter((a) => a.name.startsWith('scale-'))
    expect(apps).toHaveLength(6)
    expect(mostAtOnce(apps)).toBeGreaterThanOrEqual(2)
    // Idle for 20 s: back to the head alone, never below min=1.
    await waitUntil('the cluster to shrink to 1 host', async () => (await labelledContainers(NAME)).length === 1, 300_000)
    expect((await labelledContainers(NAME))[0]!.role).toBe('head')
    await waitUntil('1 live worker', async () => (await master(headIp)).aliveworkers === 1, 60_000)
    // Every action is in the cluster's audit trail in the database, and the API and the Clusters view show it.
    await waitUntil('the shrink to be recorded', async () => clusterEvents(home, NAME).some((e) => e.kind === 'shrunk'), 60_000)
    const events = clusterEvents(home, NAME)
    const db = new Database(join(home, 'serve.db'), {readonly: true})
    expect(db.prepare('SELECT COUNT(*) AS n FROM cluster_leases').get()).toEqual({n: 0})
    db.close()
    const kinds = events.map((e) => e.kind)
    expect(kinds.filter((k) => k.endsWith('-failed'))).toEqual([])
    expect(kinds[0]).toBe('grow')
    expect(kinds).toContain('grown')
    expect(kinds[kinds.length - 1]).toBe('shrunk')
    expect(events.every((e) => e.actor === 'autoscaler')).toBe(true)
    const added = events.filter((e) => e.kind === 'grown').flatMap((e) => /^added (.*) in /.exec(e.detail)![1]!.split(', '))
    expect(added).toHaveLength(2)
    const removed = events.filter((e) => e.kind === 'shrunk').flatMap((e) => /^removed (.*?) in \d+ s/.exec(e.detail)![1]!.split(', '))
    expect(removed.sort()).toEqual(added.sort())
    const api = await server.call('GET', `/mgmt/clusters/${NAME}/events`, {key})
    expect(api.body.events.map((e: {kind: string}) => e.kind).reverse()).toEqual(kinds)
    const clusters = (await server.call('GET', '/mgmt/clusters', {key})).body.clusters
    expect(clusters.find((c: {name: string}) => c.name === NAME)).toMatchObject({hosts: 1, autoscale: {policy: 'min=1,max=3,idle=20s,wait=5s', state: 'steady'}})
  })
})
