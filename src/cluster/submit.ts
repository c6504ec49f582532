import type {JobOverrides} from '../jobs/load.js'
import type {S3Options} from '../jobs/s3.js'
import {jobSucceeded} from '../jobs/states.js'
import type {SubmitReport} from '../output/results.js'
import {mapLimit} from '../remote/fanout.js'
import {connectProvider, locateCluster, type RunOptions} from './context.js'
import {readAttached} from '../config/attached.js'
import type {LoadedJob} from '../engines/engine.js'
import {loadEngine} from '../engines/registry.js'
import {openJobs, type JobsHandle} from './jobs.js'
import {validateClusterName} from './names.js'
import {attachS3Access} from './s3-credentials.js'

export interface SubmitRequest {
  name: string
  files: string[]
  overrides: JobOverrides
  wait: boolean
  waitTimeoutMs: number
  /** S3 for specs with s3a:// paths (credentials are read only when a job needs them). */
  s3?: S3Options
}

/**
 * Checks every job file first (nothing is submitted if one is bad), submits them concurrently through the
 * cluster's engine and, with --wait, follows each to its end.
 */
export async function submitJobs(req: SubmitRequest, run: RunOptions): Promise<SubmitReport> {
  const started = Date.now()
  validateClusterName(req.name)
  const attached = readAttached(req.name)
  let jh: JobsHandle
  let loaded: LoadedJob[]
  if (attached) {
    loaded = await (await loadEngine(attached.engine)).loadJobs(req.files, req.overrides)
    jh = await openJobs(req.name, run)
  } else {
    const found = await locateCluster(req.name)
    const handle = await connectProvider(req.name, found.provider, found.engine, run)
    loaded = await handle.engine.loadJobs(req.files, req.overrides).catch((error) => {
      handle.pool.closeAll()
      throw error
    })
    jh = await openJobs(req.name, run, handle)
  }
  try {
    await attachS3Access(loaded, jh.jobs, req.s3 ?? {}, run.log)
    const checked = jh.jobs.prepare ? await jh.jobs.prepare(loaded) : loaded
    let jobs = await mapLimit(checked, 16, (job) => jh.jobs.submit(job))
    if (req.wait) jobs = await jh.jobs.wait(jobs.map((j) => j.id), req.waitTimeoutMs, run.log)
    const report: SubmitReport = {cluster: req.name, jobs, waited: req.wait, seconds: (Date.now() - started) / 1000}
    if (req.wait) report.ok = jobs.every(jobSucceeded)
    return report
  } finally {
    jh.close()
  }
}
