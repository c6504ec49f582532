import {readFileSync} from 'node:fs'
import {connect, createServer, type Server, type Socket} from 'node:net'
import {parse} from 'yaml'
import {OpenStackApi} from '../../src/providers/openstack/client.js'
import type {NovaServer} from '../../src/providers/openstack/servers.js'
import {requireOpenStackSettings} from '../../src/providers/openstack/settings.js'
import type {MachineSource} from './instance-hosts.js'
import {LoopbackHosts} from './loopback-hosts.js'

/** The test cloud scripts/openstack.sh runs: its clouds.yaml, the cms user's entry, the network of the cms project. */
export interface TestCloud {
  clouds: string
  cloud: string
  network: string
  /** The cms user's session (what cms sees) and the admin's (every project, and servers' user data). */
  user: OpenStackApi
  admin: OpenStackApi
  /** The cms user's entry of clouds.yaml as written (auth_url, username, password, project_name, ...). */
  auth: Record<string, string>
}

export function testCloud(): TestCloud {
  const clouds = process.env.CMS_OPENSTACK_TEST_CLOUDS
  const cloud = process.env.CMS_OPENSTACK_TEST_CLOUD
  const network = process.env.CMS_OPENSTACK_TEST_NETWORK
  if (!clouds || !cloud || !network) throw new Error('CMS_OPENSTACK_TEST_CLOUDS, _CLOUD and _NETWORK are not set: run eval "$(bash scripts/openstack.sh)" first')
  const env = {OS_CLIENT_CONFIG_FILE: clouds}
  const doc = parse(readFileSync(clouds, 'utf8')) as {clouds: Record<string, {auth: Record<string, string>}>}
  return {
    clouds,
    cloud,
    network,
    user: new OpenStackApi(requireOpenStackSettings(cloud, undefined, env)),
    admin: new OpenStackApi(requireOpenStackSettings(`${cloud}-admin`, undefined, env)),
    auth: doc.clouds[cloud]!.auth,
  }
}

/** Nova's servers of every project as machines (the fake hypervisor runs nothing): up when ACTIVE. */
export function novaMachines(admin: OpenStackApi): MachineSource {
  return {
    async machines() {
      const {servers} = await admin.get<{servers: NovaServer[]}>('compute', '/servers/detail?all_tenants=1')
      return servers.map((s) => ({
        id: s.id,
        up: s.status === 'ACTIVE',
        gone: s.status === 'DELETED' || s.status === 'SOFT_DELETED',
        privateIp: Object.values(s.addresses ?? {}).flat().find((a) => a['OS-EXT-IPS:type'] !== 'floating')?.addr ?? '',
      }))
    },
    async userData(id) {
      const {server} = await admin.get<{server: {'OS-EXT-SRV-ATTR:user_data'?: string}}>('compute', `/servers/${id}`)
      return Buffer.from(server['OS-EXT-SRV-ATTR:user_data'] ?? '', 'base64').toString('utf8')
    },
  }
}

/** The test cloud's servers on 127.0.8.4-19, the addresses of its loopback subnet (see LoopbackHosts). */
export class OpenStackLoopbackHosts extends LoopbackHosts {
  constructor(admin: OpenStackApi, prefix: string) {
    super(novaMachines(admin), prefix, '127.0.8.')
  }
}

/** A server's fixed IP (its first address on its network). */
export const fixedIp = (s: NovaServer) => Object.values(s.addresses ?? {}).flat()[0]?.addr ?? ''

/** A cluster's servers as Nova reports them to the cms user (by the cluster's tag). */
export async function clusterServers(api: OpenStackApi, cluster: string): Promise<NovaServer[]> {
  const {servers} = await api.get<{servers: NovaServer[]}>('compute', `/servers/detail?tags=${encodeURIComponent(`cms-cluster=${cluster}`)}`)
  return servers
}

export interface NeutronGroup {
  id: string
  name: string
  tags: string[]
  security_group_rules: Array<{direction: string; ethertype: string; protocol: string | null; port_range_min: number | null; port_range_max: number | null; remote_ip_prefix: string | null; remote_group_id: string | null}>
}

