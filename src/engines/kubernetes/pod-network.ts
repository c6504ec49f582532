import {shq} from '../../remote/shell.js'
import {checkAbsolutePath, checkAddress, checkNodeName} from './names.js'
import {DEFAULT_POD_CIDR, cidrContains, parseCidr} from './network.js'

/**
 * The pod network: the reference CNI plugins (bridge + host-local IPAM + portmap, Debian's
 * containernetworking-plugins) give every node a bridge and its own /24; the nodes route each other's /24 through
 * each other's private addresses (one flat L2 network, as the hosts of a cms cluster are), and pod traffic leaving
 * the pod network is masqueraded behind the node's address. No overlay, no pod-network image.
 */

export interface CniConfigInput {
  /** This node's pod range (nodePodCidr). */
  nodePodCidr: string
  podCidr?: string
  /** The bridge interface's name (one per host; a cms node is in one cluster). */
  bridge?: string
  /** Where host-local keeps its address leases (cms's data folder, not /var/lib/cni). */
  ipamDataDir: string
  mtu?: number
}

export const CNI_NETWORK_NAME = 'cms-pods'
export const DEFAULT_BRIDGE = 'cms0'

/** The CNI network configuration list containerd reads (cniVersion 0.4.0: plugins 1.1.1 and containerd 1.6 speak it). */
export function renderCniConfig(input: CniConfigInput): string {
  const podCidr = input.podCidr ?? DEFAULT_POD_CIDR
  parseCidr(input.nodePodCidr)
  if (!cidrContains(podCidr, input.nodePodCidr)) throw new Error(`the node's range ${input.nodePodCidr} is not inside the pod network ${podCidr}`)
  const bridge = input.bridge ?? DEFAULT_BRIDGE
  if (!/^[A-Za-z0-9_-]{1,15}$/.test(bridge)) throw new Error(`not an interface name: ${JSON.stringify(bridge)}`)
  checkAbsolutePath('the IPAM data folder', input.ipamDataDir)
  if (input.mtu !== undefined && (!Number.isInteger(input.mtu) || input.mtu < 576 || input.mtu > 9000)) throw new Error(`invalid MTU ${input.mtu}`)
  const conf = {
    cniVersion: '0.4.0',
    name: CNI_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        // Masquerading is one rule per node for the whole pod network (podNetworkScript), not per range: traffic
        // between pods of different nodes keeps its source address.
        ipMasq: false,
        hairpinMode: true,
        ...(input.mtu ? {mtu: input.mtu} : {}),
        ipam: {
          type: 'host-local',
          ranges: [[{subnet: input.nodePodCidr}]],
          routes: [{dst: '0.0.0.0/0'}],
          dataDir: input.ipamDataDir,
        },
      },
      {type: 'portmap', capabilities: {portMappings: true}},
    ],
  }
  return JSON.stringify(conf, null, 2) + '\n'
}

export interface PeerRoute {
  /** The peer node's name (for messages). */
  name: string
  /** Its pod range. */
  podCidr: string
  /** Its private address, the next hop. */
  address: string
}

export interface PodNetworkInput {
  podCidr?: string
  /** This node's own range (never routed to a peer). */
  nodePodCidr: string
  peers: PeerRoute[]
}

/** The iptables comment on cms's masquerade rule, so cleanup can find exactly that rule. */
export const MASQUERADE_COMMENT = 'cms: pod traffic leaving the pod network'

/**
 * Converges the node's routes and masquerade rule (idempotent): a route to each peer's pod range via that peer,
 * no route left to a range no peer has any more, and one MASQUERADE rule for pod traffic leaving the pod network.
 * Needs root (ip, iptables).
 */
