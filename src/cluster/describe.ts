import {SparkEngine} from '../engines/spark/engine.js'
import {SPARK_PORTS} from '../engines/spark/layout.js'
import type {MasterStatus} from '../engines/spark/master-api.js'
import {masterUrl} from '../engines/spark/scripts.js'
import type {Host} from '../providers/provider.js'
import type {ClusterInfo, HostView, MasterView} from '../output/results.js'
import type {ClusterHandle} from './context.js'
import {isExpired} from './max-age.js'
import {NotFoundError} from './not-found.js'

/** The cluster as it is now: hosts from the provider, workers and apps from the Spark master's own API. */
export async function describeCluster(handle: ClusterHandle, knownHosts?: Host[]): Promise<ClusterInfo> {
  const hosts = knownHosts ?? (await handle.provider.observe(handle.name))
  if (hosts.length === 0) throw new NotFoundError(`cluster ${JSON.stringify(handle.name)} not found`)
  const head = hosts.find((h) => h.role === 'head')
  let status: MasterStatus | undefined
  let masterError: string | undefined
  let headAddress: string | undefined
  if (!head) masterError = 'the cluster has no head host'
  else if (head.state === 'stopped') masterError = `the head ${head.id} is stopped`
  else if (head.state !== 'running' && !head.target.host) masterError = `the head ${head.id} has no address yet (still starting)`
  else if (handle.provider.accessProblem?.(handle.name)) masterError = handle.provider.accessProblem(handle.name)
  else {
    try {
      const engine = new SparkEngine()
      const session = await handle.pool.get(head.target)
      // The provider usually knows the private address; asking the host costs a round trip.
      headAddress = head.privateAddress || (await engine.hostContext(session, head, handle.name)).address
      status = await engine.status(session, headAddress)
    } catch (error) {
      masterError = (error as Error).message
    }
  }
  return clusterInfo(handle.name, handle.provider.name, hosts, status, headAddress, masterError)
}

export function clusterInfo(
  name: string,
  provider: string,
  hosts: Host[],
  status: MasterStatus | undefined,
  headAddress: string | undefined,
  masterError?: string,
  now = new Date(),
): ClusterInfo {
  const head = hosts.find((h) => h.role === 'head')
  const ageOf = (launchedAt: string) => Math.max(0, Math.floor((now.getTime() - Date.parse(launchedAt)) / 1000))
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
      ...(h.cloud ? {instanceType: h.cloud.instanceType, lifecycle: h.cloud.lifecycle, launchedAt: h.cloud.launchedAt, ageSeconds: ageOf(h.cloud.launchedAt)} : {}),
    }
  })
  const clouds = hosts.map((h) => h.cloud).filter((c) => c !== undefined)
  const ageSeconds = clouds.length > 0 ? Math.max(...clouds.map((c) => ageOf(c.launchedAt))) : undefined
  const maxAges = clouds.map((c) => c.maxAgeSeconds).filter((a) => a !== undefined)
  const maxAgeSeconds = maxAges.length > 0 ? Math.min(...maxAges) : undefined
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
    ...(ageSeconds === undefined ? {} : {ageSeconds}),
    ...(maxAgeSeconds === undefined ? {} : {maxAgeSeconds, expired: isExpired(ageSeconds, maxAgeSeconds)}),
  }
}
