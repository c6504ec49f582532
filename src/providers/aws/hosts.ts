import type {Instance} from '@aws-sdk/client-ec2'
import {isExpired, recordedMaxAge} from '../../cluster/max-age.js'
import type {ClusterSummary, Host} from '../provider.js'
import type {ConnectVia} from './settings.js'
import {TAG, tagMap} from './tags.js'

/** Debian's cloud images log in as `admin`; cms names cloud-init's default user so on any image. */
export const DEFAULT_SSH_USER = 'admin'

/** Where cms connects: the public address unless asked for the private one, or when there is no public one. */
export function connectAddress(instance: Instance, via: ConnectVia): string | undefined {
  if (via === 'private') return instance.PrivateIpAddress || undefined
  return instance.PublicIpAddress || instance.PrivateIpAddress || undefined
}

export function instanceIndex(instance: Instance): number {
  return Number(tagMap(instance.Tags)[TAG.index] ?? 0) || 0
}

/** One instance as a cms host: the engine binds to its private IP, where the other hosts reach it. */
export function hostFromInstance(instance: Instance, via: ConnectVia, keyFile: string): Host {
  const tags = tagMap(instance.Tags)
  const address = connectAddress(instance, via)
  const state = instance.State?.Name
  return {
    id: instance.InstanceId ?? '',
    role: tags[TAG.role] === 'head' ? 'head' : 'worker',
    target: {host: address ?? '', port: 22, user: tags[TAG.sshUser] || DEFAULT_SSH_USER, identityFiles: [keyFile]},
    privateAddress: instance.PrivateIpAddress || undefined,
    state: state === 'running' && address ? 'running' : state === 'stopped' || state === 'stopping' ? 'stopped' : 'unknown',
    cloud: {
      instanceType: instance.InstanceType ?? 'unknown',
      lifecycle: instance.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand',
      launchedAt: (instance.LaunchTime ?? new Date(0)).toISOString(),
      zone: instance.Placement?.AvailabilityZone,
      maxAgeSeconds: recordedMaxAge(tags[TAG.maxAge]),
    },
  }
}

/** Head first, then by index. */
export function sortInstances(instances: Instance[]): Instance[] {
  const isHead = (i: Instance) => (tagMap(i.Tags)[TAG.role] === 'head' ? 0 : 1)
  return [...instances].sort((a, b) => isHead(a) - isHead(b) || instanceIndex(a) - instanceIndex(b))
}

/** A cluster's age runs from its first instance's launch; its max age is the tag on its hosts. */
export function clusterAge(instances: Instance[], now: Date): {ageSeconds?: number; maxAgeSeconds?: number; expired?: boolean} {
  const launches = instances.map((i) => i.LaunchTime?.getTime()).filter((t): t is number => t !== undefined)
  const ageSeconds = launches.length > 0 ? Math.max(0, Math.floor((now.getTime() - Math.min(...launches)) / 1000)) : undefined
  const ages = instances.map((i) => recordedMaxAge(tagMap(i.Tags)[TAG.maxAge])).filter((a): a is number => a !== undefined)
  const maxAge = ages.length > 0 ? Math.min(...ages) : undefined
  return {
    ageSeconds,
    ...(maxAge === undefined ? {} : {maxAgeSeconds: maxAge, expired: isExpired(ageSeconds, maxAge)}),
  }
}

export interface AwsClusterView {
  summary: ClusterSummary
  instances: Instance[]
}

/** Groups every cms instance of a region (one DescribeInstances) into clusters, sorted by name. */
export function groupClusters(instances: Instance[], via: ConnectVia, now: Date): AwsClusterView[] {
  const byCluster = new Map<string, Instance[]>()
  for (const instance of instances) {
    const name = tagMap(instance.Tags)[TAG.cluster]
    if (!name) continue
    byCluster.set(name, [...(byCluster.get(name) ?? []), instance])
  }
  return [...byCluster.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, list]) => {
      const sorted = sortInstances(list)
      const head = sorted.find((i) => tagMap(i.Tags)[TAG.role] === 'head')
      return {
        instances: sorted,
        summary: {
          name,
          provider: 'aws' as const,
          engine: tagMap(sorted[0].Tags)[TAG.engine] || 'unknown',
          hosts: sorted.length,
          runningHosts: sorted.filter((i) => i.State?.Name === 'running').length,
          head: head ? connectAddress(head, via) : undefined,
          ...clusterAge(sorted, now),
        },
      }
    })
}
