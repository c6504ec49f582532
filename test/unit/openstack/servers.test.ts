import {describe, expect, it} from 'vitest'
import {clusterAge, connectAddress, groupClusters, hostFromServer, type NovaServer, serverRequest} from '../../../src/providers/openstack/servers.js'

const server = (id: string, cluster: string, role: string, index: number, extra: Partial<NovaServer> = {}): NovaServer => ({
  id,
  name: `cms-${cluster}-${index}`,
  status: 'ACTIVE',
  created: '2026-12-04T10:00:00Z',
  metadata: {'cms-cluster': cluster, 'cms-role': role, 'cms-engine': 'spark', 'cms-index': String(index), 'cms-max-age': '2h', 'cms-ssh-user': 'debian'},
  addresses: {lab: [{addr: `10.0.0.${index}`, version: 4, 'OS-EXT-IPS:type': 'fixed'}]},
  flavor: {original_name: 'm1.medium'},
  ...extra,
})

describe('servers as cms hosts and clusters', () => {
  it('a host is reached at its floating IP when it has one, else its fixed IP, where the engine binds', () => {
    const plain = server('s1', 'a', 'head', 1)
    expect(hostFromServer(plain, '/k')).toMatchObject({id: 's1', role: 'head', privateAddress: '10.0.0.1', state: 'running', target: {host: '10.0.0.1', port: 22, user: 'debian', identityFiles: ['/k']}, cloud: {instanceType: 'm1.medium', maxAgeSeconds: 7200}})
    const floating = server('s2', 'a', 'worker', 2, {addresses: {lab: [{addr: '10.0.0.2', 'OS-EXT-IPS:type': 'fixed'}, {addr: '203.0.113.9', 'OS-EXT-IPS:type': 'floating'}]}})
    expect(connectAddress(floating)).toBe('203.0.113.9')
    expect(hostFromServer(floating, '/k').privateAddress).toBe('10.0.0.2')
    expect(hostFromServer(server('s3', 'a', 'worker', 3, {status: 'BUILD'}), '/k').state).toBe('unknown')
  })

  it('one listing grouped into clusters, head first, with their age against --max-age', () => {
    const now = new Date('2026-12-04T13:00:00Z')
    const views = groupClusters([server('w', 'b', 'worker', 2), server('h', 'b', 'head', 1), server('x', 'a', 'head', 1, {status: 'SHUTOFF'})], now)
    expect(views.map((v) => [v.summary.name, v.servers.map((s) => s.id), v.summary.runningHosts, v.summary.head])).toEqual([
      ['a', ['x'], 0, '10.0.0.1'],
      ['b', ['h', 'w'], 2, '10.0.0.1'],
    ])
    expect(views[1]!.summary).toMatchObject({provider: 'openstack', engine: 'spark', hosts: 2, ageSeconds: 3 * 3600, maxAgeSeconds: 7200, expired: true})
    expect(clusterAge([server('y', 'c', 'head', 1, {metadata: {}})], now)).toEqual({ageSeconds: 3 * 3600})
  })

  it('a new server: tagged cms and cms-cluster=NAME, its facts in metadata, the cloud-config as base64 user data', () => {
    const body = serverRequest({
      cluster: 'lab',
      index: 2,
      role: 'worker',
      engine: 'spark',
      sshUser: 'debian',
      hostKey: 'ssh-ed25519 AAAA',
      userData: '#cloud-config\n{}\n',
      maxAge: '8h',
      flavorId: 'f',
      imageId: 'i',
      networkId: 'n',
      keyName: 'cms-lab',
      securityGroup: 'sg',
    })
    expect(body.server).toMatchObject({
      name: 'cms-lab-2',
      flavorRef: 'f',
      imageRef: 'i',
      key_name: 'cms-lab',
      security_groups: [{name: 'sg'}],
      networks: [{uuid: 'n'}],
      tags: ['cms', 'cms-cluster=lab'],
      metadata: {'cms-cluster': 'lab', 'cms-role': 'worker', 'cms-engine': 'spark', 'cms-index': '2', 'cms-ssh-user': 'debian', 'cms-host-key': 'ssh-ed25519 AAAA', 'cms-max-age': '8h'},
    })
    expect(Buffer.from(body.server.user_data as string, 'base64').toString()).toBe('#cloud-config\n{}\n')
  })
})
