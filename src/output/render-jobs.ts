import type {JobList, JobView} from './results.js'
import {duration, table} from './table.js'

export function renderJobs(jobs: JobView[]): string {
  if (jobs.length === 0) return 'No jobs.'
  return table(
    ['JOB', 'NAME', 'KIND', 'STATE', 'ATTEMPTS', 'SPARK', 'SUBMITTED'],
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
    `Kind:      ${job.kind === 'jvm' ? 'jvm (REST, cluster deploy mode)' : 'python (client mode on the head)'}`,
    `State:     ${job.state}`,
    `Submitted: ${job.createdAt}`,
    `Retries:   ${job.retries}`,
  ]
  if (job.rerunOf) lines.push(`Rerun of:  ${job.rerunOf}`)
  lines.push(
    '',
    table(
      ['ATTEMPT', 'STATE', 'SPARK STATE', 'SUBMISSION', 'DRIVER ON', 'EXIT', 'SUBMITTED'],
      job.attempts.map((a) => [a.n, a.state, a.driverState, a.submissionId, a.workerHostPort, a.exitCode, a.submittedAt]),
    ),
  )
  return lines.join('\n')
}
