import {listAccess} from '../../config/access.js'
import type {ProviderModule} from '../provider-module.js'

/** The user's own hosts: a cluster is known by its access file alone (membership is in the manifest on its head). */
export const sshModule: ProviderModule = {
  async list() {
    const clusters = listAccess()
      .filter((a) => a.provider === 'ssh')
      .map((a) => ({summary: {name: a.name, provider: 'ssh' as const, engine: a.engine ?? 'spark', hosts: 0, head: a.head.host}}))
    return {clusters}
  },

  async connect(_cluster, ctx) {
    const {SshProvider} = await import('./provider.js')
    const pool = ctx.poolFor()
    return {provider: new SshProvider(pool), pool}
  },
}
