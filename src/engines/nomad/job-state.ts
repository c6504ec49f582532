import {CronExpressionParser} from 'cron-parser'
import type {JobState} from '../../jobs/states.js'
import type {JobAttemptView, JobView} from '../../output/results.js'
import type {AllocationListStub, Deployment, Evaluation, Job, JobListStub, JobSummary} from './api.js'

/** Everything cms reads about one Nomad job to report on it. */
export interface NomadJobFacts {
  /** The job, or its list stub (which says only whether it is periodic). */
  job: Job | JobListStub
  summary?: JobSummary | null
  allocations: AllocationListStub[]
  evaluations?: Evaluation[]
  deployment?: Deployment
}

const nsToIso = (ns?: number) => (ns ? new Date(Math.floor(ns / 1e6)).toISOString() : new Date(0).toISOString())

/** A periodic or parameterized parent: it launches children and has no allocations of its own. */
export function isScheduler(job: Job | JobListStub): boolean {
  if (job.ParentID) return false
  const periodic = typeof job.Periodic === 'object' ? job.Periodic?.Enabled !== false && job.Periodic !== null : Boolean(job.Periodic)
  return periodic || Boolean(job.ParameterizedJob)
}

function totals(summary?: JobSummary | null) {
  const t = {queued: 0, complete: 0, failed: 0, running: 0, starting: 0, lost: 0}
  for (const g of Object.values(summary?.Summary ?? {})) {
    t.queued += g.Queued
    t.complete += g.Complete
    t.failed += g.Failed
    t.running += g.Running
    t.starting += g.Starting
    t.lost += g.Lost
  }
  return t
}

/**
 * cms's job state from Nomad's: a stopped job is KILLED; a dead batch job SUCCEEDED only if no allocation failed or
 * was lost and every one expected completed (Nomad says `dead` for success and failure alike); anything placed and
 * not dead is RUNNING; a job with nothing placed yet is SUBMITTED.
 */
export function nomadJobState(f: NomadJobFacts): JobState {
  const {job} = f
  if (job.Stop) return 'KILLED'
  if (isScheduler(job)) return 'RUNNING'
  const t = totals(f.summary)
  const batch = job.Type === 'batch' || job.Type === 'sysbatch'
  if (job.Status === 'dead') {
    if (!batch) return t.failed + t.lost > 0 ? 'FAILED' : 'KILLED'
    const groups = 'TaskGroups' in job ? (job.TaskGroups ?? []) : []
    const expected = job.Type === 'batch' && groups.length > 0 ? groups.reduce((n, g) => n + (g.Count ?? 1), 0) : Math.max(1, f.allocations.length)
    return t.failed + t.lost === 0 && t.complete >= expected && t.complete > 0 ? 'SUCCEEDED' : 'FAILED'
  }
  if (t.running + t.starting + t.complete + t.failed > 0 || job.Status === 'running') return 'RUNNING'
  return 'SUBMITTED'
}

/** Why the scheduler could not place the job, from its latest evaluation (empty when it could). */
export function placementFailures(evaluations: Evaluation[] = []): string {
  const latest = [...evaluations].sort((a, b) => b.CreateIndex - a.CreateIndex).find((e) => e.Status === 'complete' || e.Status === 'blocked')
  const failed = latest?.FailedTGAllocs
  if (!failed || Object.keys(failed).length === 0) return ''
  return Object.entries(failed)
    .map(([group, m]) => {
      const why = [
        ...Object.entries(m.DimensionExhausted ?? {}).map(([d, n]) => `${d} exhausted on ${n} node${n === 1 ? '' : 's'}`),
        ...Object.entries(m.ConstraintFiltered ?? {}).map(([c, n]) => `constraint ${c} filtered ${n} node${n === 1 ? '' : 's'}`),
      ]
      return `group ${group}: no node can run it (${m.NodesEvaluated ?? 0} evaluated${why.length > 0 ? `; ${why.join(', ')}` : ''})`
    })
    .join('; ')
}

