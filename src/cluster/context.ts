import {readAccess} from '../config/access.js'
import {localPaths} from '../config/paths.js'
import type {Engine} from '../engines/engine.js'
import {loadEngine} from '../engines/registry.js'
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
  const poolFor = (privateKey?: Buffer) =>
    new SessionPool({knownHosts, privateKey, attempts: 12, deadlineMs: opts.connectTimeoutMs, log: opts.log})
  if (name === 'docker') {
    const {DockerProvider} = await import('../providers/docker.js')
    const provider = new DockerProvider(knownHosts, opts.log)
    const {privateKey} = await provider.credentials(cluster)
    return {name: cluster, provider, engine, pool: poolFor(privateKey), knownHosts}
  }
  const {SshProvider} = await import('../providers/ssh.js')
  const pool = poolFor()
  return {name: cluster, provider: new SshProvider(pool), engine, pool, knownHosts}
}

/**
 * Which provider holds a cluster and which engine it runs: docker labels first, then an ssh access file (access
 * files written before engines other than Spark existed name none).
 */
export async function findCluster(cluster: string): Promise<{provider: ProviderName; engine: string} | undefined> {
  try {
    const containers = await listContainers([`cms.cluster=${cluster}`])
    if (containers.length > 0) return {provider: 'docker', engine: containers[0].Labels['cms.engine'] ?? 'spark'}
  } catch (error) {
    if (!(error instanceof DockerUnavailableError)) throw error
  }
  const access = readAccess(cluster)
  return access && {provider: access.provider, engine: access.engine ?? 'spark'}
}

/** Finds the cluster (not found: exit 2), no host is contacted yet. */
export async function locateCluster(cluster: string): Promise<{provider: ProviderName; engine: string}> {
  const found = await findCluster(cluster)
  if (!found) throw new NotFoundError(`cluster ${JSON.stringify(cluster)} not found: no docker containers labelled cms.cluster=${cluster} and no ssh access file for it (see 'cms cluster list')`)
  return found
}

export async function openCluster(cluster: string, opts: RunOptions): Promise<ClusterHandle> {
  const found = await locateCluster(cluster)
  return connectProvider(cluster, found.provider, found.engine, opts)
}

export function requireProvider(name: string): ProviderName {
  if (name === 'docker' || name === 'ssh') return name
  throw new UsageError(`unknown provider ${JSON.stringify(name)}: expected docker or ssh`)
}
