import type {JobState} from '../../jobs/states.js'
import type {JobAttemptView, JobView} from '../../output/results.js'

/** The parts of the API's Job and Pod objects cms reads (JSON as the API returns it). */
export interface ObjectMeta {
  name: string
  namespace?: string
  uid?: string
  creationTimestamp?: string
  deletionTimestamp?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: Array<{kind: string; name: string; uid: string; controller?: boolean}>
}

export interface Condition {
  type: string
  status: string
  reason?: string
  message?: string
  lastTransitionTime?: string
}

export interface ContainerStatus {
  name: string
  state?: {
    waiting?: {reason?: string; message?: string}
    running?: {startedAt?: string}
    terminated?: {exitCode: number; reason?: string; startedAt?: string; finishedAt?: string}
  }
}

export interface Pod {
  apiVersion?: string
  kind?: string
  metadata: ObjectMeta
  spec?: {nodeName?: string; priority?: number; containers?: Array<{name: string}>; restartPolicy?: string}
  status?: {
    phase?: string
    reason?: string
    message?: string
    startTime?: string
    conditions?: Condition[]
    containerStatuses?: ContainerStatus[]
    initContainerStatuses?: ContainerStatus[]
  }
}

export interface Job {
  apiVersion?: string
  kind?: string
  metadata: ObjectMeta
  spec?: {backoffLimit?: number; completions?: number; parallelism?: number; suspend?: boolean; template?: {spec?: {priority?: number}}}
  status?: {
    conditions?: Condition[]
    active?: number
    ready?: number
    succeeded?: number
    failed?: number
    startTime?: string
    completionTime?: string
  }
}

/** What cms reads about one job: the Job and its pods, or a bare Pod. */
export type KubernetesJobFacts = {kind: 'Job'; job: Job; pods: Pod[]} | {kind: 'Pod'; pod: Pod}

