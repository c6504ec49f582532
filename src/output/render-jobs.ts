import type {JobList, JobView} from './results.js'
import {duration, table} from './table.js'

/** Kubernetes jobs are Jobs or bare Pods; their attempts are pods. */
const isKubernetes = (j: JobView) => j.type === 'Job' || j.type === 'Pod'
/** Nomad jobs carry Nomad's own type and status; their attempts are allocations. */
const isNomad = (j: JobView) => j.type !== undefined && !isKubernetes(j)
/** Spark on YARN: each job is one YARN application; its attempts are the ApplicationMaster's. */
const isYarn = (j: JobView) => j.applicationId !== undefined
const ran = (j: JobView) => (j.durationMs === undefined ? undefined : duration(j.durationMs))

export function renderJobs(jobs: JobView[]): string {
  if (jobs.length === 0) return 'No jobs.'
  if (jobs.every(isKubernetes)) {
    return table(
      ['JOB', 'KIND', 'STATE', 'STATUS', 'PODS', 'STARTED', 'DURATION'],
      jobs.map((j) => [j.id, j.type, j.state, j.status, j.attempts.length, j.startedAt, ran(j)]),
    )
  }
  if (jobs.every(isNomad)) {
    return table(
      ['JOB', 'TYPE', 'STATE', 'NOMAD STATUS', 'ALLOCATIONS', 'PRIORITY', 'NEXT LAUNCH', 'SUBMITTED'],
      jobs.map((j) => [j.id, j.type, j.healthy ? `${j.state} (healthy)` : j.state, j.status, j.scheduled ? undefined : j.attempts.length, j.priority, j.nextLaunch, j.createdAt]),
    )
  }
  return table(
    ['JOB', 'NAME', 'KIND', 'STATE', 'ATTEMPTS', jobs.every(isYarn) ? 'APPLICATION' : 'SPARK', 'SUBMITTED'],
    jobs.map((j) => {
      const last = j.attempts.at(-1)
      return [j.id, j.name, j.kind, j.state, `${j.attempts.length}/${j.retries + 1}`, last?.submissionId ?? (last?.exitCode === undefined ? undefined : `exit ${last.exitCode}`), j.createdAt]
    }),
  )
}

export function renderJobList(list: JobList): string {
  const apps = list.applications.length === 0
    ? ''
    : '\n\n' + table(['APPLICATION', 'NAME', 'STATE', 'CORES', 'DURATION'], list.applications.map((a) => [a.id, a.name, a.state, a.cores, duration(a.durationMs)]))
  return renderJobs(list.jobs) + apps
}

export function renderJob(job: JobView): string {
  const lines = [
    `Job:       ${job.id}`,
    `Name:      ${job.name}`,
    `Cluster:   ${job.cluster}`,
    `Kind:      ${isKubernetes(job) ? `${job.kind} (Kubernetes ${job.type})` : isNomad(job) ? `${job.kind} (Nomad ${job.type} job, version ${job.version})` : isYarn(job) ? (job.kind === 'mapreduce' ? 'mapreduce (hadoop jar on the head, MapReduce on YARN)' : `${job.kind} (Spark on YARN, cluster deploy mode)`) : job.kind === 'jvm' ? 'jvm (REST, cluster deploy mode)' : 'python (client mode on the head)'}`,
    `State:     ${job.state}`,
    `Submitted: ${job.createdAt}`,
    `Retries:   ${job.retries}`,
  ]
  if (job.rerunOf) lines.push(`Rerun of:  ${job.rerunOf}`)
  if (job.nextLaunch) lines.push(`Next run:  ${job.nextLaunch}`)
  if (job.healthy !== undefined) lines.push(`Healthy:   ${job.healthy ? 'yes' : 'no'}`)
  if (job.placementFailures) lines.push(`Unplaced:  ${job.placementFailures}`)
  if (isKubernetes(job)) {
    if (job.status) lines.push(`Status:    ${job.status}`)
    if (job.startedAt) lines.push(`Started:   ${job.startedAt}`)
    if (job.endedAt) lines.push(`Ended:     ${job.endedAt}${job.durationMs === undefined ? '' : ` (ran ${duration(job.durationMs)})`}`)
    lines.push('', table(['POD', 'STATE', 'PHASE', 'NODE', 'EXIT', 'CREATED'], job.attempts.map((a) => [a.pod, a.state, a.clientStatus, a.node, a.exitCode, a.submittedAt])))
    return lines.join('\n')
  }
  if (isYarn(job)) {
    lines.push(`App:       ${job.applicationId}${job.status ? ` (${job.status})` : ''}`)
    if (job.startedAt) lines.push(`Started:   ${job.startedAt}`)
    if (job.endedAt) lines.push(`Ended:     ${job.endedAt}${job.durationMs === undefined ? '' : ` (ran ${duration(job.durationMs)})`}`)
    if (job.diagnostics) lines.push(`Why:       ${job.diagnostics.split('\n')[0]}`)
    lines.push('', table(['ATTEMPT', 'STATE', 'YARN STATE', 'AM CONTAINER', 'NODE', 'STARTED'], job.attempts.map((a) => [a.n, a.state, a.clientStatus, a.containerId, a.node, a.submittedAt])))
    return lines.join('\n')
  }
  if (isNomad(job)) {
    lines.push(
      '',
      table(
        ['ALLOCATION', 'STATE', 'NOMAD STATUS', 'NODE', 'GROUP', 'EXIT', 'CREATED'],
        job.attempts.map((a) => [a.allocationId?.slice(0, 8), a.state, a.clientStatus, a.node, a.taskGroup, a.exitCode, a.submittedAt]),
      ),
    )
    return lines.join('\n')
  }
  lines.push(
    '',
    table(
      ['ATTEMPT', 'STATE', 'SPARK STATE', 'SUBMISSION', 'DRIVER ON', 'EXIT', 'SUBMITTED'],
      job.attempts.map((a) => [a.n, a.state, a.driverState, a.submissionId, a.workerHostPort, a.exitCode, a.submittedAt]),
    ),
  )
  return lines.join('\n')
}
