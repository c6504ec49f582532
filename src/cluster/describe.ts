import {hostContext} from '../engines/host-context.js'
import type {Host} from '../providers/provider.js'
import type {ClusterInfo} from '../output/results.js'
import {readAttached} from '../config/attached.js'
import {describeAttached} from './attach.js'
import {openCluster, type ClusterHandle, type RunOptions} from './context.js'
import {isExpired} from './max-age.js'
import {NotFoundError} from './not-found.js'

/** info: a cluster cms made (describeCluster) or one it attached (its engine's API alone). */
export async function describeNamedCluster(name: string, run: RunOptions): Promise<ClusterInfo> {
  const attached = readAttached(name)
  if (attached) return describeAttached(attached)
  const handle = await openCluster(name, run)
  try {
    return await describeCluster(handle)
  } finally {
    handle.pool.closeAll()
  }
}

/** The cluster as it is now: hosts from the provider, everything else from the engine's own API on the head. */
export async function describeCluster(handle: ClusterHandle, knownHosts?: Host[]): Promise<ClusterInfo> {
  const hosts = knownHosts ?? (await handle.provider.observe(handle.name))
  if (hosts.length === 0) throw new NotFoundError(`cluster ${JSON.stringify(handle.name)} not found`)
  const head = hosts.find((h) => h.role === 'head')
  if (!head) return describeWithoutHead(handle, hosts, 'the cluster has no head host')
  if (head.state === 'stopped') return describeWithoutHead(handle, hosts, `the head ${head.id} is stopped`)
  if (head.state !== 'running' && !head.target.host) return describeWithoutHead(handle, hosts, `the head ${head.id} has no address yet (still starting)`)
  const problem = handle.provider.accessProblem?.(handle.name)
  if (problem) return describeWithoutHead(handle, hosts, problem)
  try {
    const session = await handle.pool.get(head.target)
    // The provider usually knows the private address; asking the host costs a round trip.
    const address = head.privateAddress || (await hostContext(session, head)).address
    const info = await handle.engine.describe({cluster: handle.name, provider: handle.provider.name, hosts, head: {host: head, session, address}})
    return withCloudDetails(info, hosts)
  } catch (error) {
    return describeWithoutHead(handle, hosts, (error as Error).message)
  }
}

/** What can be said of a cluster whose head cannot be asked. */
export async function describeWithoutHead(handle: ClusterHandle, hosts: Host[], why: string): Promise<ClusterInfo> {
  return withCloudDetails(await handle.engine.describe({cluster: handle.name, provider: handle.provider.name, hosts, headError: why}), hosts)
}

/** Cloud hosts (aws): each host's instance type, lifecycle and age; the cluster's age against its --max-age. */
export function withCloudDetails(info: ClusterInfo, hosts: Host[], now = new Date()): ClusterInfo {
  const clouds = hosts.map((h) => h.cloud).filter((c) => c !== undefined)
  if (clouds.length === 0) return info
  const ageOf = (launchedAt: string) => Math.max(0, Math.floor((now.getTime() - Date.parse(launchedAt)) / 1000))
  const byId = new Map(hosts.map((h) => [h.id, h.cloud]))
  const views = info.hosts.map((v) => {
    const c = byId.get(v.id)
    return c ? {...v, instanceType: c.instanceType, lifecycle: c.lifecycle, launchedAt: c.launchedAt, ageSeconds: ageOf(c.launchedAt)} : v
  })
  const ageSeconds = Math.max(...clouds.map((c) => ageOf(c.launchedAt)))
  const maxAges = clouds.map((c) => c.maxAgeSeconds).filter((a) => a !== undefined)
  const maxAgeSeconds = maxAges.length > 0 ? Math.min(...maxAges) : undefined
  return {...info, hosts: views, ageSeconds, ...(maxAgeSeconds === undefined ? {} : {maxAgeSeconds, expired: isExpired(ageSeconds, maxAgeSeconds)})}
}
