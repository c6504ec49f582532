import {listAttached} from '../config/attached.js'
import type {ClusterSummary} from '../providers/provider.js'
import type {ListedCluster} from '../providers/provider-module.js'
import {loadProvider, PROVIDER_NAMES, providerEntry} from '../providers/registry.js'
import type {ClusterList, ClusterListEntry} from '../output/results.js'
import {mapLimit} from '../remote/fanout.js'
import type {RunOptions} from './context.js'

/** How long one provider may take to list its clusters before the listing goes on without it. */
const LIST_DEADLINE_MS = 20_000

type ListRun = Pick<RunOptions, 'providerFlags' | 'log'>

/** One provider's clusters; one that cannot be asked (or not in time) is a warning, unless the user asked for it explicitly. */
async function providerClusters(name: string, run: ListRun): Promise<{clusters: ListedCluster[]; warning?: string}> {
  const module = await loadProvider(name)
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<{clusters: ListedCluster[]; warning: string}>((resolve) => {
    timer = setTimeout(() => resolve({clusters: [], warning: `${name}: no answer in ${LIST_DEADLINE_MS / 1000} s`}), LIST_DEADLINE_MS)
    timer.unref?.()
  })
  try {
    const listed = await Promise.race([module.list({flags: run.providerFlags ?? {}, log: run.log}), deadline])
    if (listed.warning) run.log(`Warning: ${listed.warning}`)
    return listed
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Every cluster the providers know (docker labels, aws tags, ssh access files), asked in parallel, and the providers
 * that could not be asked; a name listed by an earlier provider is not listed again. Modules for SSH load only when
 * there is a cluster to ask, so an empty list starts fast.
 */
async function allClusters(run: ListRun): Promise<{listed: ListedCluster[]; unreachable: NonNullable<ClusterList['unreachable']>}> {
  // Providers that keep their own record of clusters (labels, tags) first: an access file of the same name comes after.
  const order = [...PROVIDER_NAMES].sort((a, b) => Number(!providerEntry(a).lookup) - Number(!providerEntry(b).lookup))
  const lists = await Promise.all(order.map((name) => providerClusters(name, run)))
  const seen = new Set<string>()
  const listed: ListedCluster[] = []
  for (const c of lists.flatMap((l) => l.clusters)) {
    if (seen.has(c.summary.name)) continue
    seen.add(c.summary.name)
    listed.push(c)
  }
  const unreachable = order.flatMap((provider, i) => (lists[i]!.warning ? [{provider, error: lists[i]!.warning!}] : []))
  return {listed: listed.sort((a, b) => a.summary.name.localeCompare(b.summary.name)), unreachable}
}

/** Every cluster's name: those the providers know, then the attached ones. */
export async function listClusterNames(run: ListRun): Promise<string[]> {
  const made = (await allClusters(run)).listed.map((c) => c.summary.name)
  return [...made, ...listAttached().map((a) => a.name).filter((n) => !made.includes(n))]
}

/** Clusters cms did not make, each as its engine's API describes it now. */
async function attachedClusters(skip: Set<string>): Promise<ClusterListEntry[]> {
  const [{describeAttached}, {loadEngine}] = await Promise.all([import('./attach.js'), import('../engines/registry.js')])
  return mapLimit(
    listAttached().filter((a) => !skip.has(a.name)),
    8,
    async (a): Promise<ClusterListEntry> => {
      const info = await describeAttached(a)
      return {name: a.name, provider: a.provider, engine: a.engine, hosts: info.hosts.length, head: info.kubernetes?.apiUrl ?? info.nomad?.apiUrl, ...(await loadEngine(a.engine)).listFields(info)}
    },
  )
}

/** Clusters with what the providers alone say (no SSH): for reap. */
export async function listClusterSummaries(run: ListRun): Promise<ClusterSummary[]> {
  return (await allClusters(run)).listed.map((c) => c.summary)
}

export async function listClusters(run: RunOptions): Promise<ClusterList> {
  const {listed: all, unreachable} = await allClusters(run)
  const also = unreachable.length > 0 ? {unreachable} : {}
  const attached = await attachedClusters(new Set(all.map((c) => c.summary.name)))
  if (all.length === 0) return {clusters: attached, ...also}
  const [{connectProvider}, {describeCluster}] = await Promise.all([import('./context.js'), import('./describe.js')])
  const clusters = await mapLimit(all, 8, async ({summary, hosts, flags}): Promise<ClusterListEntry> => {
    const entry: ClusterListEntry = {...summary}
    try {
      const handle = await connectProvider(summary.name, summary.provider, summary.engine, {...run, providerFlags: flags ?? run.providerFlags, connectTimeoutMs: Math.min(run.connectTimeoutMs, 10_000), lookOnly: true})
      try {
        const info = await describeCluster(handle, hosts)
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
  return {clusters: [...clusters, ...attached].sort((a, b) => a.name.localeCompare(b.name)), ...also}
}
