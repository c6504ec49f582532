import type {Host} from '../providers/provider.js'
import {type ClusterHandle, openCluster, type RunOptions} from './context.js'
import {validateClusterName} from './names.js'
import {NotFoundError} from './not-found.js'

/**
 * A cluster opened to work on its hosts: the provider's hosts as they are now, its head, and a pool that can log in
 * to them (or an error saying why this machine cannot). The caller closes `handle.pool`.
 */
export async function openClusterHosts(name: string, run: RunOptions): Promise<{handle: ClusterHandle; hosts: Host[]; head: Host}> {
  validateClusterName(name)
  const handle = await openCluster(name, run)
  try {
    const hosts = await handle.provider.observe(name)
    if (hosts.length === 0) throw new NotFoundError(`cluster ${JSON.stringify(name)} not found`)
    const head = hosts.find((h) => h.role === 'head')
    if (!head) throw new Error(`cluster ${name} has no head host`)
    const problem = handle.provider.accessProblem?.(name)
    if (problem) throw new Error(problem)
    return {handle, hosts, head}
  } catch (error) {
    handle.pool.closeAll()
    throw error
  }
}

/** Why a host cannot be worked on now, if it cannot. */
export function unreachableReason(host: Host): string | undefined {
  if (host.state === 'stopped') return `host ${host.id} is stopped`
  if (!host.target.host) return `host ${host.id} has no address yet`
  return undefined
}
