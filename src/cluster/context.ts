import {readAccess} from '../config/access.js'
import {localPaths} from '../config/paths.js'
import {findAwsSettings, requireAwsSettings, type AwsOptions} from '../providers/aws/settings.js'
import {DockerUnavailableError, listContainers} from '../providers/docker-api.js'
import type {Provider, ProviderName} from '../providers/provider.js'
import {UsageError} from '../remote/errors.js'
import {NotFoundError} from './not-found.js'
import {KnownHosts} from '../remote/known-hosts.js'
import {SessionPool} from '../remote/pool.js'

export interface RunOptions {
  /** Progress and notes for stderr. */
  log: (line: string) => void
  /** Hosts worked on at once. */
  parallel: number
  /** Total time to keep retrying a host that does not answer SSH yet. */
  connectTimeoutMs: number
  quiet?: boolean
  /** aws: --region, --profile, --connect as given (each optional; see providers/aws/settings.ts). */
  aws?: AwsOptions
}

export interface ClusterHandle {
  name: string
  provider: Provider
  pool: SessionPool
  knownHosts: KnownHosts
}

/** The provider and an SSH session pool authenticated the way that provider's hosts expect. */
export async function connectProvider(cluster: string, name: ProviderName, opts: RunOptions): Promise<ClusterHandle> {
  const knownHosts = new KnownHosts({ownFile: localPaths.knownHosts()})
  const poolFor = (privateKey?: Buffer, unknownHostKeys: 'record' | 'refuse' = 'record') =>
    new SessionPool({knownHosts, privateKey, attempts: 12, deadlineMs: opts.connectTimeoutMs, log: opts.log, unknownHostKeys})
  if (name === 'docker') {
    const {DockerProvider} = await import('../providers/docker.js')
    const provider = new DockerProvider(knownHosts, opts.log)
    const {privateKey} = await provider.credentials(cluster)
    return {name: cluster, provider, pool: poolFor(privateKey), knownHosts}
  }
  if (name === 'aws') {
    const {AwsProvider} = await import('../providers/aws/provider.js')
    const provider = new AwsProvider(requireAwsSettings(opts.aws ?? {}, readAccess(cluster)?.aws), knownHosts, opts.log)
    // Every aws host's key is known from its tag before the first connection: an unknown key is refused.
    return {name: cluster, provider, pool: poolFor(undefined, 'refuse'), knownHosts}
  }
  const {SshProvider} = await import('../providers/ssh.js')
  const pool = poolFor()
  return {name: cluster, provider: new SshProvider(pool), pool, knownHosts}
}

/**
 * Which provider holds a cluster: docker labels first, then an access file, then (when a region is known and
 * `aws` is not false) the cluster's tags in that AWS region. An AWS failure on that last step is returned as
 * `awsError`, so that a cluster that is simply not there is still reported as not found.
 */
export async function findClusterProvider(cluster: string, aws?: AwsOptions | false): Promise<ProviderName | undefined> {
  return (await locateCluster(cluster, aws)).provider
}

async function locateCluster(cluster: string, aws?: AwsOptions | false): Promise<{provider?: ProviderName; awsError?: string; region?: string}> {
  try {
    if ((await listContainers([`cms.cluster=${cluster}`])).length > 0) return {provider: 'docker'}
  } catch (error) {
    if (!(error instanceof DockerUnavailableError)) throw error
  }
  const access = readAccess(cluster)
  if (access) return {provider: access.provider}
  if (aws === false) return {}
  const settings = findAwsSettings(aws ?? {})
  if (!settings) return {}
  try {
    const [{AwsProvider}, {KnownHosts}] = await Promise.all([import('../providers/aws/provider.js'), import('../remote/known-hosts.js')])
    const provider = new AwsProvider(settings, new KnownHosts({ownFile: localPaths.knownHosts()}))
    return (await provider.exists(cluster)) ? {provider: 'aws'} : {region: settings.region}
  } catch (error) {
    if (error instanceof UsageError) throw error
    return {awsError: (error as Error).message, region: settings.region}
  }
}

export async function openCluster(cluster: string, opts: RunOptions): Promise<ClusterHandle> {
  const found = await locateCluster(cluster, opts.aws)
  if (!found.provider) {
    const aws = found.awsError ? `, and AWS could not be asked (${found.awsError})` : found.region ? `, and no instances tagged cms-cluster=${cluster} in AWS region ${found.region}` : ''
    throw new NotFoundError(`cluster ${JSON.stringify(cluster)} not found: no docker containers labelled cms.cluster=${cluster}, no access file for it${aws} (see 'cms cluster list')`)
  }
  return connectProvider(cluster, found.provider, opts)
}

export function requireProvider(name: string): ProviderName {
  if (name === 'docker' || name === 'ssh' || name === 'aws') return name
  throw new UsageError(`unknown provider ${JSON.stringify(name)}: expected docker, ssh or aws`)
}