export async function clusterGroups(api: OpenStackApi, cluster: string): Promise<NeutronGroup[]> {
  const {security_groups} = await api.get<{security_groups: NeutronGroup[]}>('network', `/security-groups?tags=${encodeURIComponent(`cms-cluster=${cluster}`)}`)
  return security_groups
}

export async function keyPair(api: OpenStackApi, cluster: string): Promise<{name: string; public_key: string} | undefined> {
  return (await api.call<{keypair: {name: string; public_key: string}}>('compute', 'GET', `/os-keypairs/cms-${cluster}`, undefined, {allow404: true}))?.keypair
}

/** Ports bound to any of these servers. */
export async function serverPorts(api: OpenStackApi, serverIds: string[]): Promise<string[]> {
  const {ports} = await api.get<{ports: Array<{id: string; device_id: string}>}>('network', '/ports')
  return ports.filter((p) => serverIds.includes(p.device_id)).map((p) => p.id)
}

/**
 * The NAT of a real cloud's L3 agent, which the test cloud lacks: every floating IP Neutron binds to a server of the
 * loopback subnet gets a TCP forward from its port 22 (on this machine's loopback, 127.0.9.x) to the fixed IP's
 * published sshd, and counts the connections that came in through it. Polls Neutron (as the admin) every second.
 */
export class FloatingIpForwarder {
  private readonly forwards = new Map<string, Forward>()
  private timer?: NodeJS.Timeout
  private busy = false

  constructor(private readonly admin: OpenStackApi) {}

  start(): void {
    const tick = async () => {
      if (this.busy) return
      this.busy = true
      try {
        await this.sync()
      } catch {
        // The next tick tries again.
      } finally {
        this.busy = false
      }
    }
    this.timer = setInterval(() => void tick(), 1000)
    void tick()
  }

  /** SSH connections that came in through each floating address. */
  connections(): Map<string, number> {
    return new Map([...this.forwards].map(([floating, f]) => [floating, f.connections]))
  }

  private async sync(): Promise<void> {
    const {floatingips} = await this.admin.get<{floatingips: Array<{floating_ip_address: string; fixed_ip_address?: string | null}>}>('network', '/floatingips')
    const wanted = new Map(floatingips.filter((f) => f.fixed_ip_address?.startsWith('127.0.8.') && f.floating_ip_address.startsWith('127.0.9.')).map((f) => [f.floating_ip_address, f.fixed_ip_address!]))
    for (const [floating, f] of this.forwards) {
      if (wanted.get(floating) !== f.fixed) {
        closeForward(f)
        this.forwards.delete(floating)
      }
    }
    for (const [floating, fixed] of wanted) {
      if (this.forwards.has(floating)) continue
      const entry: Forward = {fixed, connections: 0, sockets: new Set(), server: createServer()}
      entry.server.on('connection', (inbound) => {
        entry.connections++
        const outbound = connect(22, fixed)
        entry.sockets.add(inbound).add(outbound)
        inbound.pipe(outbound).pipe(inbound)
        const end = () => {
          inbound.destroy()
          outbound.destroy()
          entry.sockets.delete(inbound)
          entry.sockets.delete(outbound)
        }
        inbound.on('error', end).on('close', end)
        outbound.on('error', end).on('close', end)
      })
      await new Promise<void>((resolve, reject) => entry.server.once('error', reject).listen(22, floating, () => resolve()))
      this.forwards.set(floating, entry)
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    for (const f of this.forwards.values()) closeForward(f)
    this.forwards.clear()
  }
}

interface Forward {
  fixed: string
  server: Server
  sockets: Set<Socket>
  connections: number
}

function closeForward(f: Forward): void {
  f.server.close()
  for (const s of f.sockets) s.destroy()
}

export interface NeutronFloatingIp {
  id: string
  floating_ip_address: string
  floating_network_id: string
  fixed_ip_address: string | null
  port_id: string | null
  tags: string[]
}

/** The floating IPs Neutron tags with the cluster, as the cms user sees them. */
export async function clusterFloatingIps(api: OpenStackApi, cluster: string): Promise<NeutronFloatingIp[]> {
  const {floatingips} = await api.get<{floatingips: NeutronFloatingIp[]}>('network', `/floatingips?tags=${encodeURIComponent(`cms-cluster=${cluster}`)}`)
  return floatingips
}
