import {readAccess} from '../../config/access.js'
import {readManifest} from '../../cluster/manifest.js'
import {hostFacts} from '../../remote/host-facts.js'
import type {SessionPool} from '../../remote/pool.js'
import {resolveTarget, targetLabel} from '../../remote/target.js'
import type {Host, HostCredentials, Provider, ProvisionRequest} from '../provider.js'

/**
 * Hosts the user already has. Membership lives in the manifest on the head (found through the access file);
 * nothing is created or destroyed here: the engine installs onto and cleans the hosts.
 */
export class SshProvider implements Provider {
  readonly name = 'ssh' as const
  readonly ownsHosts = false

  constructor(private readonly pool: SessionPool) {}

  async observe(cluster: string): Promise<Host[]> {
    const access = readAccess(cluster)
    if (!access || access.provider !== 'ssh') return []
    const head = resolveTarget(`${access.head.user}@${bracket(access.head.host)}:${access.head.port}`, {identityFile: access.identityFile})
    const session = await this.pool.get(head)
    const manifest = await readManifest(session, (await hostFacts(session)).home, cluster)
    if (!manifest) return [{id: targetLabel(head), role: 'head', target: head, state: 'unknown'}]
    return manifest.hosts.map((h) => ({
      id: h.id,
      role: h.role,
      target: resolveTarget(`${h.user}@${bracket(h.host)}:${h.port}`, {identityFile: access.identityFile}),
      privateAddress: h.privateAddress,
      state: 'unknown' as const,
    }))
  }

  async provision(_cluster: string, request: ProvisionRequest): Promise<Host[]> {
    const hosts = [...request.existing]
    const known = new Set(hosts.map((h) => h.id))
    for (const spec of request.specs ?? []) {
      const target = resolveTarget(spec, {identityFile: request.identityFile})
      const id = targetLabel(target)
      if (known.has(id)) continue
      known.add(id)
      hosts.push({id, role: hosts.some((h) => h.role === 'head') ? 'worker' : 'head', target, state: 'unknown'})
    }
    return hosts
  }

  async release(): Promise<void> {}

  async destroy(): Promise<void> {}

  async credentials(): Promise<HostCredentials> {
    return {}
  }
}

function bracket(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

