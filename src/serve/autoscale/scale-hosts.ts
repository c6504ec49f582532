import type {ClusterInfo} from '../../output/results.js'
import type {ScaleHost} from './decide.js'

/**
 * The provider's hosts with what their engine says of each: a live Spark worker's or RUNNING NodeManager's cores
 * and memory and whether it runs anything; a ready Nomad client's or Kubernetes node's size (those engines report no
 * per-host use). A host whose worker or NodeManager is not alive offers nothing and counts as idle.
 */
export function scaleHosts(info: ClusterInfo): ScaleHost[] {
  return info.hosts.map((h) => {
    if (h.worker) {
      const alive = h.worker.state === 'ALIVE'
      return {id: h.id, role: h.role, busy: alive && (h.worker.coresUsed > 0 || h.worker.memoryUsedMb > 0), ...(alive ? {cores: h.worker.cores, memoryMb: h.worker.memoryMb} : {})}
    }
    if (h.nodemanager) {
      const nm = h.nodemanager
      const running = nm.state === 'RUNNING'
      return {id: h.id, role: h.role, busy: running && (nm.containers > 0 || nm.vcoresUsed > 0 || nm.memoryUsedMb > 0), ...(running ? {cores: nm.vcores, memoryMb: nm.memoryMb} : {})}
    }
    if (h.node) return {id: h.id, role: h.role, ...(h.node.cores !== undefined ? {cores: h.node.cores, memoryMb: h.node.memoryMb} : {})}
    return {id: h.id, role: h.role, ...(info.master ? {busy: false} : {})}
  })
}
