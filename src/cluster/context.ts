import {readAccess} from '../config/access.js'
import {localPaths} from '../config/paths.js'
import type {Engine} from '../engines/engine.js'
import {loadEngine} from '../engines/registry.js'
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
  engine: Engine
  pool: SessionPool
  knownHosts: KnownHosts
}

/** The cluster's provider and engine, and an SSH session pool authenticated the way that provider's hosts expect. */
export async function connectProvider(cluster: string, name: ProviderName, engineName: string, opts: RunOptions): Promise<ClusterHandle> {
  const engine = await loadEngine(engineName)
  const knownHosts = new KnownHosts({ownFile: localPaths.knownHosts()})
  const poolFor = (privateKey?: Buffer, unknownHostKeys: 'record' | 'refuse' = 'record') =>
    new SessionPool({knownHosts, privateKey, attempts: 12, deadlineMs: opts.connectTimeoutMs, log: opts.log, unknownHostKeys})
  if (name === 'docker') {
    const {DockerProvider} = await import('../providers/docker.js')
    const provider = new DockerProvider(knownHosts, opts.log)
    const {privateKey} = await provider.credentials(cluster)
    return {name: cluster, provider, engine, pool: poolFor(privateKey), knownHosts}
  }
  if (name === 'aws') {
    const {AwsProvider} = await import('../providers/aws/provider.js')
    const provider = new AwsProvider(requireAwsSettings(opts.aws ?? {}, readAccess(cluster)?.aws), knownHosts, opts.log)
    // Every aws host's key is known from its tag before the first connection: an unknown key is refused.
    return {name: cluster, provider, engine, pool: poolFor(undefined, 'refuse'), knownHosts}
  }
  const {SshProvider} = await import('../providers/ssh.js')
  const pool = poolFor()
  return {name: cluster, provider: new SshProvider(pool), engine, pool, knownHosts}
}

/**
 * Which provider holds a cluster and which engine it runs: docker labels first, then an access file (files written
 * before engines other than Spark name none), then (when a region is known and `aws` is not false) the cluster's
 * tags in that AWS region. An AWS failure on that last step is returned as `awsError`, so that a cluster that is
 * simply not there is still reported as not found.
 */
export async function findCluster(cluster: string, aws?: AwsOptions | false): Promise<{provider?: ProviderName; engine?: string; awsError?: string; region?: string}> {
  try {
    const containers = await listContainers([`cms.cluster=${cluster}`])
    if (containers.length > 0) return {provider: 'docker', engine: containers[0].Labels['cms.engine'] ?? 'spark'}
  } catch (error) {
    if (!(error instanceof DockerUnavailableError)) throw error
  }
  const access = readAccess(cluster)
  if (access) return {provider: access.provider, engine: access.engine ?? 'spark'}
  if (aws === false) return {}
  const settings = findAwsSettings(aws ?? {})
  if (!settings) return {}
  try {
    const [{AwsProvider}, {KnownHosts}] = await Promise.all([import('../providers/aws/provider.js'), import('../remote/known-hosts.js')])
    const provider = new AwsProvider(settings, new KnownHosts({ownFile: localPaths.knownHosts()}))
    const found = await provider.find(cluster)
    return found ? {provider: 'aws', engine: found.engine} : {region: settings.region}
  } catch (error) {
    if (error instanceof UsageError) throw error
    return {awsError: (error as Error).message, region: settings.region}
  }
}

/** Finds the cluster, its provider and engine (not found: exit 2); no host is contacted yet. */
export async function locateCluster(cluster: string, aws?: AwsOptions | false): Promise<{provider: ProviderName; engine: string}> {
  const found = await findCluster(cluster, aws)
  if (!found.provider) {
    const where = found.awsError ? `, and AWS could not be asked (${found.awsError})` : found.region ? `, and no instances tagged cms-cluster=${cluster} in AWS region ${found.region}` : ''
    throw new NotFoundError(`cluster ${JSON.stringify(cluster)} not found: no docker containers labelled cms.cluster=${cluster}, no access file for it${where} (see 'cms cluster list')`)
  }
  return {provider: found.provider, engine: found.engine ?? 'spark'}
}

export async function openCluster(cluster: string, opts: RunOptions): Promise<ClusterHandle> {
  const found = await locateCluster(cluster, opts.aws)
  return connectProvider(cluster, found.provider, found.engine, opts)
}

export function requireProvider(name: string): ProviderName {
  if (name === 'docker' || name === 'ssh' || name === 'aws') return name
  throw new UsageError(`unknown provider ${JSON.stringify(name)}: expected docker, ssh or aws`)
}
