import {type CloudInstances, groupIntoClusters, headFirst} from '../cloud-clusters.js'
import type {ClusterSummary, Host, NewCloudHost} from '../provider.js'
import type {LxdContainerSetup} from './container-needs.js'

/**
 * cms keeps no local state for lxd clusters: the instances' `user.cms.*` config keys are the membership, like
 * docker's labels and aws's tags. `user.user-data` is cloud-init's input (the host key and the login key).
 */
export const KEY = {
  cluster: 'user.cms.cluster',
  role: 'user.cms.role',
  engine: 'user.cms.engine',
  index: 'user.cms.index',
  /** Who cms logs in as (cloud-init's default user). */
  sshUser: 'user.cms.ssh-user',
  /** The host's public SSH key, made by cms: what cms trusts for the instance's address, with no first-use guess. */
  hostKey: 'user.cms.host-key',
  userData: 'user.user-data',
} as const

/** cloud-init's default user on cms's image, as on Debian's cloud images. */
export const DEFAULT_SSH_USER = 'admin'

/** An instance as `GET /1.0/instances?recursion=2` returns it (the fields cms reads). */
export interface LxdInstance {
  name: string
  /** 'container' or 'virtual-machine'. */
  type?: string
  status: string
  created_at?: string
  config: Record<string, string>
  state?: {network?: Record<string, {hwaddr?: string; addresses?: Array<{family: string; address: string; scope: string}>}> | null} | null
}

/** The server-side filter for one cluster's instances, or every cms instance's (`list`: one call). */
export function instancesPath(cluster?: string): string {
  const filter = cluster === undefined ? `config.${KEY.role} eq head or config.${KEY.role} eq worker` : `config.${KEY.cluster} eq ${cluster}`
  return `/1.0/instances?recursion=2&filter=${encodeURIComponent(filter)}`
}

export function instanceName(cluster: string, index: number): string {
  return `cms-${cluster}-${index}`
}

/** LXD instances as `list` reads them: no age (LXD keeps no --max-age). */
export const LXD_INSTANCES: CloudInstances<LxdInstance> = {
  provider: 'lxd',
  id: (i) => i.name,
  labels: (i) => i.config,
  keys: KEY,
  running: (i) => i.status === 'Running',
  connectAddress: instanceAddress,
}

/**
 * The instance's IPv4 address on its network (what the other hosts and cms reach it at): on the NIC LXD gave it
 * (known by the MAC address LXD records as `volatile.DEVICE.hwaddr`), not on a bridge the engine made inside (a
 * Kubernetes node's pod bridge has an address too); the first other NIC's when LXD recorded none.
 */
export function instanceAddress(instance: LxdInstance): string | undefined {
  const lxdMacs = new Set(Object.entries(instance.config).filter(([k]) => /^volatile\.[^.]+\.hwaddr$/.test(k)).map(([, v]) => v.toLowerCase()))
  const nics = Object.entries(instance.state?.network ?? {}).filter(([name]) => name !== 'lo')
  const ordered = [...nics.filter(([, nic]) => lxdMacs.has((nic.hwaddr ?? '').toLowerCase())), ...(lxdMacs.size > 0 ? [] : nics)]
  for (const [, nic] of ordered) {
    const inet = nic.addresses?.find((a) => a.family === 'inet' && a.scope === 'global')
    if (inet) return inet.address
  }
  return undefined
}

export const VM_TYPE = 'virtual-machine'

export function isVm(instance: LxdInstance): boolean {
  return instance.type === VM_TYPE
}

/** "container (2 CPUs, 1024MiB)" or "virtual machine (...)" from the instance's type and limits, for `info`. */
export function limitsOf(instance: LxdInstance): string {
  const cpu = instance.config['limits.cpu']
  const memory = instance.config['limits.memory']
  const parts = [cpu ? `${cpu} CPUs` : undefined, memory ? memory : undefined].filter(Boolean)
  return `${isVm(instance) ? 'virtual machine' : 'container'}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`
}

export function hostFromInstance(instance: LxdInstance, keyFile: string): Host {
  const address = instanceAddress(instance)
  return {
    id: instance.name,
    role: instance.config[KEY.role] === 'head' ? 'head' : 'worker',
    target: {host: address ?? '', port: 22, user: instance.config[KEY.sshUser] || DEFAULT_SSH_USER, identityFiles: [keyFile]},
    privateAddress: address,
    state: instance.status === 'Running' && address ? 'running' : instance.status === 'Stopped' ? 'stopped' : 'unknown',
    cloud: {instanceType: limitsOf(instance), lifecycle: 'on-demand', launchedAt: new Date(instance.created_at ?? 0).toISOString()},
  }
}

/** Head first, then by index. */
export function sortInstances(instances: LxdInstance[]): LxdInstance[] {
  return headFirst(instances, LXD_INSTANCES)
}

/** Every cms instance of the daemon (one call) as clusters, sorted by name. */
export function groupClusters(instances: LxdInstance[]): Array<{summary: ClusterSummary; instances: LxdInstance[]}> {
  return groupIntoClusters(instances, LXD_INSTANCES)
}

export interface NewInstance extends NewCloudHost {
  cpus?: number
  memoryMb?: number
  /** A virtual machine (from a VM image) rather than a container. */
  vm?: boolean
  /** A container's settings for the engine (privileged for a Kubernetes node, devices). */
  setup?: Pick<LxdContainerSetup, 'config' | 'devices'>
}

/**
 * The body of `POST /1.0/instances` for one host: from cms's image, tagged, with its limits and cloud-init input. A VM
 * boots with UEFI secure boot off: cms's VM image has an unsigned boot loader (scripts/lxd-vm-image.sh). LXD hands a
 * VM its `user.user-data` on its config drive, where the image's seed service reads it.
 */
export function instanceRequest(n: NewInstance, imageAlias: string): Record<string, unknown> {
  const config: Record<string, string> = {
    [KEY.cluster]: n.cluster,
    [KEY.role]: n.role,
    [KEY.engine]: n.engine,
    [KEY.index]: String(n.index),
    [KEY.sshUser]: n.sshUser,
    [KEY.hostKey]: n.hostKey,
    [KEY.userData]: n.userData,
  }
  if (n.cpus !== undefined) config['limits.cpu'] = String(n.cpus)
  if (n.memoryMb !== undefined) config['limits.memory'] = `${n.memoryMb}MiB`
  if (n.vm) config['security.secureboot'] = 'false'
  const devices = n.vm ? {} : {...n.setup?.devices}
  if (!n.vm) Object.assign(config, n.setup?.config)
  return {name: instanceName(n.cluster, n.index), type: n.vm ? VM_TYPE : 'container', source: {type: 'image', alias: imageAlias}, config, ...(Object.keys(devices).length > 0 ? {devices} : {})}
}