/** The next launch of a periodic job, from its cron spec and time zone (as `nomad job status` computes it). */
export function nextLaunch(job: Job | JobListStub, now = new Date()): string | undefined {
  const periodic = typeof job.Periodic === 'object' && job.Periodic !== null ? job.Periodic : undefined
  if (!periodic || periodic.Enabled === false) return undefined
  const specs = [...(periodic.Specs ?? []), ...(periodic.Spec ? [periodic.Spec] : [])]
  const times = specs.flatMap((spec) => {
    try {
      return [CronExpressionParser.parse(spec, {currentDate: now, tz: periodic.TimeZone || 'UTC'}).next().toDate().getTime()]
    } catch {
      return []
    }
  })
  return times.length > 0 ? new Date(Math.min(...times)).toISOString() : undefined
}

function attempt(a: AllocationListStub, n: number): JobAttemptView {
  const exitCodes = Object.values(a.TaskStates ?? {}).flatMap((s) => (s.Events ?? []).filter((e) => e.Type === 'Terminated').map((e) => e.ExitCode ?? 0))
  // An allocation Nomad stopped (job stopped, node drained, a newer version) ends "complete" too: it was killed.
  const stopped = a.DesiredStatus === 'stop' || a.DesiredStatus === 'evict'
  const state =
    a.ClientStatus === 'failed' || a.ClientStatus === 'lost'
      ? 'FAILED'
      : a.ClientStatus === 'complete'
        ? stopped ? 'KILLED' : 'SUCCEEDED'
        : a.ClientStatus === 'running'
          ? 'RUNNING'
          : stopped ? 'KILLED' : 'SUBMITTED'
  const view: JobAttemptView = {
    n,
    submittedAt: nsToIso(a.CreateTime),
    mode: 'allocation',
    state,
    allocationId: a.ID,
    node: a.NodeName ?? a.NodeID,
    taskGroup: a.TaskGroup,
    clientStatus: a.ClientStatus,
  }
  const exit = exitCodes.find((c) => c !== 0) ?? exitCodes.at(-1)
  if (exit !== undefined) view.exitCode = exit
  return view
}

export function nomadJobView(cluster: string, f: NomadJobFacts): JobView {
  const {job} = f
  const meta = ('Meta' in job ? (job.Meta as Record<string, string> | null) : undefined) ?? {}
  const allocations = [...f.allocations].sort((a, b) => a.CreateIndex - b.CreateIndex)
  const view: JobView = {
    id: job.ID,
    name: meta['cms.spec'] ?? job.Name,
    cluster,
    kind: meta['cms.kind'] === 'jvm' || meta['cms.kind'] === 'python' ? meta['cms.kind'] : 'nomad',
    state: nomadJobState(f),
    createdAt: nsToIso(job.SubmitTime ?? undefined),
    retries: Number(meta['cms.retries'] ?? 0),
    priority: job.Priority ?? 50,
    attempts: allocations.map((a, i) => attempt(a, i + 1)),
    type: job.Type ?? 'service',
    status: job.Status ?? undefined,
    version: 'Version' in job ? (job.Version ?? undefined) : undefined,
  }
  if (meta['cms.rerun-of']) view.rerunOf = meta['cms.rerun-of']
  if (isScheduler(job)) {
    view.scheduled = true
    const next = nextLaunch(job)
    if (next) view.nextLaunch = next
  }
  if (job.Type === 'service' || job.Type === 'system') {
    const version = 'Version' in job ? job.Version : undefined
    const current = allocations.filter((a) => version == null || a.JobVersion === version)
    const live = current.filter((a) => a.DesiredStatus === 'run')
    view.healthy =
      f.deployment && f.deployment.JobVersion === version
        ? f.deployment.Status === 'successful'
        : live.length > 0 && live.every((a) => a.ClientStatus === 'running' && a.DeploymentStatus?.Healthy !== false)
  }
  const failures = view.state === 'SUBMITTED' || view.state === 'RUNNING' ? placementFailures(f.evaluations) : ''
  if (failures) view.placementFailures = failures
  return view
}
