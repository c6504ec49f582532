import {listAccess} from '../config/access.js'
import {awsExplicit, findAwsSettings, requireAwsSettings} from '../providers/aws/settings.js'
import {DockerUnavailableError, listContainers} from '../providers/docker-api.js'
import type {ClusterSummary, Host} from '../providers/provider.js'
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
 * aws clusters of the region in use (--region, AWS_REGION, AWS_DEFAULT_REGION, the profile's), each with its
 * hosts, from one DescribeInstances call. Nothing is asked when no region is set. An AWS failure is a warning,
 * unless --region or --profile asked for AWS explicitly.
 */
async function awsClusters(run: Pick<RunOptions, 'aws' | 'log'>): Promise<Array<{summary: ClusterSummary; hosts: Host[]}>> {
  const settings = awsExplicit(run.aws) ? requireAwsSettings(run.aws ?? {}) : findAwsSettings(run.aws ?? {})
  if (!settings) return []
  try {
    const [{AwsProvider}, {KnownHosts}, {localPaths}] = await Promise.all([
      import('../providers/aws/provider.js'),
      import('../remote/known-hosts.js'),
      import('../config/paths.js'),
    ])
    const provider = new AwsProvider(settings, new KnownHosts({ownFile: localPaths.knownHosts()}), run.log)
    try {
      return await provider.listClusters()
    } finally {
      provider.api.destroy()
    }
  } catch (error) {
    if (awsExplicit(run.aws)) throw error
    run.log(`Warning: AWS (region ${settings.region}): ${(error as Error).message}`)
    return []
  }
}

interface Listed {
  summary: ClusterSummary
  /** Hosts already known from the provider's listing (aws), so describing the cluster asks the provider nothing more. */
  hosts?: Host[]
}

/**
 * Every cluster the providers know (docker labels, aws tags, ssh access files), each with its engine's live
 * status. Modules for SSH load only when there is a cluster to ask, so an empty list starts fast.
 */
async function allClusters(run: Pick<RunOptions, 'aws' | 'log'>): Promise<Listed[]> {
  const [docker, aws] = await Promise.all([dockerClusters(run.log), awsClusters(run)])
  const listed: Listed[] = [...docker.map((summary) => ({summary})), ...aws]
  const seen = new Set(listed.map((c) => c.summary.name))
  const ssh: Listed[] = listAccess()
    .filter((a) => a.provider === 'ssh' && !seen.has(a.name))
    .map((a) => ({summary: {name: a.name, provider: 'ssh', engine: a.engine ?? 'spark', hosts: 0, head: a.head.host}}))
  return [...listed, ...ssh].sort((a, b) => a.summary.name.localeCompare(b.summary.name))
}

export async function listClusterNames(run: Pick<RunOptions, 'aws' | 'log'>): Promise<string[]> {
  return (await allClusters(run)).map((c) => c.summary.name)
}

/** Clusters with what the providers alone say (no SSH): for reap. */
export async function listClusterSummaries(run: Pick<RunOptions, 'aws' | 'log'>): Promise<ClusterSummary[]> {
  return (await allClusters(run)).map((c) => c.summary)
}

export async function listClusters(run: RunOptions): Promise<ClusterList> {
  const all = await allClusters(run)
  if (all.length === 0) return {clusters: []}
  const [{connectProvider}, {describeCluster}] = await Promise.all([import('./context.js'), import('./describe.js')])
  const region = findAwsSettings(run.aws ?? {})?.region
  const clusters = await mapLimit(all, 8, async ({summary, hosts}): Promise<ClusterListEntry> => {
    const entry: ClusterListEntry = {...summary}
    try {
      // The listing's region, not the one an access file may remember for a cluster of the same name elsewhere.
      const aws = summary.provider === 'aws' ? {...run.aws, region} : run.aws
      const handle = await connectProvider(summary.name, summary.provider, summary.engine, {...run, aws, connectTimeoutMs: Math.min(run.connectTimeoutMs, 10_000)})
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
  return {clusters}
}
