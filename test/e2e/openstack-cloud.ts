import {readFileSync} from 'node:fs'
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
function novaMachines(admin: OpenStackApi): MachineSource {
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
