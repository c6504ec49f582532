import {listAccess} from '../../config/access.js'
import {DockerUnavailableError, listContainers} from './api.js'
import type {ProviderModule} from '../provider-module.js'

/** Containers on this machine's Docker engine, found by their labels. */
export const dockerModule: ProviderModule = {
  async find(cluster) {
    try {
      const containers = await listContainers([`cms.cluster=${cluster}`])
      if (containers.length > 0) return {found: true, engine: containers[0]!.Labels['cms.engine'] ?? 'spark'}
    } catch (error) {
      if (!(error instanceof DockerUnavailableError)) throw error
    }
    return {found: false, missing: `no docker containers labelled cms.cluster=${cluster}`}
  },

  async list() {
    try {
      const {summarizeContainers} = await import('./provider.js')
      return {clusters: summarizeContainers(await listContainers(['cms.cluster'])).map((summary) => ({summary}))}
    } catch (error) {
      if (!(error instanceof DockerUnavailableError)) throw error
      // Only worth a word when this machine has made docker clusters.
      return {clusters: [], ...(listAccess().some((a) => a.provider === 'docker') ? {warning: error.message} : {})}
    }
  },

  async connect(cluster, ctx) {
    const {DockerProvider} = await import('./provider.js')
    const provider = new DockerProvider(ctx.knownHosts, ctx.log, {makeKeys: !ctx.lookOnly})
    const {privateKey} = await provider.credentials(cluster)
    return {provider, pool: ctx.poolFor(privateKey)}
  },
}
