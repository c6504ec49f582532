import {SparkEngine} from '../engines/spark/engine.js'
import {SparkJobs} from '../engines/spark/jobs.js'
import {mapLimit} from '../remote/fanout.js'
import {hostFacts} from '../remote/host-facts.js'
import {openCluster, type ClusterHandle, type RunOptions} from './context.js'
import {readManifest} from './manifest.js'
import {validateClusterName} from './names.js'
import {NotFoundError} from './not-found.js'

export interface JobsHandle {
  handle: ClusterHandle
  jobs: SparkJobs
  close(): void
}

/** The cluster's job service: the head (records, REST API through its SSH connection) and, on demand, every host. */
export async function openJobs(cluster: string, run: RunOptions): Promise<JobsHandle> {
  validateClusterName(cluster)
  const handle = await openCluster(cluster, run)
  try {
    const hosts = await handle.provider.observe(cluster)
    if (hosts.length === 0) throw new NotFoundError(`cluster ${JSON.stringify(cluster)} not found`)
    const head = hosts.find((h) => h.role === 'head')
    if (!head || head.state === 'stopped') throw new Error(`the head of cluster ${cluster} is not running: 'cms cluster create -n ${cluster}' brings it back`)
    const engine = new SparkEngine()
    const session = await handle.pool.get(head.target)
    const ctx = await engine.hostContext(session, head, cluster)
    const sparkHome = await engine.sparkHome(ctx)
    if (!sparkHome) throw new Error(`Spark is not set up on the head of ${cluster}: rerun 'cms cluster create -n ${cluster}'`)
    if (!(await hostFacts(session)).python3) throw new Error(`python3 is missing on the head of ${cluster}: cms keeps job records with it`)
    const manifest = await readManifest(session, ctx.facts.home, cluster)
    let connected: Promise<Array<{host: (typeof hosts)[number]; session: typeof session}>> | undefined
    const jobs = new SparkJobs({
      cluster,
      head: ctx,
      headHost: head,
      sparkHome,
      sparkVersion: manifest?.engineSettings.sparkVersion ?? 'unknown',
      hosts: () =>
        (connected ??= mapLimit(
          hosts.filter((h) => h.state !== 'stopped'),
          run.parallel,
          async (host) => ({host, session: await handle.pool.get(host.target)}),
        )),
    })
    return {handle, jobs, close: () => handle.pool.closeAll()}
  } catch (error) {
    handle.pool.closeAll()
    throw error
  }
}
