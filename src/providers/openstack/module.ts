import {readAccess} from '../../config/access.js'
import {localPaths} from '../../config/paths.js'
import {UsageError} from '../../remote/errors.js'
import {KnownHosts} from '../../remote/known-hosts.js'
import type {ProviderFlags, ProviderModule} from '../provider-module.js'
import {OpenStackProvider} from './provider.js'
import {describeCredentials, findOpenStackSettings, openstackConfigured, requireOpenStackSettings} from './settings.js'

/** How long `list` and `find` wait for the cloud: one that does not answer is skipped fast. */
const ASK_TIMEOUTS = {connectTimeoutMs: 5_000, requestTimeoutMs: 15_000}

const cloudFlag = (flags: ProviderFlags) => flags['os-cloud'] as string | undefined

/** OpenStack servers, found by their tags in the project of the credentials in use (nothing is asked without any). */
export const openstackModule: ProviderModule = {
  async find(cluster, run) {
    const settings = findOpenStackSettings(cloudFlag(run.flags))
    if (!settings) return undefined
    const provider = new OpenStackProvider(settings, new KnownHosts({ownFile: localPaths.knownHosts()}), () => {}, ASK_TIMEOUTS)
    try {
      const found = await provider.find(cluster)
      return found ? {found: true, engine: found.engine} : {found: false, missing: `no OpenStack servers tagged cms-cluster=${cluster} (${describeCredentials(settings)})`}
    } catch (error) {
      if (error instanceof UsageError) throw error
      return {found: false, missing: `OpenStack could not be asked (${(error as Error).message})`}
    } finally {
      await provider.api.close()
    }
  },

  /**
   * The project's clusters, each with its hosts, from one call; asked only when credentials are set (--os-cloud,
   * OS_CLOUD or OS_AUTH_URL). A failure is a warning, unless --os-cloud asked for it explicitly.
   */
  async list(run) {
    const flag = cloudFlag(run.flags)
    if (!openstackConfigured(flag)) return {clusters: []}
    let settings
    try {
      settings = requireOpenStackSettings(flag)
    } catch (error) {
      if (flag) throw error
      return {clusters: [], warning: `OpenStack: ${(error as Error).message}`}
    }
    const provider = new OpenStackProvider(settings, new KnownHosts({ownFile: localPaths.knownHosts()}), run.log, ASK_TIMEOUTS)
    try {
      return {clusters: (await provider.listClusters()).map((c) => ({...c, flags: settings.cloud ? {...run.flags, 'os-cloud': settings.cloud} : run.flags}))}
    } catch (error) {
      if (flag) throw error
      return {clusters: [], warning: `OpenStack (${describeCredentials(settings)}): ${(error as Error).message}`}
    } finally {
      await provider.api.close()
    }
  },

  async connect(cluster, ctx) {
    const provider = new OpenStackProvider(requireOpenStackSettings(cloudFlag(ctx.flags), readAccess(cluster)?.openstack), ctx.knownHosts, ctx.log)
    // Every openstack host's key is known from its metadata before the first connection: an unknown key is refused.
    return {provider, pool: ctx.poolFor(undefined, 'refuse')}
  },
}
