import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {CloudInstances} from '../../src/providers/cloud-clusters.js'
import {WAIT_FOR_CLOUD_INIT} from '../../src/providers/cloud-config.js'
import {CloudProvider} from '../../src/providers/cloud-provider.js'
import {makeLocalKey, publishedKeyLine} from '../../src/providers/cluster-key.js'
import type {Host} from '../../src/providers/provider.js'
import {generateEd25519} from '../../src/providers/ssh-keys.js'
import {KnownHosts} from '../../src/remote/known-hosts.js'
import type {SshSession} from '../../src/remote/session.js'

interface Vm {
  name: string
  labels: Record<string, string>
  ip?: string
}

const VMS: CloudInstances<Vm> = {
  provider: 'lxd',
  id: (v) => v.name,
  labels: (v) => v.labels,
  keys: {cluster: 'c', role: 'r', engine: 'e', index: 'i'},
  running: (v) => v.ip !== undefined,
  connectAddress: (v) => v.ip,
}

/** A cloud whose instances are a list in memory; the host key is published in the label `k`. */
class ListCloud extends CloudProvider<Vm> {
  protected readonly cloud = VMS
  protected readonly cloudInitTimeoutMs = 1234

  constructor(
    knownHosts: KnownHosts,
    private readonly vms: Vm[],
    /** Addresses known apart from the instances (as openstack's floating IPs), by name. */
    private readonly floating = new Map<string, string>(),
  ) {
    super(knownHosts)
  }

  protected override async connectAddresses(): Promise<ReadonlyMap<string, string>> {
    return this.floating
  }

  protected async instances(cluster?: string): Promise<Vm[]> {
    return this.vms.filter((v) => cluster === undefined || v.labels.c === cluster)
  }

  protected hostFrom(vm: Vm, keyFile: string, address: string | undefined): Host {
    return {id: vm.name, role: vm.labels.r === 'head' ? 'head' : 'worker', target: {host: address ?? vm.ip ?? '', port: 22, user: 'admin', identityFiles: [keyFile]}, state: 'running'}
  }

  protected publishedHostKey(vm: Vm): string | undefined {
    return vm.labels.k
  }

  seen(cluster: string): Vm[] | undefined {
    return this.observed.get(cluster)
  }
}

describe('cloud provider: hosts from instances that publish their host keys', () => {
  const home = mkdtempSync(join(tmpdir(), 'cms-cloud-'))
  const saved = process.env.CMS_HOME
  const key = publishedKeyLine(generateEd25519('cms-a-1').public)
  const [type, base64] = key.split(' ') as [string, string]
  const vms: Vm[] = [
    {name: 'a-1', labels: {c: 'a', r: 'head', e: 'spark', i: '1', k: key}, ip: '10.0.0.1'},
    {name: 'a-2', labels: {c: 'a', r: 'worker', e: 'spark', i: '2', k: key}},
    {name: 'b-1', labels: {c: 'b', r: 'head', e: 'nomad', i: '1'}, ip: '10.0.0.3'},
  ]
  const knownHosts = () => new KnownHosts({ownFile: join(home, 'known_hosts'), userFiles: []})

  beforeAll(() => {
    process.env.CMS_HOME = home
  })
  afterAll(() => {
    saved === undefined ? delete process.env.CMS_HOME : (process.env.CMS_HOME = saved)
    rmSync(home, {recursive: true, force: true})
  })

  it('observes a cluster: its hosts with the cluster key, each published key trusted for its address, the instances kept', async () => {
    const cloud = new ListCloud(knownHosts(), vms)
    const hosts = await cloud.observe('a')
    expect(hosts.map((h) => [h.id, h.target.host, h.target.identityFiles])).toEqual([
      ['a-1', '10.0.0.1', [join(home, 'keys', 'a')]],
      ['a-2', '', [join(home, 'keys', 'a')]],
    ])
    expect(cloud.seen('a')?.map((v) => v.name)).toEqual(['a-1', 'a-2'])
    expect(knownHosts().check('10.0.0.1', 22, type, Buffer.from(base64, 'base64')).status).toBe('match')
    // No published key: nothing is trusted, the host key stays unknown.
    await cloud.observe('b')
    expect(knownHosts().check('10.0.0.3', 22, type, Buffer.from(base64, 'base64')).status).toBe('unknown')
  })

  it('lists every cluster from one listing, with its hosts, and keeps each cluster\'s instances', async () => {
    const cloud = new ListCloud(knownHosts(), vms)
    const listed = await cloud.listClusters()
    expect(listed.map((c) => [c.summary.name, c.summary.engine, c.summary.head, c.hosts.map((h) => h.id)])).toEqual([
      ['a', 'spark', '10.0.0.1', ['a-1', 'a-2']],
      ['b', 'nomad', '10.0.0.3', ['b-1']],
    ])
    expect(cloud.seen('b')?.map((v) => v.name)).toEqual(['b-1'])
  })

  it('reaches hosts at the addresses the cloud knows apart from the instances, and trusts their keys there', async () => {
    const cloud = new ListCloud(knownHosts(), vms, new Map([['a-1', '203.0.113.1']]))
    expect((await cloud.observe('a')).map((h) => h.target.host)).toEqual(['203.0.113.1', ''])
    expect(knownHosts().check('203.0.113.1', 22, type, Buffer.from(base64, 'base64')).status).toBe('match')
    expect((await cloud.listClusters())[0]!.summary.head).toBe('203.0.113.1')
  })

  it('logs in with the local cluster key (no credentials to hand over) and says when it is missing', async () => {
    const cloud = new ListCloud(knownHosts(), vms)
    expect(await cloud.credentials()).toEqual({})
    expect(cloud.accessProblem('a')).toMatch(/^cluster a's access key is not on this machine/)
    makeLocalKey('a')
    expect(cloud.accessProblem('a')).toBeUndefined()
  })

  it('a host is ready when cloud-init is done, waited for as long as the cloud says', async () => {
    const runs: Array<[string, unknown]> = []
    const session = {run: async (script: string, opts: unknown) => void runs.push([script, opts])} as unknown as SshSession
    await new ListCloud(knownHosts(), vms).hostReady(session)
    expect(runs).toEqual([[WAIT_FOR_CLOUD_INIT, {label: 'wait for cloud-init', timeoutMs: 1234}]])
  })
})
