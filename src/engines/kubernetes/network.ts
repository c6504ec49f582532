import {isIPv4} from 'node:net'

/**
 * The address plan of a cms Kubernetes cluster (IPv4): services in 10.96.0.0/12 (the API server's service address
 * is its first host, 10.96.0.1), pods in 10.244.0.0/16 with one /24 per node, chosen by cms from the node's index
 * (no controller-manager IPAM: each node's CNI config names its own range, and every node routes the others').
 */

export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12'
export const DEFAULT_POD_CIDR = '10.244.0.0/16'
export const CLUSTER_DOMAIN = 'cluster.local'

/**
 * Ports cms's control plane uses: the upstream defaults, except etcd's. Debian's etcd-server package starts its own
 * etcd on 127.0.0.1:2379 when installed (cloud-init on an aws host installs it): cms's etcd keeps out of its way.
 */
export const KUBERNETES_PORTS = {
  apiServer: 6443,
  etcdClient: 12379,
  etcdPeer: 12380,
  kubelet: 10250,
  kubeletHealthz: 10248,
  controllerManager: 10257,
  scheduler: 10259,
  kubeProxyHealthz: 10256,
  kubeProxyMetrics: 10249,
} as const

export interface Cidr {
  /** The network address, dotted. */
  address: string
  prefix: number
}

/** Parses an IPv4 CIDR whose address is the network address itself ("10.96.0.0/12", not "10.96.0.1/12"). */
export function parseCidr(text: string): Cidr {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(text)
  if (!m || !isIPv4(m[1]!)) throw new Error(`not an IPv4 CIDR: ${JSON.stringify(text)}`)
  const prefix = Number(m[2])
  if (prefix > 32) throw new Error(`not an IPv4 CIDR: ${JSON.stringify(text)}`)
  const value = toInt(m[1]!)
  if ((value & mask(prefix)) >>> 0 !== value) throw new Error(`${text} has host bits set: its network is ${fromInt((value & mask(prefix)) >>> 0)}/${prefix}`)
  return {address: m[1]!, prefix}
}

export function formatCidr(c: Cidr): string {
  return `${c.address}/${c.prefix}`
}

/** The first host address of a network: the API server's ClusterIP in the service range (10.96.0.1). */
export function firstHost(cidr: string): string {
  const c = parseCidr(cidr)
  if (c.prefix > 30) throw new Error(`${cidr} is too small for services`)
  return fromInt(toInt(c.address) + 1)
}

/** The cluster DNS service address cms reserves (the tenth host of the service range, 10.96.0.10, as kubeadm). */
export function clusterDnsAddress(serviceCidr: string): string {
  const c = parseCidr(serviceCidr)
  if (c.prefix > 28) throw new Error(`${serviceCidr} is too small for services`)
  return fromInt(toInt(c.address) + 10)
}

/**
 * Node `index`'s pod range: the index-th /24 of the pod network (10.244.3.0/24 for index 3). Indexes are cms's host
 * indexes, stable for a host's life and never shared, so ranges never collide.
 */
export function nodePodCidr(podCidr: string, index: number): string {
  const c = parseCidr(podCidr)
  if (c.prefix > 24) throw new Error(`the pod network ${podCidr} must be /24 or larger`)
  const count = 2 ** (24 - c.prefix)
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new Error(`node index ${index} is outside the ${count} /24 ranges of ${podCidr}`)
  }
  return `${fromInt(toInt(c.address) + index * 256)}/24`
}

/** Whether `inner` lies wholly inside `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer)
  const i = parseCidr(inner)
  return i.prefix >= o.prefix && ((toInt(i.address) & mask(o.prefix)) >>> 0) === toInt(o.address)
}

export function cidrsOverlap(a: string, b: string): boolean {
  return cidrContains(a, b) || cidrContains(b, a)
}

/** The gateway (bridge) address of a node's pod range: its first host. */
export function podGateway(nodeCidr: string): string {
  return firstHost(nodeCidr)
}

function toInt(address: string): number {
  return address.split('.').reduce((acc, part) => {
    const n = Number(part)
    if (!Number.isInteger(n) || n < 0 || n > 255) throw new Error(`not an IPv4 address: ${JSON.stringify(address)}`)
    return ((acc << 8) | n) >>> 0
  }, 0)
}

function fromInt(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.')
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
}
