import type {Instance} from '@aws-sdk/client-ec2'
import {describe, expect, it} from 'vitest'
import {clusterAge, connectAddress, groupClusters, hostFromInstance, sortInstances} from '../../../src/providers/aws/hosts.js'
import {launchToken} from '../../../src/providers/aws/names.js'
import {instanceFilters, instanceTags, LIVE_STATES, resourceFilters, tagMap} from '../../../src/providers/aws/tags.js'

const instance = (cluster: string, index: number, role: string, over: Partial<Instance> = {}, extra: Record<string, string> = {}): Instance => ({
  InstanceId: `i-${cluster}${index}`,
  InstanceType: 'm6i.large',
  State: {Name: 'running', Code: 16},
  PrivateIpAddress: `10.0.0.${index}`,
  PublicIpAddress: `203.0.113.${index}`,
  LaunchTime: new Date('2026-11-01T00:00:00Z'),
  Placement: {AvailabilityZone: 'eu-west-1a'},
  Tags: Object.entries({'cms-cluster': cluster, 'cms-role': role, 'cms-engine': 'spark', 'cms-index': String(index), ...extra}).map(([Key, Value]) => ({Key, Value})),
  ...over,
})

describe('aws tags and filters', () => {
  it('finds one cluster, or every cms cluster with one filter set, live instances only', () => {
    expect(instanceFilters('demo')).toEqual([
      {Name: 'tag:cms-cluster', Values: ['demo']},
      {Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped']},
    ])
    expect(instanceFilters()).toEqual([
      {Name: 'tag-key', Values: ['cms-cluster']},
      {Name: 'instance-state-name', Values: LIVE_STATES},
    ])
    expect(LIVE_STATES).not.toContain('terminated')
    expect(LIVE_STATES).not.toContain('shutting-down')
    expect(resourceFilters('demo')).toEqual([{Name: 'tag:cms-cluster', Values: ['demo']}])
  })

  it('tags each instance with cluster, role, engine, index, login user and host key', () => {
    const tags = tagMap(instanceTags({cluster: 'demo', role: 'head', engine: 'spark', index: 1, sshUser: 'admin', hostKey: 'ssh-ed25519 AAAA', maxAge: '8h'}))
    expect(tags).toEqual({
      Name: 'cms-demo-1',
      'cms-cluster': 'demo',
      'cms-role': 'head',
      'cms-engine': 'spark',
      'cms-index': '1',
      'cms-ssh-user': 'admin',
      'cms-host-key': 'ssh-ed25519 AAAA',
      'cms-max-age': '8h',
    })
    expect(tagMap(instanceTags({cluster: 'x', role: 'worker', engine: 'nomad', index: 2, sshUser: 'admin', hostKey: 'k', volumeSize: 50}))['cms-volume-size']).toBe('50')
  })

  it('never gives two indexes, or two incarnations of a cluster, one idempotency token', () => {
    expect(launchToken('demo', 1, 'sg-0abc')).toBe('cms-demo-1-sg-0abc')
    expect(launchToken('demo', 1, 'sg-0abc')).not.toBe(launchToken('demo', 2, 'sg-0abc'))
    expect(launchToken('demo', 1, 'sg-0abc')).not.toBe(launchToken('demo', 1, 'sg-0def'))
    expect(launchToken('a'.repeat(32), 64, 'sg-0123456789abcdef0').length).toBeLessThanOrEqual(64)
  })
})

describe('aws instances as hosts', () => {
  it('connects by public address, or private on request or when there is no public one', () => {
    const i = instance('demo', 1, 'head')
    expect(connectAddress(i, 'public')).toBe('203.0.113.1')
    expect(connectAddress(i, 'private')).toBe('10.0.0.1')
    expect(connectAddress({...i, PublicIpAddress: undefined}, 'public')).toBe('10.0.0.1')
  })

  it('makes a host with the login user from its tag, the cluster key, its private address and cloud details', () => {
    const host = hostFromInstance(instance('demo', 2, 'worker', {InstanceLifecycle: 'spot'}, {'cms-ssh-user': 'ubuntu', 'cms-max-age': '2h'}), 'public', '/k/demo')
    expect(host).toEqual({
      id: 'i-demo2',
      role: 'worker',
      target: {host: '203.0.113.2', port: 22, user: 'ubuntu', identityFiles: ['/k/demo']},
      privateAddress: '10.0.0.2',
      state: 'running',
      cloud: {instanceType: 'm6i.large', lifecycle: 'spot', launchedAt: '2026-11-01T00:00:00.000Z', zone: 'eu-west-1a', maxAgeSeconds: 7200},
    })
    expect(hostFromInstance(instance('demo', 1, 'head'), 'public', '/k').target.user).toBe('admin')
    expect(hostFromInstance(instance('demo', 1, 'head', {State: {Name: 'stopped'}}), 'public', '/k').state).toBe('stopped')
    expect(hostFromInstance(instance('demo', 1, 'head', {State: {Name: 'pending'}, PublicIpAddress: undefined, PrivateIpAddress: undefined}), 'public', '/k').state).toBe('unknown')
  })

  it('puts the head first, then workers by index', () => {
    const sorted = sortInstances([instance('d', 3, 'worker'), instance('d', 2, 'worker'), instance('d', 1, 'head')])
    expect(sorted.map((i) => i.InstanceId)).toEqual(['i-d1', 'i-d2', 'i-d3'])
  })

  it('groups one listing into clusters with age and max age', () => {
    const now = new Date('2026-11-01T03:00:00Z')
    const views = groupClusters(
      [
        instance('b', 1, 'head', {}, {'cms-max-age': '2h'}),
        instance('a', 2, 'worker', {State: {Name: 'stopped'}}),
        instance('a', 1, 'head', {LaunchTime: new Date('2026-11-01T02:30:00Z')}, {'cms-max-age': '1d'}),
        instance('b', 2, 'worker', {}, {'cms-max-age': '2h'}),
      ],
      'private',
      now,
    )
    expect(views.map((v) => v.summary)).toEqual([
      {name: 'a', provider: 'aws', engine: 'spark', hosts: 2, runningHosts: 1, head: '10.0.0.1', ageSeconds: 10_800, maxAgeSeconds: 86_400, expired: false},
      {name: 'b', provider: 'aws', engine: 'spark', hosts: 2, runningHosts: 2, head: '10.0.0.1', ageSeconds: 10_800, maxAgeSeconds: 7200, expired: true},
    ])
    expect(clusterAge([instance('c', 1, 'head')], now)).toEqual({ageSeconds: 10_800})
  })
})
