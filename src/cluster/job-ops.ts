import {TERMINAL} from '../engines/spark/job-state.js'
import {masterStatus} from '../engines/spark/master-api.js'
import {readLogScript} from '../engines/spark/job-scripts.js'
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

/** Jobs from their records on the head, each with its live state, plus the master's own application list. */
export function listJobs(cluster: string, run: RunOptions): Promise<JobList> {
  return withJobs(cluster, run, async (jh) => {
    const head = jh.jobs.headContext
    const [jobs, status] = await Promise.all([jh.jobs.list(), masterStatus(head.session, head.address)])
    const applications = [...(status.activeapps ?? []), ...(status.completedapps ?? [])].map((a) => ({
      id: a.id,
      name: a.name,
      state: a.state,
      cores: 'cores' in a ? (a as {cores: number}).cores : 0,
      durationMs: a.duration,
    }))
    return {cluster, jobs, applications}
  })
}

export function jobStatus(cluster: string, id: string, run: RunOptions): Promise<JobView> {
  return withJobs(cluster, run, (jh) => jh.jobs.status(id))
}

export function killJob(cluster: string, id: string, run: RunOptions): Promise<JobView> {
  return withJobs(cluster, run, (jh) => jh.jobs.kill(id))
}

export function rerunJob(cluster: string, id: string, run: RunOptions): Promise<JobView> {
  return withJobs(cluster, run, (jh) => jh.jobs.rerun(id))
}

/**
 * Writes the latest attempt's driver output: stdout to `out`, stderr to `err`. With follow, keeps reading new
 * output until the job ends (bounded by timeoutMs).
 */
export function jobLogs(
  cluster: string,
  id: string,
  opts: {follow: boolean; timeoutMs: number; out: (s: string) => void; err: (s: string) => void},
  run: RunOptions,
): Promise<JobView> {
  return withJobs(cluster, run, async (jh) => {
    const deadline = Date.now() + opts.timeoutMs
    const offsets = new Map<string, number>()
    let view: JobView
    let lastRead = false
    for (let round = 0; round < 1_000_000; round++) {
      const found = await jh.jobs.logSources(id)
      view = found.view
      for (const source of found.sources) {
        const offset = offsets.get(source.path) ?? 0
        const chunk = await source.session.run(readLogScript(source.path, offset), {label: 'read job log'})
        offsets.set(source.path, offset + Buffer.byteLength(chunk))
        if (chunk) (source.stream === 'stdout' ? opts.out : opts.err)(chunk)
      }
      if (!opts.follow || lastRead || Date.now() > deadline) break
      // Once the job has ended, one more read after a pause picks up output still being flushed.
      lastRead = TERMINAL.has(view.state)
      await new Promise((r) => setTimeout(r, 1000))
    }
    return view!
  })
}
