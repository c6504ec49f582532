import {TERMINAL, type JobState} from '../engines/spark/job-state.js'
import {loadJobFiles} from '../jobs/load.js'
import type {JobView, SubmitReport} from '../output/results.js'
import {mapLimit} from '../remote/fanout.js'
import type {RunOptions} from './context.js'
import {openJobs} from './jobs.js'
import {validateClusterName} from './names.js'

export interface SubmitRequest {
  name: string
  files: string[]
  overrides: {mainClass?: string; conf?: string[]; args?: string[]}
  wait: boolean
  waitTimeoutMs: number
}

/**
 * Validates every job file first (nothing is submitted if one is bad), submits them concurrently and, with
 * --wait, follows each to its end.
 */
export async function submitJobs(req: SubmitRequest, run: RunOptions): Promise<SubmitReport> {
  const started = Date.now()
  validateClusterName(req.name)
  const specs = loadJobFiles(req.files, req.overrides)
  const jh = await openJobs(req.name, run)
  try {
    let jobs = await mapLimit(specs, 16, async (spec) => {
      const view = await jh.jobs.submit(spec)
      run.log(`Submitted ${view.id} (${view.kind === 'jvm' ? `REST, cluster mode, ${view.attempts[0]?.submissionId}` : 'client mode on the head'})`)
      return view
    })
    if (req.wait) jobs = await waitForJobs(jobs.map((j) => j.id), (id) => jh.jobs.status(id), req.waitTimeoutMs, run.log)
    return {cluster: req.name, jobs, waited: req.wait, seconds: (Date.now() - started) / 1000}
  } finally {
    jh.close()
  }
}

/** Polls until every job has reached an end state (or the timeout passes), logging each change of state. */
export async function waitForJobs(ids: string[], status: (id: string) => Promise<JobView>, timeoutMs: number, log: (line: string) => void): Promise<JobView[]> {
  const deadline = Date.now() + timeoutMs
  const last = new Map<string, JobState>()
  let views: JobView[] = []
  for (let round = 0; round < 1_000_000; round++) {
    views = await mapLimit(ids, 16, status)
    for (const v of views) {
      const attempt = v.attempts.length > 1 ? ` (attempt ${v.attempts.length} of ${v.retries + 1})` : ''
      if (last.get(v.id) !== v.state) log(`${v.id}: ${v.state}${attempt}`)
      last.set(v.id, v.state)
    }
    if (views.every((v) => TERMINAL.has(v.state)) || Date.now() > deadline) break
    await new Promise((r) => setTimeout(r, Math.min(2000, 500 + round * 250)))
  }
  return views
}
