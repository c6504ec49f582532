import type {JobService} from '../engines/engine.js'
import {hostContext} from '../engines/host-context.js'
import {readAttached} from '../config/attached.js'
import {openAttachedJobs} from './attach.js'
import {openCluster, type ClusterHandle, type RunOptions} from './context.js'
import {readManifest} from './manifest.js'
import {validateClusterName} from './names.js'
import {NotFoundError} from './not-found.js'

export interface JobsHandle {
  /** Absent for a cluster cms did not make (attached): no provider, no hosts. */
  handle?: ClusterHandle
  jobs: JobService
  close(): void
}

/**
 * The cluster's job service, through its head: the engine's API and the records kept there; an attached cluster's
 * straight at its API, with the credentials its access file names.
 */
export async function openJobs(cluster: string, run: RunOptions, handle?: ClusterHandle): Promise<JobsHandle> {
  validateClusterName(cluster)
  const attached = handle ? undefined : readAttached(cluster)
  if (attached) {
    const jobs = await openAttachedJobs(attached, run)
    return {jobs, close: () => void jobs.close?.().catch(() => undefined)}
  }
  handle ??= await openCluster(cluster, run)
  const opened = handle
  try {
    const hosts = await opened.provider.observe(cluster)
    if (hosts.length === 0) throw new NotFoundError(`cluster ${JSON.stringify(cluster)} not found`)
    const head = hosts.find((h) => h.role === 'head')
    if (!head || head.state === 'stopped') throw new Error(`the head of cluster ${cluster} is not running: 'cms cluster create -n ${cluster}' brings it back`)
    const ctx = await hostContext(await opened.pool.get(head.target), head)
    const manifest = await readManifest(ctx.session, ctx.facts.home, cluster)
    const jobs = await opened.engine.openJobs({
      cluster,
      hosts,
      head: ctx,
      connect: (host) => opened.pool.get(host.target),
      settings: manifest?.engineSettings ?? {},
      parallel: run.parallel,
      log: run.log,
    })
    return {
      handle: opened,
      jobs,
      close: () => {
        void jobs.close?.().catch(() => undefined)
        opened.pool.closeAll()
      },
    }
  } catch (error) {
    opened.pool.closeAll()
    throw error
  }
}
