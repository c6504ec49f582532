import type {JobView} from '../output/results.js'

/** What cms reports for a job on every engine, from the engine's own view of it. */
export type JobState = JobView['state']

export const TERMINAL: ReadonlySet<JobState> = new Set(['SUCCEEDED', 'FAILED', 'KILLED'])

/** Polls until every job has reached an end state (or the timeout passes), logging each change of state. */
export async function pollJobs(ids: string[], status: (id: string) => Promise<JobView>, timeoutMs: number, log: (line: string) => void, opts: {maxIntervalMs?: number} = {}): Promise<JobView[]> {
  const {mapLimit} = await import('../remote/fanout.js')
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
    // At most a second between looks (less where a look is cheap): an ended job is seen within a second, as a
    // blocking client would.
    const ceiling = opts.maxIntervalMs ?? 1000
    await new Promise((r) => setTimeout(r, Math.min(ceiling, 500 + round * 100)))
  }
  return views
}

/** Whether --wait may exit 0 for this job: it succeeded, or (Nomad) a service is healthy or a scheduler registered. */
export function jobSucceeded(view: JobView): boolean {
  return view.state === 'SUCCEEDED' || view.healthy === true || view.scheduled === true
}