/** The id cms shows, as kubectl names objects: NAMESPACE/NAME of the Job or the bare Pod. */
export const jobIdOf = (meta: ObjectMeta) => `${meta.namespace ?? 'default'}/${meta.name}`

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/** Parses a job id, NAMESPACE/NAME or NAME (namespace `default`); undefined when it cannot name a Job or Pod. */
export function parseJobId(id: string): {namespace: string; name: string} | undefined {
  const parts = id.split('/')
  if (parts.length > 2) return undefined
  const [namespace, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : ['default', parts[0]!]
  if (namespace.length > 63 || !DNS_LABEL.test(namespace) || name.length > 253 || !DNS_SUBDOMAIN.test(name)) return undefined
  return {namespace, name}
}

const isTrue = (conditions: Condition[] | undefined, type: string) => conditions?.find((c) => c.type === type && c.status === 'True')

/**
 * cms's state of a Job, from the Job controller's conditions: Complete or SuccessCriteriaMet is SUCCEEDED, Failed
 * or FailureTarget (terminating after its backoff limit or deadline) is FAILED; a Job being deleted is KILLED; one
 * whose pods have run (one ready or running now, or some ended) is RUNNING; otherwise SUBMITTED (pods still pending,
 * or suspended).
 */
export function jobState(job: Job, pods: Pod[] = []): JobState {
  const c = job.status?.conditions
  if (isTrue(c, 'Complete') || isTrue(c, 'SuccessCriteriaMet')) return 'SUCCEEDED'
  if (isTrue(c, 'Failed') || isTrue(c, 'FailureTarget')) return 'FAILED'
  if (job.metadata.deletionTimestamp) return 'KILLED'
  if (isTrue(c, 'Suspended')) return 'SUBMITTED'
  const s = job.status ?? {}
  if ((s.ready ?? 0) + (s.succeeded ?? 0) + (s.failed ?? 0) > 0 || pods.some((p) => p.status?.phase === 'Running')) return 'RUNNING'
  return 'SUBMITTED'
}

/** cms's state of a pod, from its phase; a pod being deleted before it ended is KILLED. */
export function podState(pod: Pod): JobState {
  const phase = pod.status?.phase
  if (phase === 'Succeeded') return 'SUCCEEDED'
  if (phase === 'Failed') return 'FAILED'
  if (pod.metadata.deletionTimestamp) return 'KILLED'
  if (phase === 'Running') return 'RUNNING'
  if (phase === 'Pending' || phase === undefined) return 'SUBMITTED'
  return 'UNKNOWN'
}

/**
 * Waiting reasons that do not clear by themselves: the image cannot be had. (A missing ConfigMap or Secret,
 * CreateContainerConfigError, clears when it is created: the kubelet retries.)
 */
const STUCK = new Set(['ErrImageNeverPull', 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName'])

/** Why a pending pod cannot run, when it cannot (the scheduler finds no node, its image cannot be had); else empty. */
export function podBlocked(pod: Pod): string {
  if (pod.status?.phase !== 'Pending' || pod.metadata.deletionTimestamp) return ''
  const unschedulable = pod.status.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable')
  if (unschedulable) return `pod ${pod.metadata.name}: ${unschedulable.message ?? 'no node can run it'}`
  for (const s of [...(pod.status.initContainerStatuses ?? []), ...(pod.status.containerStatuses ?? [])]) {
    const w = s.state?.waiting
    if (w?.reason && STUCK.has(w.reason)) return `pod ${pod.metadata.name}: container ${s.name}: ${w.reason}${w.message ? ` (${w.message})` : ''}`
  }
  return ''
}

function exitCode(pod: Pod): number | undefined {
  const codes = (pod.status?.containerStatuses ?? []).flatMap((s) => (s.state?.terminated ? [s.state.terminated.exitCode] : []))
  return codes.find((c) => c !== 0) ?? codes.at(-1)
}

/** When a pod's last container ended (undefined while one still runs). */
function podEndedAt(pod: Pod): string | undefined {
  const statuses = pod.status?.containerStatuses ?? []
  if (statuses.length === 0 || !statuses.every((s) => s.state?.terminated)) return undefined
  return statuses.map((s) => s.state!.terminated!.finishedAt ?? '').sort().at(-1) || undefined
}

function attempt(pod: Pod, n: number): JobAttemptView {
  const view: JobAttemptView = {n, submittedAt: pod.metadata.creationTimestamp ?? new Date(0).toISOString(), mode: 'pod', state: podState(pod), pod: pod.metadata.name}
  if (pod.spec?.nodeName) view.node = pod.spec.nodeName
  if (pod.status?.phase) view.clientStatus = pod.status.phase
  const code = exitCode(pod)
  if (code !== undefined) view.exitCode = code
  return view
}

const byCreation = (a: Pod, b: Pod) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || a.metadata.name.localeCompare(b.metadata.name)

/** Kubernetes' own word for a Job, as `kubectl get jobs` shows it in STATUS. */
function jobStatusWord(job: Job): string {
  const c = job.status?.conditions
  for (const type of ['Failed', 'Complete', 'FailureTarget', 'SuccessCriteriaMet', 'Suspended']) if (isTrue(c, type)) return type
  if (job.metadata.deletionTimestamp) return 'Terminating'
  return (job.status?.active ?? 0) > 0 ? 'Running' : 'Pending'
}

const durationBetween = (from?: string, to?: string) => (from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) : undefined)

/** The JobView of a Job (its pods are its attempts) or of a bare Pod (one attempt). */
export function kubernetesJobView(cluster: string, f: KubernetesJobFacts): JobView {
  const meta = f.kind === 'Job' ? f.job.metadata : f.pod.metadata
  const annotations = meta.annotations ?? {}
  const kind = annotations['cms.kind'] === 'jvm' || annotations['cms.kind'] === 'python' ? annotations['cms.kind'] : 'kubernetes'
  const pods = f.kind === 'Job' ? [...f.pods].sort(byCreation) : [f.pod]
  const view: JobView = {
    id: jobIdOf(meta),
    name: annotations['cms.spec'] ?? meta.name,
    cluster,
    kind,
    state: f.kind === 'Job' ? jobState(f.job, f.pods) : podState(f.pod),
    createdAt: meta.creationTimestamp ?? new Date(0).toISOString(),
    retries: f.kind === 'Job' ? (f.job.spec?.backoffLimit ?? 6) : 0,
    priority: (f.kind === 'Job' ? f.job.spec?.template?.spec?.priority : f.pod.spec?.priority) ?? 0,
    attempts: pods.map((p, i) => attempt(p, i + 1)),
    type: f.kind,
    status: f.kind === 'Job' ? jobStatusWord(f.job) : f.pod.metadata.deletionTimestamp ? 'Terminating' : (f.pod.status?.phase ?? 'Pending'),
  }
  if (annotations['cms.rerun-of']) view.rerunOf = annotations['cms.rerun-of']
  const startedAt = f.kind === 'Job' ? f.job.status?.startTime : f.pod.status?.startTime
  let endedAt: string | undefined
  if (f.kind === 'Job') {
    const c = f.job.status?.conditions
    endedAt = f.job.status?.completionTime ?? (isTrue(c, 'Failed') ?? isTrue(c, 'FailureTarget'))?.lastTransitionTime
  } else if (view.state === 'SUCCEEDED' || view.state === 'FAILED') {
    endedAt = podEndedAt(f.pod)
  }
  if (startedAt) view.startedAt = startedAt
  if (endedAt) view.endedAt = endedAt
  const ms = durationBetween(startedAt, endedAt)
  if (ms !== undefined) view.durationMs = ms
  if (view.state === 'SUBMITTED' || view.state === 'RUNNING') {
    const blocked = [...new Set(pods.map(podBlocked).filter(Boolean))].join('; ')
    if (blocked) view.placementFailures = blocked
  }
  return view
}
