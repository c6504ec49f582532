import {mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import ssh2 from 'ssh2'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DockerProvider} from '../../src/providers/docker/provider.js'
import {generateEd25519} from '../../src/providers/ssh-keys.js'
import {KnownHosts} from '../../src/remote/known-hosts.js'

/** Every file under dir, relative to it. */
const filesUnder = (dir: string): string[] => readdirSync(dir, {recursive: true, encoding: 'utf8'})

// A Docker API on a unix socket of this test that knows no containers: a cluster that does not exist yet.
describe('docker provider: the cluster key is written only when hosts are made', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cms-key-'))
  const home = join(dir, 'home')
  const socket = join(dir, 'docker.sock')
  const saved = {CMS_HOME: process.env.CMS_HOME, DOCKER_HOST: process.env.DOCKER_HOST}
  const requests: string[] = []
  let server: Server

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url ?? ''}`)
      res.setHeader('content-type', 'application/json')
      // One cluster has a host: 'seen'.
      const seen = decodeURIComponent(req.url ?? '').includes('cms.cluster=seen')
      const container = {Id: 'c1', Names: ['/cms-seen-1'], State: 'running', Labels: {'cms.cluster': 'seen', 'cms.role': 'head'}}
      res.end(req.url?.startsWith('/containers/json') ? JSON.stringify(seen ? [container] : []) : '{}')
    })
    await new Promise<void>((resolve) => server.listen(socket, resolve))
    mkdirSync(home)
    process.env.CMS_HOME = home
    process.env.DOCKER_HOST = `unix://${socket}`
  })

  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v)
    await new Promise<void>((resolve) => server.close(() => resolve()))
    rmSync(dir, {recursive: true, force: true})
  })

  const provider = () => new DockerProvider(new KnownHosts({ownFile: join(home, 'known_hosts')}))

  it('gives a usable key for a cluster with no hosts and leaves CMS_HOME untouched', async () => {
    const p = provider()
    const first = await p.credentials('fresh')
    expect(requests.some((u) => u.startsWith('GET /containers/json'))).toBe(true)
    const parsed = ssh2.utils.parseKey(first.privateKey!)
    expect(parsed instanceof Error).toBe(false)
    expect((await p.credentials('fresh')).privateKey).toEqual(first.privateKey)
    expect(filesUnder(home)).toEqual([])
  })

  it('uses the key file of a cluster that has one and writes nothing', async () => {
    const pair = generateEd25519('cms-kept')
    mkdirSync(join(home, 'keys'))
    writeFileSync(join(home, 'keys', 'kept'), pair.private, {mode: 0o600})
    const {privateKey} = await provider().credentials('kept')
    expect(privateKey?.toString('utf8')).toBe(pair.private)
    expect(filesUnder(home).sort()).toEqual(['keys', 'keys/kept'])
  })

  it('a command that only looks (list) makes no key for a cluster with hosts and installs none, and says why it cannot log in', async () => {
    const p = new DockerProvider(new KnownHosts({ownFile: join(home, 'known_hosts')}), () => undefined, {makeKeys: false})
    const before = filesUnder(home).sort()
    requests.length = 0
    expect(await p.credentials('seen')).toEqual({})
    expect(p.accessProblem('seen')).toContain("no access key for cluster seen on this machine")
    expect(filesUnder(home).sort()).toEqual(before)
    expect(requests.filter((r) => !r.startsWith('GET '))).toEqual([])
    expect(provider().accessProblem('seen')).toBeUndefined()
  })
})
