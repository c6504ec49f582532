import {isExpired, recordedMaxAge} from '../cluster/max-age.js'
import type {ClusterSummary, HostRole, ProviderName} from './provider.js'

/** Where a cloud keeps cms's labels on an instance (EC2 tags, LXD `user.cms.*` config keys, Nova metadata), and their names. */
export interface InstanceLabels<I> {
  labels(instance: I): Record<string, string>
  keys: {cluster: string; role: string; engine: string; index: string}
}

/** When an instance was launched (ms since the epoch) and the --max-age it carries, where a cloud keeps both. */
export interface InstanceAge<I> {
  launchedAt(instance: I): number | undefined
  maxAge(instance: I): string | undefined
}

/** What `list` reads of a cloud's instances to tell its clusters. */
export interface CloudInstances<I> extends InstanceLabels<I> {
  provider: ProviderName
  /** The cloud's id of the instance (what the addresses a cloud knows apart are keyed by). */
  id(instance: I): string
  running(instance: I): boolean
  /** Where cms connects to the instance (a cluster's head), by what the instance says itself. */
  connectAddress(instance: I): string | undefined
  /** Clouds that keep it (aws, openstack): each cluster's age against its --max-age. */
  age?: InstanceAge<I>
}

function memberIndex<I>(instance: I, cloud: InstanceLabels<I>): number {
  return Number(cloud.labels(instance)[cloud.keys.index] ?? 0) || 0
}

function isHead<I>(instance: I, cloud: InstanceLabels<I>): boolean {
  return cloud.labels(instance)[cloud.keys.role] === 'head'
}

/** Head first, then by index. */
export function headFirst<I>(instances: I[], cloud: InstanceLabels<I>): I[] {
  const rank = (i: I) => (isHead(i, cloud) ? 0 : 1)
  return [...instances].sort((a, b) => rank(a) - rank(b) || memberIndex(a, cloud) - memberIndex(b, cloud))
}

/**
 * The index and role of each of `count` new hosts: indexes continue after the highest in use (or `after`, the
 * highest ever used where a cloud remembers it), and the first is the head when the cluster has none.
 */
export function nextMembers<I>(existing: I[], cloud: InstanceLabels<I>, count: number, after = 0): Array<{index: number; role: HostRole}> {
  const first = Math.max(0, after, ...existing.map((i) => memberIndex(i, cloud))) + 1
  const hasHead = existing.some((i) => isHead(i, cloud))
  return Array.from({length: count}, (_, k) => ({index: first + k, role: !hasHead && k === 0 ? 'head' : 'worker'}))
}

/** A cluster's age runs from its first instance's launch; its max age is the shortest its hosts carry. */
export function clusterAgeOf<I>(instances: I[], age: InstanceAge<I>, now: Date): Pick<ClusterSummary, 'ageSeconds' | 'maxAgeSeconds' | 'expired'> {
  const launches = instances.map((i) => age.launchedAt(i)).filter((t): t is number => t !== undefined)
  const ageSeconds = launches.length > 0 ? Math.max(0, Math.floor((now.getTime() - Math.min(...launches)) / 1000)) : undefined
  const maxAges = instances.map((i) => recordedMaxAge(age.maxAge(i))).filter((a): a is number => a !== undefined)
  const maxAge = maxAges.length > 0 ? Math.min(...maxAges) : undefined
  return {ageSeconds, ...(maxAge === undefined ? {} : {maxAgeSeconds: maxAge, expired: isExpired(ageSeconds, maxAge)})}
}

/**
 * One listing of a cloud's cms instances as clusters, sorted by name, each head first. `addresses`: where cms connects
 * to instances that do not say it themselves, by id (openstack: floating IPs from Neutron).
 */
export function groupIntoClusters<I>(
  instances: I[],
  cloud: CloudInstances<I>,
  now = new Date(),
  addresses: ReadonlyMap<string, string> = new Map(),
): Array<{summary: ClusterSummary; instances: I[]}> {
  const byCluster = new Map<string, I[]>()
  for (const instance of instances) {
    const name = cloud.labels(instance)[cloud.keys.cluster]
    if (name) byCluster.set(name, [...(byCluster.get(name) ?? []), instance])
  }
  return [...byCluster.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, list]) => {
      const sorted = headFirst(list, cloud)
      const head = sorted.find((i) => isHead(i, cloud))
      return {
        instances: sorted,
        summary: {
          name,
          provider: cloud.provider,
          engine: cloud.labels(sorted[0]!)[cloud.keys.engine] || 'unknown',
          hosts: sorted.length,
          runningHosts: sorted.filter((i) => cloud.running(i)).length,
          head: head ? (addresses.get(cloud.id(head)) ?? cloud.connectAddress(head)) : undefined,
          ...(cloud.age ? clusterAgeOf(sorted, cloud.age, now) : {}),
        },
      }
    })
}
