import type {ClusterInfo, HostView, NodeView} from '../../output/results.js'
import type {Host} from '../../providers/provider.js'
import type {NodeListStub} from './api.js'

export interface NomadState {
  apiUrl: string
  leader: string
  peers: string[]
  nodes: NodeListStub[]
}

function nodeView(n: NodeListStub, servers: Set<string>): NodeView {
  const drivers = Object.entries(n.Drivers ?? {})
    .filter(([, d]) => d.Healthy && d.Detected)
    .map(([name]) => name)
    .sort()
  const resources = n.NodeResources
  return {
    id: n.ID,
    name: n.Name,
    status: n.Status,
    eligibility: n.SchedulingEligibility,
    draining: Boolean(n.Drain),
    drivers,
    cores: resources?.Cpu?.TotalCpuCores,
    cpuMhz: resources?.Cpu?.CpuShares,
    memoryMb: resources?.Memory?.MemoryMB,
    server: servers.has(n.Address),
  }
}

/** The cluster as Nomad reports it: the leader and servers, each host's client node. */
export function nomadClusterInfo(name: string, provider: string, hosts: Host[], state: NomadState | undefined, error?: string): ClusterInfo {
  const head = hosts.find((h) => h.role === 'head')
  const servers = new Set((state?.peers ?? []).map((p) => p.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')))
  const views: HostView[] = hosts.map((h) => {
    const address = h.privateAddress
    const node = state?.nodes.find((n) => n.Address === address)
    return {id: h.id, role: h.role, address: h.target.host, privateAddress: address, state: h.state, ...(node ? {node: nodeView(node, servers)} : {})}
  })
  const takesWork = (v: HostView) => v.node?.status === 'ready' && v.node.eligibility === 'eligible'
  const ready = views.filter((v) => v.node?.status === 'ready')
  const info: ClusterInfo = {
    name,
    provider,
    engine: 'nomad',
    health: !state?.leader ? 'down' : views.every(takesWork) ? 'healthy' : 'degraded',
    head: head && {id: head.id, address: head.target.host, privateAddress: head.privateAddress},
    hosts: views,
  }
  if (state) {
    info.nomad = {
      apiUrl: state.apiUrl,
      leader: state.leader,
      servers: state.peers,
      readyNodes: ready.length,
      cpuCores: ready.reduce((sum, v) => sum + (v.node?.cores ?? 0), 0),
      memoryMb: ready.reduce((sum, v) => sum + (v.node?.memoryMb ?? 0), 0),
    }
  }
  if (error || (state && !state.leader)) info.masterError = error ?? 'the Nomad servers have no leader'
  return info
}
