/**
 * The --json contract of every cluster command: these types are what `--json` prints, documented in README.md.
 * Change them only compatibly (add fields; never rename or remove).
 */

export interface WorkerView {
  id: string
  state: string
  cores: number
  coresUsed: number
  memoryMb: number
  memoryUsedMb: number
}

export interface HostView {
  id: string
  role: 'head' | 'worker'
  address: string
  privateAddress?: string
  /** The provider's view: running / stopped (docker), unknown (ssh). */
  state: string
  /** The Spark master's view of this host's worker; absent if the master does not list it. */
  worker?: WorkerView
  /** Cloud hosts (aws): instance type, spot or on-demand, launch time (ISO 8601) and age. */
  instanceType?: string
  lifecycle?: 'spot' | 'on-demand'
  launchedAt?: string
  ageSeconds?: number
}

export interface AppView {
  id: string
  name: string
  state: string
  cores: number
  durationMs: number
}

export interface MasterView {
  url: string
  restUrl: string
  webUiUrl: string
  status: string
  aliveWorkers: number
  cores: number
  coresUsed: number
  memoryMb: number
  memoryUsedMb: number
  activeApps: AppView[]
  completedApps: number
}

export interface ClusterInfo {
  name: string
  provider: string
  engine: string
  /** healthy: master alive and every host's worker alive; degraded: some are not; down: master unreachable. */
  health: 'healthy' | 'degraded' | 'down'
  head?: {id: string; address: string; privateAddress?: string}
  master?: MasterView
  masterError?: string
  hosts: HostView[]
  /** Seconds since the first host started (aws). */
  ageSeconds?: number
  /** The cluster's --max-age in seconds, and whether it is past it (`cms cluster reap` kills it). */
  maxAgeSeconds?: number
  expired?: boolean
}

export interface HostReport {
  host: string
  ok: boolean
  seconds: number
  detail?: string
  error?: string
}

export interface ConvergeReport {
  cluster: ClusterInfo
  hosts: HostReport[]
  transfer: {distributionBytes: number; uploadedBytes: number; uploadRatio: number}
  seconds: number
}

export interface RemoveReport {
  cluster: ClusterInfo
  removed: HostReport[]
  seconds: number
}

export interface KillReport {
  name: string
  provider: string
  hosts: HostReport[]
  seconds: number
  /** What else was removed (aws: the security group, the key pair). */
  removed?: string[]
}

export interface ReapReport {
  /** Clusters past their max age when reap looked. */
  expired: Array<{name: string; provider: string; ageSeconds: number; maxAgeSeconds: number}>
  /** One kill report per expired cluster (empty with --dry-run or when the user said no). */
  killed: KillReport[]
  /** Expired clusters whose kill failed, with the reason. */
  failed: Array<{name: string; error: string}>
  seconds: number
}

export interface ClusterListEntry {
  name: string
  provider: string
  engine: string
  hosts: number
  runningHosts?: number
  head?: string
  masterStatus?: string
  aliveWorkers?: number
  cores?: number
  memoryMb?: number
  activeApps?: number
  error?: string
  ageSeconds?: number
  maxAgeSeconds?: number
  /** Past its --max-age: `cms cluster reap` kills it. */
  expired?: boolean
}

export interface ClusterList {
  clusters: ClusterListEntry[]
}

export interface JobAttemptView {
  n: number
  submittedAt: string
  mode: 'cluster' | 'client'
  state: string
  submissionId?: string
  driverState?: string
  workerHostPort?: string
  exitCode?: number
}

export interface JobView {
  id: string
  name: string
  cluster: string
  /** jvm: REST submission, cluster deploy mode; python: spark-submit in client mode on the head. */
  kind: 'jvm' | 'python'
  state: 'SUBMITTED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'KILLED' | 'UNKNOWN'
  createdAt: string
  retries: number
  priority: number
  attempts: JobAttemptView[]
  rerunOf?: string
}

export interface JobList {
  cluster: string
  jobs: JobView[]
  /** The master's own list of applications, running and completed. */
  applications: Array<{id: string; name: string; state: string; cores: number; durationMs: number}>
}

export interface SubmitReport {
  cluster: string
  jobs: JobView[]
  waited: boolean
  seconds: number
}
