import {listAccess} from '../config/access.js'
import {DockerUnavailableError, listContainers} from '../providers/docker-api.js'
import type {ClusterSummary} from '../providers/provider.js'
import type {ClusterList, ClusterListEntry} from '../output/results.js'
import {mapLimit} from '../remote/fanout.js'
import type {RunOptions} from './context.js'

async function dockerClusters(log: (line: string) => void): Promise<ClusterSummary[]> {
  try {
    const {summarizeContainers} = await import('../providers/docker.js')
    return summarizeContainers(await listContainers(['cms.cluster']))
  } catch (error) {
    if (!(error instanceof DockerUnavailableError)) throw error
    if (listAccess().some((a) => a.provider === 'docker')) log(`Warning: ${error.message}`)
    return []
  }
}

/**
 * Every cluster the providers know (docker labels, ssh access files), each with its engine's live status.
 * Modules for SSH load only when there is a cluster to ask, so an empty list starts fast.
 */
async function allClusters(log: (line: string) => void): Promise<ClusterSummary[]> {
  const docker = await dockerClusters(log)
  const seen = new Set(docker.map((c) => c.name))
  const ssh: ClusterSummary[] = listAccess()
    .filter((a) => a.provider === 'ssh' && !seen.has(a.name))
    .map((a) => ({name: a.name, provider: 'ssh', engine: a.engine ?? 'spark', hosts: 0, head: a.head.host}))
  return [...docker, ...ssh].sort((a, b) => a.name.localeCompare(b.name))
}

export async function listClusterNames(log: (line: string) => void): Promise<string[]> {
  return (await allClusters(log)).map((c) => c.name)
}

export async function listClusters(run: RunOptions): Promise<ClusterList> {
  const all = await allClusters(run.log)
  if (all.length === 0) return {clusters: []}
  const [{connectProvider}, {describeCluster}] = await Promise.all([import('./context.js'), import('./describe.js')])
  const clusters = await mapLimit(all, 8, async (summary): Promise<ClusterListEntry> => {
    const entry: ClusterListEntry = {...summary}
    try {
      const handle = await connectProvider(summary.name, summary.provider, summary.engine, {...run, connectTimeoutMs: Math.min(run.connectTimeoutMs, 10_000)})
      try {
        const info = await describeCluster(handle)
        entry.hosts = info.hosts.length
        entry.head = info.head?.privateAddress ?? entry.head
        Object.assign(entry, handle.engine.listFields(info))
      } finally {
        handle.pool.closeAll()
      }
    } catch (error) {
      entry.error = (error as Error).message
    }
    return entry
  })
  return {clusters}
}
