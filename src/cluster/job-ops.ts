import type {LogOptions} from '../engines/engine.js'
import type {JobList, JobView} from '../output/results.js'
import type {RunOptions} from './context.js'
import {openJobs, type JobsHandle} from './jobs.js'

async function withJobs<T>(cluster: string, run: RunOptions, fn: (jh: JobsHandle) => Promise<T>): Promise<T> {
  const jh = await openJobs(cluster, run)
  try {
    return await fn(jh)
  } finally {
    jh.close()
  }
}

/** The cluster's jobs, each with its live state, plus what the engine itself lists. */
export function listJobs(cluster: string, run: RunOptions): Promise<JobList> {
  return withJobs(cluster, run, (jh) => jh.jobs.list())
}

export function jobStatus(cluster: string, id: string, run: RunOptions): Promise<JobView> {
  return withJobs(cluster, run, (jh) => jh.jobs.status(id))
}

export function killJob(cluster: string, id: string, opts: {purge: boolean}, run: RunOptions): Promise<JobView> {
  return withJobs(cluster, run, (jh) => jh.jobs.kill(id, opts))
}

export function rerunJob(cluster: string, id: string, run: RunOptions): Promise<JobView> {
  return withJobs(cluster, run, (jh) => jh.jobs.rerun(id))
}

/** Writes the latest run's output: stdout to `out`, stderr to `err`; with follow, until the job ends. */
export function jobLogs(cluster: string, id: string, opts: LogOptions, run: RunOptions): Promise<JobView> {
  return withJobs(cluster, run, (jh) => jh.jobs.logs(id, opts))
}
