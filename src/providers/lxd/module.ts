import {readAccess} from '../../config/access.js'
import {localPaths} from '../../config/paths.js'
import {UsageError} from '../../remote/errors.js'
import {KnownHosts} from '../../remote/known-hosts.js'
import type {ProviderModule} from '../provider-module.js'
import {lxdOptionsOf} from './flags.js'
import {LxdProvider} from './provider.js'
import {describeEndpoint, lxdConfigured, lxdEndpoint, lxdExplicit} from './settings.js'

/** How long `list` and `find` wait for a daemon to connect and to answer: one that does not is skipped fast. */
const ASK_TIMEOUTS = {connectTimeoutMs: 3_000, requestTimeoutMs: 8_000}

/** LXD instances, found by their `user.cms.*` config keys on the daemon in use (nothing is asked when none is configured). */
export const lxdModule: ProviderModule = {
  async find(cluster, run) {
    const endpoint = lxdEndpoint(lxdOptionsOf(run.flags))
    if (!lxdConfigured(endpoint)) return undefined
    const provider = new LxdProvider(endpoint, new KnownHosts({ownFile: localPaths.knownHosts()}), () => {}, ASK_TIMEOUTS)
    try {
      const found = await provider.find(cluster)
      return found ? {found: true, engine: found.engine} : {found: false, missing: `no LXD instances with user.cms.cluster=${cluster} at ${describeEndpoint(endpoint)}`}
    } catch (error) {
      if (error instanceof UsageError) throw error
      return {found: false, missing: `LXD could not be asked (${(error as Error).message})`}
    } finally {
      await provider.api.close()
    }
  },

  /**
   * The daemon's clusters, each with its hosts, from one call; asked only when a daemon is configured (a remote, or
   * a local socket that exists). A failure is a warning, unless --lxd-socket or --lxd-remote asked for it explicitly.
   */
  async list(run) {
    const options = lxdOptionsOf(run.flags)
    const endpoint = lxdEndpoint(options)
    if (!lxdConfigured(endpoint)) return {clusters: []}
    const provider = new LxdProvider(endpoint, new KnownHosts({ownFile: localPaths.knownHosts()}), run.log, ASK_TIMEOUTS)
    try {
      return {clusters: await provider.listClusters()}
    } catch (error) {
      if (lxdExplicit(options)) throw error
      return {clusters: [], warning: `LXD (${describeEndpoint(endpoint)}): ${(error as Error).message}`}
    } finally {
      await provider.api.close()
    }
  },

  async connect(cluster, ctx) {
    const provider = new LxdProvider(lxdEndpoint(lxdOptionsOf(ctx.flags), readAccess(cluster)?.lxd), ctx.knownHosts, ctx.log)
    // Every lxd host's key is known from its config key before the first connection: an unknown key is refused.
    return {provider, pool: ctx.poolFor(undefined, 'refuse')}
  },
}
