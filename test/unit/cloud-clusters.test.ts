import {describe, expect, it} from 'vitest'
import {type CloudInstances, clusterAgeOf, groupIntoClusters, headFirst, nextMembers} from '../../src/providers/cloud-clusters.js'

interface Vm {
  id: string
  labels: Record<string, string>
  up: boolean
  ip?: string
  launched?: number
}

const vm = (id: string, cluster: string, role: string, index: number, extra: Partial<Vm> = {}): Vm => ({
  id,
  labels: {c: cluster, r: role, e: 'nomad', i: String(index)},
  up: true,
  ip: `10.0.0.${index}`,
  ...extra,
})

const VMS: CloudInstances<Vm> = {
  provider: 'lxd',
  id: (v) => v.id,
  labels: (v) => v.labels,
  keys: {cluster: 'c', role: 'r', engine: 'e', index: 'i'},
  running: (v) => v.up,
  connectAddress: (v) => v.ip,
}
const AGED: CloudInstances<Vm> = {...VMS, age: {launchedAt: (v) => v.launched, maxAge: (v) => v.labels.m}}

describe('cloud instances as cluster members', () => {
  it('puts the head first, then the workers by index (an index that is no number counts as 0)', () => {
    const sorted = headFirst([vm('w3', 'a', 'worker', 3), vm('w2', 'a', 'worker', 2), vm('h', 'a', 'head', 9), vm('x', 'a', 'worker', Number.NaN)], VMS)
    expect(sorted.map((v) => v.id)).toEqual(['h', 'x', 'w2', 'w3'])
  })

  it('numbers new hosts after the highest index in use or ever used, the first the head when there is none', () => {
    expect(nextMembers([], VMS, 2)).toEqual([{index: 1, role: 'head'}, {index: 2, role: 'worker'}])
    expect(nextMembers([vm('h', 'a', 'head', 1), vm('w', 'a', 'worker', 4)], VMS, 1)).toEqual([{index: 5, role: 'worker'}])
    expect(nextMembers([vm('w', 'a', 'worker', 2)], VMS, 2, 7)).toEqual([{index: 8, role: 'head'}, {index: 9, role: 'worker'}])
  })

  it('groups one listing into clusters by name, each head first, skipping instances of no cluster', () => {
    const views = groupIntoClusters([vm('b2', 'b', 'worker', 2, {up: false}), vm('a1', 'a', 'head', 1), vm('b1', 'b', 'head', 1, {ip: undefined}), vm('n', '', 'head', 1)], VMS)
    expect(views.map((v) => v.instances.map((i) => i.id))).toEqual([['a1'], ['b1', 'b2']])
    expect(views.map((v) => v.summary)).toEqual([
      {name: 'a', provider: 'lxd', engine: 'nomad', hosts: 1, runningHosts: 1, head: '10.0.0.1'},
      {name: 'b', provider: 'lxd', engine: 'nomad', hosts: 2, runningHosts: 1, head: undefined},
    ])
    // A head address the cloud knows apart from the instance (a floating IP) is the one shown.
    expect(groupIntoClusters([vm('a1', 'a', 'head', 1)], VMS, new Date(), new Map([['a1', '203.0.113.1']]))[0]!.summary.head).toBe('203.0.113.1')
  })

  it('ages a cluster from its first launch, against the shortest --max-age its hosts carry, where the cloud keeps one', () => {
    const now = new Date('2026-12-04T12:00:00Z')
    const launched = Date.parse('2026-12-04T09:00:00Z')
    const hosts = [vm('h', 'a', 'head', 1, {launched, labels: {...vm('h', 'a', 'head', 1).labels, m: '1d'}}), vm('w', 'a', 'worker', 2, {launched: launched + 60_000, labels: {...vm('w', 'a', 'worker', 2).labels, m: '2h'}})]
    expect(clusterAgeOf(hosts, AGED.age!, now)).toEqual({ageSeconds: 3 * 3600, maxAgeSeconds: 7200, expired: true})
    expect(clusterAgeOf([vm('x', 'a', 'head', 1)], AGED.age!, now)).toEqual({ageSeconds: undefined})
    expect(groupIntoClusters(hosts, AGED, now)[0]!.summary).toMatchObject({ageSeconds: 3 * 3600, maxAgeSeconds: 7200, expired: true})
    expect(Object.keys(groupIntoClusters(hosts, VMS, now)[0]!.summary)).not.toContain('ageSeconds')
  })
})
