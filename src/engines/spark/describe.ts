import type {Host} from '../../providers/provider.js'
import type {ClusterInfo, HostView, MasterView} from '../../output/results.js'
import {SPARK_PORTS} from './layout.js'
import type {MasterStatus} from './master-api.js'
import {masterUrl} from './scripts.js'

/** The cluster as the Spark master reports it: each host's worker, the master's apps. */
export function clusterInfo(
  name: string,
  provider: string,
  hosts: Host[],
  status: MasterStatus | undefined,
  headAddress: string | undefined,
  masterError?: string,
): ClusterInfo {
  const head = hosts.find((h) => h.role === 'head')
  const views: HostView[] = hosts.map((h) => {
    const address = h.privateAddress ?? (h === head ? headAddress : undefined)
    // A host can appear several times (a worker that restarted); the alive entry wins, else the newest.
    const entries = status?.workers.filter((w) => address !== undefined && w.host === address) ?? []
    const w = entries.find((e) => e.state === 'ALIVE') ?? entries.at(-1)
    return {
      id: h.id,
      role: h.role,
      address: h.target.host,
      privateAddress: address,
      state: h.state,
      worker: w && {id: w.id, state: w.state, cores: w.cores, coresUsed: w.coresused, memoryMb: w.memory, memoryUsedMb: w.memoryused},
    }
  })
  let master: MasterView | undefined
  if (status && headAddress) {
    master = {
      url: status.url || masterUrl(headAddress),
      restUrl: `http://${headAddress}:${SPARK_PORTS.rest}`,
      webUiUrl: `http://${headAddress}:${SPARK_PORTS.masterUi}`,
      status: status.status,
      aliveWorkers: status.aliveworkers,
      cores: status.cores,
      coresUsed: status.coresused,
      memoryMb: status.memory,
      memoryUsedMb: status.memoryused,
      activeApps: (status.activeapps ?? []).map((a) => ({id: a.id, name: a.name, state: a.state, cores: a.cores, durationMs: a.duration})),
      completedApps: (status.completedapps ?? []).length,
    }
  }
  const allAlive = views.every((v) => v.worker?.state === 'ALIVE')
  return {
    name,
    provider,
    engine: 'spark',
    health: !master || master.status !== 'ALIVE' ? 'down' : allAlive ? 'healthy' : 'degraded',
    head: head && {id: head.id, address: head.target.host, privateAddress: headAddress ?? head.privateAddress},
    master,
    masterError,
    hosts: views,
  }
}
