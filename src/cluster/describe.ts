import {hostContext} from '../engines/host-context.js'
import type {Host} from '../providers/provider.js'
import type {ClusterInfo} from '../output/results.js'
import type {ClusterHandle} from './context.js'
import {NotFoundError} from './not-found.js'

/** The cluster as it is now: hosts from the provider, everything else from the engine's own API on the head. */
export async function describeCluster(handle: ClusterHandle, knownHosts?: Host[]): Promise<ClusterInfo> {
  const hosts = knownHosts ?? (await handle.provider.observe(handle.name))
  if (hosts.length === 0) throw new NotFoundError(`cluster ${JSON.stringify(handle.name)} not found`)
  const head = hosts.find((h) => h.role === 'head')
  if (!head) return describeWithoutHead(handle, hosts, 'the cluster has no head host')
  if (head.state === 'stopped') return describeWithoutHead(handle, hosts, `the head ${head.id} is stopped`)
  try {
    const session = await handle.pool.get(head.target)
    // The provider usually knows the private address; asking the host costs a round trip.
    const address = head.privateAddress || (await hostContext(session, head)).address
    return await handle.engine.describe({cluster: handle.name, provider: handle.provider.name, hosts, head: {host: head, session, address}})
  } catch (error) {
    return describeWithoutHead(handle, hosts, (error as Error).message)
  }
}

/** What can be said of a cluster whose head cannot be asked. */
export function describeWithoutHead(handle: ClusterHandle, hosts: Host[], why: string): Promise<ClusterInfo> {
  return handle.engine.describe({cluster: handle.name, provider: handle.provider.name, hosts, headError: why})
}
