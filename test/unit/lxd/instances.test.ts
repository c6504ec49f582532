import {describe, expect, it} from 'vitest'
import {groupClusters, hostFromInstance, instanceAddress, instanceRequest, instancesPath, KEY, type LxdInstance, sortInstances} from '../../../src/providers/lxd/instances.js'

function instance(name: string, config: Record<string, string>, status = 'Running', address?: string): LxdInstance {
  const network = address ? {lo: {addresses: [{family: 'inet', address: '127.0.0.1', scope: 'local'}]}, eth0: {addresses: [{family: 'inet6', address: 'fe80::1', scope: 'link'}, {family: 'inet', address, scope: 'global'}]}} : {}
  return {name, status, created_at: '2026-12-04T09:00:00Z', config, state: {network}}
}
const tags = (cluster: string, role: string, index: number) => ({[KEY.cluster]: cluster, [KEY.role]: role, [KEY.engine]: 'spark', [KEY.index]: String(index)})

describe('lxd instances as cms hosts', () => {
  it('asks the daemon for one cluster, or every cms instance, with a server-side filter', () => {
    expect(decodeURIComponent(instancesPath('a'))).toBe('/1.0/instances?recursion=2&filter=config.user.cms.cluster eq a')
    expect(decodeURIComponent(instancesPath())).toBe('/1.0/instances?recursion=2&filter=config.user.cms.role eq head or config.user.cms.role eq worker')
  })

  it('a host is reached at its global IPv4 address, as the user the instance is tagged with', () => {
    const i = instance('cms-a-1', {...tags('a', 'head', 1), [KEY.sshUser]: 'admin', 'limits.cpu': '2', 'limits.memory': '1024MiB'}, 'Running', '10.1.0.5')
    expect(instanceAddress(i)).toBe('10.1.0.5')
    expect(hostFromInstance(i, '/k')).toEqual({
      id: 'cms-a-1',
      role: 'head',
      target: {host: '10.1.0.5', port: 22, user: 'admin', identityFiles: ['/k']},
      privateAddress: '10.1.0.5',
      state: 'running',
      cloud: {instanceType: 'container (2 CPUs, 1024MiB)', lifecycle: 'on-demand', launchedAt: '2026-12-04T09:00:00.000Z'},
    })
    // Running without an address yet (DHCP pending) is not ready; stopped is stopped.
    expect(hostFromInstance(instance('x', tags('a', 'worker', 2)), '/k').state).toBe('unknown')
    expect(hostFromInstance(instance('x', tags('a', 'worker', 2), 'Stopped'), '/k').state).toBe('stopped')
  })

  it('the address is the one on the NIC LXD gave the instance, not on a bridge made inside it (a Kubernetes pod bridge)', () => {
    const inet = (address: string) => [{family: 'inet', address, scope: 'global'}]
    const i: LxdInstance = {
      name: 'cms-k-1',
      status: 'Running',
      created_at: '2026-12-04T09:00:00Z',
      config: {...tags('k', 'head', 1), 'volatile.eth0.hwaddr': '00:16:3E:D5:77:38'},
      // The daemon lists interfaces by name: the pod bridge (cms0) sorts first.
      state: {network: {cms0: {hwaddr: '6e:68:97:df:67:f7', addresses: inet('10.244.1.1')}, eth0: {hwaddr: '00:16:3e:d5:77:38', addresses: inet('10.214.0.89')}, lo: {addresses: [{family: 'inet', address: '127.0.0.1', scope: 'local'}]}}},
    }
    expect(instanceAddress(i)).toBe('10.214.0.89')
    // LXD's NIC without an address yet: no address (not the bridge's).
    expect(instanceAddress({...i, state: {network: {...i.state!.network!, eth0: {hwaddr: '00:16:3e:d5:77:38', addresses: []}}}})).toBeUndefined()
  })

  it('groups a daemon\'s instances into clusters, head first', () => {
    const all = [instance('cms-b-2', tags('b', 'worker', 2), 'Stopped'), instance('cms-a-3', tags('a', 'worker', 3)), instance('cms-a-1', tags('a', 'head', 1), 'Running', '10.1.0.9'), instance('cms-b-1', tags('b', 'head', 1))]
    expect(sortInstances(all.slice(1, 3)).map((i) => i.name)).toEqual(['cms-a-1', 'cms-a-3'])
    expect(groupClusters(all).map((c) => c.summary)).toEqual([
      {name: 'a', provider: 'lxd', engine: 'spark', hosts: 2, runningHosts: 2, head: '10.1.0.9'},
      {name: 'b', provider: 'lxd', engine: 'spark', hosts: 2, runningHosts: 1, head: undefined},
    ])
  })

  it('a new instance: cms\'s image, its tags, limits only when asked, cloud-init input in user.user-data', () => {
    const body = instanceRequest({cluster: 'a', index: 3, role: 'worker', engine: 'nomad', sshUser: 'admin', hostKey: 'ssh-ed25519 AAAA', userData: '#cloud-config\n{}', memoryMb: 512}, 'cms-debian-12')
    expect(body).toEqual({
      name: 'cms-a-3',
      type: 'container',
      source: {type: 'image', alias: 'cms-debian-12'},
      config: {
        'user.cms.cluster': 'a',
        'user.cms.role': 'worker',
        'user.cms.engine': 'nomad',
        'user.cms.index': '3',
        'user.cms.ssh-user': 'admin',
        'user.cms.host-key': 'ssh-ed25519 AAAA',
        'user.user-data': '#cloud-config\n{}',
        'limits.memory': '512MiB',
      },
    })
  })
})
