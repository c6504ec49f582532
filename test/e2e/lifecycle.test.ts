import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {aliveWorkers, cms, docker, labelledContainers, makeCmsHome, masterJson, removeClusterContainers, waitForAliveWorkers} from './helpers.js'

// One cluster grows and shrinks through the whole lifecycle; every assertion reads the Spark master's own API
// or the Docker engine's labels, not what cms printed.
const NAME = 'e2e-life'

describe('docker provider lifecycle', () => {
  const {home, cleanup} = makeCmsHome()
  const env = {CMS_HOME: home}
  let headIp = ''
  let shareMb = 0

  beforeAll(async () => removeClusterContainers(NAME))
  afterAll(async () => {
    await removeClusterContainers(NAME)
    cleanup()
  })

  it('create makes 3 labelled hosts and the master reports 3 alive workers', async () => {
    const r = await cms(['cluster', 'create', '-n', NAME, '--hosts', '3', '--json'], env)
    const containers = await labelledContainers(NAME)
    headIp = containers.find((c) => c.role === 'head')?.ip ?? ''
    expect(r.code, r.stderr).toBe(0)
    expect(containers).toHaveLength(3)
    expect(containers.filter((c) => c.role === 'head')).toHaveLength(1)
    const master = await masterJson(headIp)
    expect(master.status).toBe('ALIVE')
    expect(aliveWorkers(master)).toEqual(containers.map((c) => c.ip).sort())
    // The three containers share this machine, so each worker offers a third of it, less 1 GiB, not all of it.
    const machineMb = Math.floor(Number(await docker('info', '--format', '{{.MemTotal}}')) / 2 ** 20)
    shareMb = Math.max(1024, Math.floor(machineMb / 3) - 1024)
    expect(master.workers.map((w) => w.memory)).toEqual([shareMb, shareMb, shareMb])
    const report = JSON.parse(r.stdout)
    expect(report.cluster.health).toBe('healthy')
    expect(report.cluster.master.aliveWorkers).toBe(3)
    // The runtime crosses the client link once: the head serves it to the other hosts.
    expect(report.transfer.uploadRatio).toBeLessThanOrEqual(1.1)
  })

  it('create again is a no-op that reports the same healthy cluster', async () => {
    const r = await cms(['cluster', 'create', '-n', NAME, '--hosts', '3', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).transfer.uploadedBytes).toBe(0)
    expect(await labelledContainers(NAME)).toHaveLength(3)
  })

  it('info and list show what the master reports', async () => {
    const info = await cms(['cluster', 'info', '-n', NAME, '--json'], env)
    expect(info.code, info.stderr).toBe(0)
    const parsed = JSON.parse(info.stdout)
    const master = await masterJson(headIp)
    expect(parsed.master.aliveWorkers).toBe(master.aliveworkers)
    expect(parsed.hosts.map((h: {worker?: {state: string}}) => h.worker?.state)).toEqual(['ALIVE', 'ALIVE', 'ALIVE'])
    const list = await cms(['cluster', 'list', '--json'], env)
    expect(list.code, list.stderr).toBe(0)
    const entry = JSON.parse(list.stdout).clusters.find((c: {name: string}) => c.name === NAME)
    expect(entry).toMatchObject({provider: 'docker', hosts: 3, masterStatus: 'ALIVE', aliveWorkers: 3})
  })

  it('tunnel carries the master web UI and REST API to loopback only, for a command run through it', async () => {
    const script = 'echo "$CMS_SPARK_UI_URL $CMS_SPARK_REST_URL" && curl -sf "$CMS_SPARK_UI_URL/json/"'
    const r = await cms(['cluster', 'tunnel', '-n', NAME, '--', 'sh', '-c', script], env)
    expect(r.code, r.stderr).toBe(0)
    const [urls, ...json] = r.stdout.trim().split('\n')
    expect(JSON.parse(json.join('\n')).aliveworkers).toBe(3)
    expect(urls).toMatch(/^http:\/\/127\.0\.0\.1:\d+ http:\/\/127\.0\.0\.1:\d+$/)
  })

  it('add joins a fourth host', async () => {
    const r = await cms(['cluster', 'add', '-n', NAME, '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).transfer.uploadedBytes).toBe(0)
    expect(await labelledContainers(NAME)).toHaveLength(4)
    const master = await waitForAliveWorkers(headIp, 4)
    // The new worker takes the settings the cluster was created with, recorded on the head.
    const alive = master.workers.filter((w) => w.state === 'ALIVE')
    expect(alive.map((w) => w.memory)).toEqual([shareMb, shareMb, shareMb, shareMb])
  })

  it('remove decommissions a worker and removes its container', async () => {
    const victim = (await labelledContainers(NAME)).find((c) => c.role === 'worker')!
    const r = await cms(['cluster', 'remove', '-n', NAME, victim.name], env)
    expect(r.code, r.stderr).toBe(0)
    const containers = await labelledContainers(NAME)
    expect(containers.map((c) => c.name)).not.toContain(victim.name)
    expect(containers).toHaveLength(3)
    const master = await waitForAliveWorkers(headIp, 3)
    expect(aliveWorkers(master)).not.toContain(victim.ip)
  })

  it('remove refuses the head and unknown hosts with exit 2', async () => {
    const head = (await labelledContainers(NAME)).find((c) => c.role === 'head')!
    expect((await cms(['cluster', 'remove', '-n', NAME, head.name], env)).code).toBe(2)
    expect((await cms(['cluster', 'remove', '-n', NAME, 'no-such-host'], env)).code).toBe(2)
    expect(await labelledContainers(NAME)).toHaveLength(3)
  })

  it('kill removes every labelled container and the network', async () => {
    const r = await cms(['cluster', 'kill', '-n', NAME, '--yes'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(await labelledContainers(NAME)).toHaveLength(0)
    expect(await docker('network', 'ls', '-q', '--filter', `label=cms.cluster=${NAME}`)).toBe('')
    expect((await cms(['cluster', 'info', '-n', NAME], env)).code).toBe(2)
  })
})