export function podNetworkScript(input: PodNetworkInput): string {
  const podCidr = input.podCidr ?? DEFAULT_POD_CIDR
  parseCidr(podCidr)
  if (!cidrContains(podCidr, input.nodePodCidr)) throw new Error(`the node's range ${input.nodePodCidr} is not inside the pod network ${podCidr}`)
  const seen = new Set<string>([input.nodePodCidr])
  for (const p of input.peers) {
    checkNodeName(p.name)
    checkAddress(`node ${p.name}'s address`, p.address)
    if (!cidrContains(podCidr, p.podCidr) || parseCidr(p.podCidr).prefix !== 24) throw new Error(`node ${p.name}'s range ${p.podCidr} is not a /24 of ${podCidr}`)
    if (seen.has(p.podCidr)) throw new Error(`two nodes share the pod range ${p.podCidr}`)
    seen.add(p.podCidr)
  }
  const wanted = input.peers.map((p) => p.podCidr)
  const rule = `-s ${shq(podCidr)} ! -d ${shq(podCidr)} -m comment --comment ${shq(MASQUERADE_COMMENT)} -j MASQUERADE`
  return [
    'set -e',
    ...input.peers.map((p) => `ip route replace ${shq(p.podCidr)} via ${shq(p.address)}`),
    // Routes into the pod network through a gateway that no peer owns any more (a removed node).
    `ip -4 route show | awk '$2 == "via" {print $1}' | while read -r dst; do`,
    `  case " ${wanted.join(' ')} " in *" $dst "*) continue ;; esac`,
    `  if printf '%s\\n' "$dst" | grep -Eq '^${podCidrPrefixRegex(podCidr)}'; then ip route del "$dst" || true; fi`,
    'done',
    `iptables -t nat -C POSTROUTING ${rule} 2>/dev/null || iptables -t nat -A POSTROUTING ${rule}`,
  ].join('\n')
}

/** Removes what podNetworkScript and the bridge plugin added (kill): peer routes, the rule, the bridge. */
export function podNetworkCleanupScript(input: {podCidr?: string; bridge?: string}): string {
  const podCidr = input.podCidr ?? DEFAULT_POD_CIDR
  parseCidr(podCidr)
  const bridge = input.bridge ?? DEFAULT_BRIDGE
  if (!/^[A-Za-z0-9_-]{1,15}$/.test(bridge)) throw new Error(`not an interface name: ${JSON.stringify(bridge)}`)
  const rule = `-s ${shq(podCidr)} ! -d ${shq(podCidr)} -m comment --comment ${shq(MASQUERADE_COMMENT)} -j MASQUERADE`
  return [
    `ip -4 route show | awk '$2 == "via" {print $1}' | grep -E '^${podCidrPrefixRegex(podCidr)}' | while read -r dst; do ip route del "$dst" 2>/dev/null || true; done`,
    `while iptables -t nat -C POSTROUTING ${rule} 2>/dev/null; do iptables -t nat -D POSTROUTING ${rule}; done`,
    `ip link show ${shq(bridge)} >/dev/null 2>&1 && ip link del ${shq(bridge)} || true`,
  ].join('\n')
}

/**
 * A regex matching the dotted /24 networks inside the pod network (on the octet boundary the prefix allows);
 * pod networks are /8 to /24, so a prefix of whole octets plus a choice on the next one is exact enough to never
 * match an address outside it.
 */
export function podCidrPrefixRegex(podCidr: string): string {
  const c = parseCidr(podCidr)
  if (c.prefix < 8 || c.prefix > 24) throw new Error(`the pod network must be /8 to /24: ${podCidr}`)
  const octets = c.address.split('.').map(Number)
  const whole = Math.floor(c.prefix / 8)
  const fixed = octets.slice(0, whole).join('\\.')
  const rest = c.prefix % 8
  if (rest === 0) return `${fixed}\\.`
  const first = octets[whole]!
  const count = 2 ** (8 - rest)
  const alternatives = Array.from({length: count}, (_, i) => String(first + i)).join('|')
  return `${fixed}\\.(${alternatives})\\.`
}
