import type {KnownHosts} from '../remote/known-hosts.js'
import type {SessionPool} from '../remote/pool.js'
import type {ClusterSummary, Host, Provider} from './provider.js'

/** The parsed values of the flags the providers add to a command (--region, --instance-type, ...), by flag name. */
export type ProviderFlags = Readonly<Record<string, unknown>>

export interface ProviderRun {
  /** Every provider's flags as given to the command (each provider reads its own). */
  flags: ProviderFlags
  log: (line: string) => void
  /** The command only looks at the cluster (list): it must not make or install a key to reach its hosts. */
  lookOnly?: boolean
}

/** Found (with the engine it runs, when its tags say), or why not, phrased for "cluster X not found: ...". */
export type Lookup = {found: true; engine?: string} | {found: false; missing: string}

export interface ListedCluster {
  summary: ClusterSummary
  /** Hosts already known from the provider's listing, so describing the cluster asks the provider nothing more. */
  hosts?: Host[]
  /** Flags to reach it with, when the listing knows better than the command line (the region it was listed in). */
  flags?: ProviderFlags
}

/** A session pool that trusts the hosts' keys as this provider's hosts expect ('refuse': known before the first connection). */
export type PoolFor = (privateKey?: Buffer, unknownHostKeys?: 'record' | 'refuse') => SessionPool

/** What a provider does for the use-cases, loaded only when a command needs it. */
export interface ProviderModule {
  /**
   * Looks a cluster up by what the provider keeps itself (docker labels, cloud tags; when, the registry says).
   * Undefined: nothing to ask here (no region configured).
   */
  find?(cluster: string, run: ProviderRun): Promise<Lookup | undefined>
  /** Its clusters; `warning` when it could not be asked (a failure the user asked for explicitly throws). */
  list(run: ProviderRun): Promise<{clusters: ListedCluster[]; warning?: string}>
  /** The provider for a cluster, and an SSH pool authenticated the way its hosts expect. */
  connect(cluster: string, ctx: ProviderRun & {knownHosts: KnownHosts; poolFor: PoolFor}): Promise<{provider: Provider; pool: SessionPool}>
}
