import {readAccess} from '../../config/access.js'
import {localPaths} from '../../config/paths.js'
import {UsageError} from '../../remote/errors.js'
import {KnownHosts} from '../../remote/known-hosts.js'
import type {ProviderModule} from '../provider-module.js'
import {awsOptionsOf} from './flags.js'
import {AwsProvider} from './provider.js'
import {awsExplicit, findAwsSettings, requireAwsSettings} from './settings.js'

/** EC2 instances, found by their tags in the region in use (nothing is asked when no region is set). */
export const awsModule: ProviderModule = {
  async find(cluster, run) {
    const settings = findAwsSettings(awsOptionsOf(run.flags))
    if (!settings) return undefined
    try {
      const found = await new AwsProvider(settings, new KnownHosts({ownFile: localPaths.knownHosts()})).find(cluster)
      return found ? {found: true, engine: found.engine} : {found: false, missing: `no instances tagged cms-cluster=${cluster} in AWS region ${settings.region}`}
    } catch (error) {
      if (error instanceof UsageError) throw error
      return {found: false, missing: `AWS could not be asked (${(error as Error).message})`}
    }
  },

  /**
   * The clusters of the region in use (--region, AWS_REGION, AWS_DEFAULT_REGION, the profile's), each with its hosts,
   * from one DescribeInstances call. A failure is a warning, unless --region or --profile asked for AWS explicitly.
   */
  async list(run) {
    const options = awsOptionsOf(run.flags)
    const settings = awsExplicit(options) ? requireAwsSettings(options) : findAwsSettings(options)
    if (!settings) return {clusters: []}
    try {
      const provider = new AwsProvider(settings, new KnownHosts({ownFile: localPaths.knownHosts()}), run.log)
      try {
        // Connected in the listing's region, not the one an access file may remember for a cluster of the same name elsewhere.
        return {clusters: (await provider.listClusters()).map((c) => ({...c, flags: {...run.flags, region: settings.region}}))}
      } finally {
        provider.api.destroy()
      }
    } catch (error) {
      if (awsExplicit(options)) throw error
      return {clusters: [], warning: `AWS (region ${settings.region}): ${(error as Error).message}`}
    }
  },

  async connect(cluster, ctx) {
    const provider = new AwsProvider(requireAwsSettings(awsOptionsOf(ctx.flags), readAccess(cluster)?.aws), ctx.knownHosts, ctx.log)
    // Every aws host's key is known from its tag before the first connection: an unknown key is refused.
    return {provider, pool: ctx.poolFor(undefined, 'refuse')}
  },
}
