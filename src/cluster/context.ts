import {readAccess} from '../config/access.js'
import {localPaths} from '../config/paths.js'
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
  pool: SessionPool
  knownHosts: KnownHosts
}

/** The provider and an SSH session pool authenticated the way that provider's hosts expect. */
export async function connectProvider(cluster: string, name: ProviderName, opts: RunOptions): Promise<ClusterHandle> {
  const knownHosts = new KnownHosts({ownFile: localPaths.knownHosts()})
  const poolFor = (privateKey?: Buffer) =>
    new SessionPool({knownHosts, privateKey, attempts: 12, deadlineMs: opts.connectTimeoutMs, log: opts.log})
  if (name === 'docker') {
    const {DockerProvider} = await import('../providers/docker.js')
    const provider = new DockerProvider(knownHosts, opts.log)
    const {privateKey} = await provider.credentials(cluster)
    return {name: cluster, provider, pool: poolFor(privateKey), knownHosts}
  }
  const {SshProvider} = await import('../providers/ssh.js')
  const pool = poolFor()
  return {name: cluster, provider: new SshProvider(pool), pool, knownHosts}
}

/** Which provider holds a cluster: docker labels first, then an ssh access file. */
export async function findClusterProvider(cluster: string): Promise<ProviderName | undefined> {
  try {
    if ((await listContainers([`cms.cluster=${cluster}`])).length > 0) return 'docker'
  } catch (error) {
    if (!(error instanceof DockerUnavailableError)) throw error
  }
  return readAccess(cluster)?.provider
}

export async function openCluster(cluster: string, opts: RunOptions): Promise<ClusterHandle> {
  const name = await findClusterProvider(cluster)
  if (!name) throw new NotFoundError(`cluster ${JSON.stringify(cluster)} not found: no docker containers labelled cms.cluster=${cluster} and no ssh access file for it (see 'cms cluster list')`)
  return connectProvider(cluster, name, opts)
}

export function requireProvider(name: string): ProviderName {
  if (name === 'docker' || name === 'ssh') return name
  throw new UsageError(`unknown provider ${JSON.stringify(name)}: expected docker or ssh`)
}
