import {recordedMaxAge} from '../../cluster/max-age.js'
import {type CloudInstances, clusterAgeOf, groupIntoClusters, headFirst, type InstanceAge} from '../cloud-clusters.js'
import {TAG} from '../aws/tags.js'
import type {ClusterSummary, Host, NewCloudHost} from '../provider.js'

export {TAG}

/** Debian's OpenStack images log in as `debian`; cms names cloud-init's default user so on any image. */
export const DEFAULT_SSH_USER = 'debian'

/** Every cms server carries this tag (one call lists them all), and `cms-cluster=NAME` (one call lists a cluster). */
export const CMS_TAG = 'cms'

/** On every server of a cluster made with --floating-ip: the external network its floating IP comes from. */
export const FLOATING_NETWORK_KEY = 'cms-floating-network'

export function clusterTag(cluster: string): string {
  return `${TAG.cluster}=${cluster}`
}

/** A server as Nova's `GET /servers/detail` (microversion 2.52) returns it: the fields cms reads. */
export interface NovaServer {
  id: string
  name: string
  status: string
  created?: string
  metadata?: Record<string, string>
  tags?: string[]
  addresses?: Record<string, Array<{addr: string; version?: number; 'OS-EXT-IPS:type'?: string}>>
  flavor?: {original_name?: string; id?: string}
  image?: {id?: string} | string
  'OS-EXT-AZ:availability_zone'?: string
  'OS-EXT-STS:task_state'?: string | null
}

/** Deleted, or being deleted (Nova keeps its status until the hypervisor is done): no longer a host. */
export function isGone(server: NovaServer): boolean {
  return server.status === 'DELETED' || server.status === 'SOFT_DELETED' || server['OS-EXT-STS:task_state'] === 'deleting'
}

const NOVA_AGE: InstanceAge<NovaServer> = {
  launchedAt: (s) => {
    const created = Date.parse(s.created ?? '')
    return Number.isNaN(created) ? undefined : created
  },
  maxAge: (s) => s.metadata?.[TAG.maxAge],
}

/** Nova servers as `list` reads them: cms's labels are the server's metadata. */
export const NOVA_SERVERS: CloudInstances<NovaServer> = {
  provider: 'openstack',
  id: (s) => s.id,
  labels: (s) => s.metadata ?? {},
  keys: TAG,
  running: (s) => s.status === 'ACTIVE',
  connectAddress,
  age: NOVA_AGE,
}

/** The server's fixed IPv4 address (the engine binds there) and its floating one, if it has one. */
export function serverAddresses(server: NovaServer): {fixed?: string; floating?: string} {
  const all = Object.values(server.addresses ?? {}).flat().filter((a) => (a.version ?? 4) === 4)
  return {
    fixed: all.find((a) => a['OS-EXT-IPS:type'] !== 'floating')?.addr,
    floating: all.find((a) => a['OS-EXT-IPS:type'] === 'floating')?.addr,
  }
}

/** Where cms connects: the floating IP when the host has one, else its fixed IP. */
export function connectAddress(server: NovaServer): string | undefined {
  const {fixed, floating} = serverAddresses(server)
  return floating ?? fixed
}

/** `floating`: the server's floating address as Neutron reports it (Nova's copy of it may lag). */
export function hostFromServer(server: NovaServer, keyFile: string, floating?: string): Host {
  const meta = server.metadata ?? {}
  const address = floating ?? connectAddress(server)
  return {
    id: server.id,
    role: meta[TAG.role] === 'head' ? 'head' : 'worker',
    target: {host: address ?? '', port: 22, user: meta[TAG.sshUser] || DEFAULT_SSH_USER, identityFiles: [keyFile]},
    privateAddress: serverAddresses(server).fixed,
    state: server.status === 'ACTIVE' && address ? 'running' : server.status === 'SHUTOFF' ? 'stopped' : 'unknown',
    cloud: {
      instanceType: server.flavor?.original_name ?? server.flavor?.id ?? 'unknown',
      lifecycle: 'on-demand',
      launchedAt: new Date(server.created ?? 0).toISOString(),
      zone: server['OS-EXT-AZ:availability_zone'],
      maxAgeSeconds: recordedMaxAge(meta[TAG.maxAge]),
    },
  }
}

/** Head first, then by index. */
export function sortServers(servers: NovaServer[]): NovaServer[] {
  return headFirst(servers, NOVA_SERVERS)
}

/** A cluster's age and max age, from its servers' creation times and cms-max-age metadata. */
export function clusterAge(servers: NovaServer[], now: Date): Pick<ClusterSummary, 'ageSeconds' | 'maxAgeSeconds' | 'expired'> {
  return clusterAgeOf(servers, NOVA_AGE, now)
}

/** Every cms server of the project (one call) as clusters, sorted by name. */
/** `floating`: servers' floating addresses by id (see hostFromServer). */
export function groupClusters(servers: NovaServer[], now: Date, floating: ReadonlyMap<string, string> = new Map()): Array<{summary: ClusterSummary; servers: NovaServer[]}> {
  return groupIntoClusters(servers, NOVA_SERVERS, now, floating).map((view) => ({summary: view.summary, servers: view.instances}))
}

export interface NewServer extends NewCloudHost {
  maxAge?: string
  flavorId: string
  imageId: string
  networkId: string
  /** The external network of the host's floating IP, if it gets one. */
  floatingNetworkId?: string
  keyName: string
  securityGroup: string
}

export function serverName(cluster: string, index: number): string {
  return `cms-${cluster}-${index}`
}

/** The body of Nova's `POST /servers` for one host: tagged, its facts in metadata, cloud-init's input as user data. */
export function serverRequest(n: NewServer): {server: Record<string, unknown>} {
  const metadata: Record<string, string> = {
    [TAG.cluster]: n.cluster,
    [TAG.role]: n.role,
    [TAG.engine]: n.engine,
    [TAG.index]: String(n.index),
    [TAG.sshUser]: n.sshUser,
    [TAG.hostKey]: n.hostKey,
  }
  if (n.maxAge) metadata[TAG.maxAge] = n.maxAge
  if (n.floatingNetworkId) metadata[FLOATING_NETWORK_KEY] = n.floatingNetworkId
  return {
    server: {
      name: serverName(n.cluster, n.index),
      flavorRef: n.flavorId,
      imageRef: n.imageId,
      key_name: n.keyName,
      security_groups: [{name: n.securityGroup}],
      networks: [{uuid: n.networkId}],
      user_data: Buffer.from(n.userData).toString('base64'),
      metadata,
      tags: [CMS_TAG, clusterTag(n.cluster)],
    },
  }
}
