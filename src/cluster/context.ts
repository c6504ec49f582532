import {readAccess} from '../config/access.js'
import {readAttached} from '../config/attached.js'
import {localPaths} from '../config/paths.js'
import type {Engine} from '../engines/engine.js'
import {loadEngine} from '../engines/registry.js'
import type {Provider, ProviderName} from '../providers/provider.js'
import type {ProviderFlags} from '../providers/provider-module.js'
import {loadProvider, PROVIDER_NAMES, providerEntry, requireProvider} from '../providers/registry.js'
import {NotFoundError, notMadeByCms} from './not-found.js'
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
  /** The providers' flags as given (--region, --profile, ...; each provider reads its own). */
  providerFlags?: ProviderFlags
  /** Only looking (list): reach the hosts with the keys this machine has, make and install none. */
  lookOnly?: boolean
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
  const [engine, module] = await Promise.all([loadEngine(engineName), loadProvider(name)])
  const knownHosts = new KnownHosts({ownFile: localPaths.knownHosts()})
  const poolFor = (privateKey?: Buffer, unknownHostKeys: 'record' | 'refuse' = 'record') =>
    new SessionPool({knownHosts, privateKey, attempts: 12, deadlineMs: opts.connectTimeoutMs, log: opts.log, unknownHostKeys})
  const {provider, pool} = await module.connect(cluster, {flags: opts.providerFlags ?? {}, log: opts.log, lookOnly: opts.lookOnly, knownHosts, poolFor})
  return {name: cluster, provider, engine, pool, knownHosts}
}

export interface FoundCluster {
  provider?: ProviderName
  engine?: string
  /** Where it was looked for in vain, phrased for "not found". */
  missing: string[]
}

/**
 * Which provider holds a cluster and which engine it runs: what the providers keep on this machine first (docker
 * labels), then an access file (files written before engines other than Spark name none), then, unless `remote`
 * is false, what remote providers keep (aws tags in the region in use). A remote provider that cannot be asked is
 * noted in `missing`, so that a cluster that is simply not there is still reported as not found. A cluster cms did
 * not make (attached) has none of these: asking for it is refused (exit 2).
 */
export async function findCluster(cluster: string, opts: {flags?: ProviderFlags; remote?: boolean} = {}): Promise<FoundCluster> {
  if (readAttached(cluster)) throw notMadeByCms(cluster)
  const run = {flags: opts.flags ?? {}, log: () => undefined}
  const missing: string[] = []
  const ask = async (order: 'before-access' | 'after-access'): Promise<FoundCluster | undefined> => {
    for (const name of PROVIDER_NAMES.filter((p) => providerEntry(p).lookup === order)) {
      const found = await (await loadProvider(name)).find?.(cluster, run)
      if (found?.found) return {provider: name, engine: found.engine, missing}
      if (found) missing.push(found.missing)
    }
    return undefined
  }
  const local = await ask('before-access')
  if (local) return local
  const access = readAccess(cluster)
  if (access) return {provider: requireProvider(access.provider), engine: access.engine ?? 'spark', missing}
  missing.push('no access file for it')
  if (opts.remote === false) return {missing}
  return (await ask('after-access')) ?? {missing}
}

/** Finds the cluster, its provider and engine (not found: exit 2); no host is contacted yet. */
export async function locateCluster(cluster: string, flags?: ProviderFlags): Promise<{provider: ProviderName; engine: string}> {
  const found = await findCluster(cluster, {flags})
  if (!found.provider) {
    throw new NotFoundError(`cluster ${JSON.stringify(cluster)} not found: ${notFoundWhere(found.missing)} (see 'cms cluster list')`)
  }
  return {provider: found.provider, engine: found.engine ?? 'spark'}
}

/** "A, B, and C": the places looked at, up to the access files with commas, the remote ones after with ", and". */
export function notFoundWhere(missing: string[]): string {
  const at = missing.indexOf('no access file for it')
  const upTo = missing.slice(0, at + 1).join(', ')
  return upTo + missing.slice(at + 1).map((m) => `, and ${m}`).join('')
}

export async function openCluster(cluster: string, opts: RunOptions): Promise<ClusterHandle> {
  const found = await locateCluster(cluster, opts.providerFlags)
  return connectProvider(cluster, found.provider, found.engine, opts)
}
