import {OpenStackError, type OpenStackApi} from './client.js'
import {clusterTag, CMS_TAG, FLOATING_NETWORK_KEY, serverAddresses, type NovaServer} from './servers.js'

/** A floating IP as Neutron's `GET /floatingips` returns it: the fields cms reads. */
export interface FloatingIp {
  id: string
  floating_ip_address: string
  floating_network_id: string
  fixed_ip_address?: string | null
  port_id?: string | null
  tags?: string[]
  /** The fip-port-details extension: the server (device) the floating IP's port belongs to. */
  port_details?: {device_id?: string} | null
}

export function floatingNetworkOf(server: NovaServer): string | undefined {
  return server.metadata?.[FLOATING_NETWORK_KEY] || undefined
}

/** A floating IP belongs to the cluster when it carries the cluster's tag or its port is one of these servers'. */
export function clusterFloatingIps(all: FloatingIp[], cluster: string, serverIds: readonly string[]): FloatingIp[] {
  const tag = clusterTag(cluster)
  return all.filter((f) => f.tags?.includes(tag) || (f.port_details?.device_id !== undefined && serverIds.includes(f.port_details.device_id)))
}

/** Each server's floating address, by server id: the floating IP bound to its port or to its fixed address. */
export function floatingAddresses(fips: FloatingIp[], servers: NovaServer[]): Map<string, string> {
  const out = new Map<string, string>()
  for (const server of servers) {
    const fixed = serverAddresses(server).fixed
    const fip = fips.find((f) => f.port_id && (f.port_details?.device_id === server.id || (fixed !== undefined && f.fixed_ip_address === fixed)))
    if (fip) out.set(server.id, fip.floating_ip_address)
  }
  return out
}

export async function listFloatingIps(api: OpenStackApi, query = ''): Promise<FloatingIp[]> {
  return (await api.get<{floatingips: FloatingIp[]}>('network', `/floatingips${query}`)).floatingips
}

/**
 * A floating IP from `networkId` for every server that has none, on the server's port in its fixed network, tagged
 * with the cluster (kill finds it by the tag, and by its port while the server lives). Idempotent: a rerun makes only
 * the missing ones.
 */
export async function ensureFloatingIps(api: OpenStackApi, cluster: string, servers: NovaServer[], networkId: string, log: (line: string) => void): Promise<void> {
  const existing = floatingAddresses(clusterFloatingIps(await listFloatingIps(api), cluster, servers.map((s) => s.id)), servers)
  for (const server of servers.filter((s) => !existing.has(s.id))) {
    const {ports} = await api.get<{ports: Array<{id: string; fixed_ips?: Array<{ip_address: string}>}>}>('network', `/ports?device_id=${encodeURIComponent(server.id)}`)
    const fixed = serverAddresses(server).fixed
    const port = ports.find((p) => p.fixed_ips?.some((ip) => ip.ip_address === fixed)) ?? ports[0]
    if (!port) throw new OpenStackError(`server ${server.id} has no port to bind a floating IP to`)
    const made = await api.call<{floatingip: FloatingIp}>('network', 'POST', '/floatingips', {
      floatingip: {floating_network_id: networkId, port_id: port.id, ...(fixed ? {fixed_ip_address: fixed} : {}), description: `cms cluster ${cluster}: ${server.name}`},
    })
    const fip = made!.floatingip
    try {
      await api.call('network', 'PUT', `/floatingips/${fip.id}/tags`, {tags: [CMS_TAG, clusterTag(cluster)]})
    } catch (error) {
      // Untagged, it would outlive its server unseen: it goes now.
      await api.call('network', 'DELETE', `/floatingips/${fip.id}`, undefined, {allow404: true})
      throw error
    }
    log(`Floating IP ${fip.floating_ip_address} for ${server.name}`)
  }
}

export async function deleteFloatingIps(api: OpenStackApi, fips: FloatingIp[]): Promise<string[]> {
  for (const f of fips) await api.call('network', 'DELETE', `/floatingips/${f.id}`, undefined, {allow404: true})
  return fips.map((f) => `floating IP ${f.floating_ip_address}`)
}
