import type {V1Node} from '@kubernetes/client-node'
import type {ClusterInfo, HostView, NodeView} from '../../output/results.js'
import type {Host} from '../../providers/provider.js'
import {isReady} from './cluster-api.js'
import {nodeNameFor} from './names.js'

export interface KubernetesState {
  apiUrl: string
  ready: boolean
  nodes: V1Node[]
}

/** A quantity of cpu ("2", "1500m") in cores, of memory ("16318440Ki") in MiB. */
export function cpuCores(q: string | undefined): number {
  if (!q) return 0
  return q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q) || 0
}

export function memoryMb(q: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]i?|[kEP]i?)?$/.exec(q ?? '')
  if (!m) return 0
  const factors: Record<string, number> = {'': 1, K: 1e3, Ki: 1024, M: 1e6, Mi: 1024 ** 2, G: 1e9, Gi: 1024 ** 3, T: 1e12, Ti: 1024 ** 4, k: 1e3}
  return Math.floor((Number(m[1]) * (factors[m[2] ?? ''] ?? 1)) / 1024 ** 2)
}

function nodeView(n: V1Node, controlPlane: boolean): NodeView {
  const ready = isReady(n)
  return {
    id: n.metadata?.uid ?? '',
    name: n.metadata?.name ?? '',
    status: ready ? 'Ready' : 'NotReady',
    eligibility: n.spec?.unschedulable ? 'cordoned' : 'schedulable',
    draining: Boolean(n.spec?.unschedulable),
    drivers: [n.status?.nodeInfo?.containerRuntimeVersion ?? ''].filter(Boolean),
    cores: cpuCores(n.status?.allocatable?.cpu),
    memoryMb: memoryMb(n.status?.allocatable?.memory),
    server: controlPlane,
  }
}

/** The cluster as the Kubernetes API reports it: /readyz and each host's Node. */
export function kubernetesClusterInfo(name: string, provider: string, hosts: Host[], state: KubernetesState | undefined, error?: string): ClusterInfo {
  const head = hosts.find((h) => h.role === 'head')
  const views: HostView[] = hosts.map((h) => {
    const node = state?.nodes.find((n) => n.metadata?.name === nodeNameFor(h.id))
    return {id: h.id, role: h.role, address: h.target.host, privateAddress: h.privateAddress, state: h.state, ...(node ? {node: nodeView(node, h.role === 'head')} : {})}
  })
  const ready = views.filter((v) => v.node?.status === 'Ready')
  const takesWork = (v: HostView) => v.node?.status === 'Ready' && v.node.eligibility === 'schedulable'
  const info: ClusterInfo = {
    name,
    provider,
    engine: 'kubernetes',
    health: !state?.ready ? 'down' : views.every(takesWork) ? 'healthy' : 'degraded',
    head: head && {id: head.id, address: head.target.host, privateAddress: head.privateAddress},
    hosts: views,
  }
  if (state) {
    info.kubernetes = {
      apiUrl: state.apiUrl,
      ready: state.ready,
      version: state.nodes[0]?.status?.nodeInfo?.kubeletVersion,
      readyNodes: ready.length,
      cpuCores: ready.reduce((sum, v) => sum + (v.node?.cores ?? 0), 0),
      memoryMb: ready.reduce((sum, v) => sum + (v.node?.memoryMb ?? 0), 0),
    }
  }
  if (error || (state && !state.ready)) info.masterError = error ?? 'the API server is not ready (/readyz)'
  return info
}
