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
  /** Nomad's view of this host's client node (engine nomad), or Kubernetes' of its Node; absent if not listed. */
  node?: NodeView
  /** engine hadoop: the NameNode's view of this host's DataNode and the ResourceManager's of its NodeManager. */
  datanode?: DataNodeView
  nodemanager?: NodeManagerView
  /** Cloud hosts (aws): instance type, spot or on-demand, launch time (ISO 8601) and age. */
  instanceType?: string
  lifecycle?: 'spot' | 'on-demand'
  launchedAt?: string
  ageSeconds?: number
}

export interface NodeView {
  id: string
  name: string
  /** Nomad's node status (ready, initializing, down, disconnected); Kubernetes: Ready or NotReady. */
  status: string
  /** Nomad: eligible or ineligible (draining, or marked so); Kubernetes: schedulable or cordoned. */
  eligibility: string
  draining: boolean
  /** Task drivers Nomad reports healthy on the node; Kubernetes: the container runtime. */
  drivers: string[]
  cores?: number
  cpuMhz?: number
  memoryMb?: number
  /** Runs a Nomad server, or the Kubernetes control plane. */
  server: boolean
}

/** Nomad's own view of the cluster (engine nomad). */
export interface NomadView {
  apiUrl: string
  /** The leader's RPC address; empty when there is none. */
  leader: string
  /** Raft peers (servers), as RPC addresses. */
  servers: string[]
  readyNodes: number
  cpuCores: number
  memoryMb: number
}

/** The Kubernetes API's own view of the cluster (engine kubernetes). */
export interface KubernetesView {
  apiUrl: string
  /** The API server's /readyz. */
  ready: boolean
  version?: string
  readyNodes: number
  cpuCores: number
  memoryMb: number
}

/** A DataNode as the NameNode reports it. */
export interface DataNodeView {
  /** live or dead. */
  state: string
  /** In Service, Decommission In Progress, Decommissioned. */
  adminState: string
  capacityBytes: number
  usedBytes: number
}

/** A NodeManager as the ResourceManager reports it. */
export interface NodeManagerView {
  id: string
  /** RUNNING, UNHEALTHY, DECOMMISSIONING, DECOMMISSIONED, LOST, SHUTDOWN, NEW. */
  state: string
  memoryMb: number
  memoryUsedMb: number
  vcores: number
  vcoresUsed: number
  containers: number
}

/** HDFS as its NameNode reports it (engine hadoop; spark with --hdfs). */
export interface HdfsView {
  namenodeUrl: string
  /** The NameNode is in safe mode (read-only) with this reason; absent when it is not. */
  safeMode?: string
  liveDataNodes: number
  deadDataNodes: number
  capacityBytes: number
  usedBytes: number
}

/** YARN as its ResourceManager reports it (engine hadoop). */
export interface YarnView {
  resourceManagerUrl: string
  /** The ResourceManager's state (STARTED when it serves). */
  state: string
  runningNodeManagers: number
  memoryMb: number
  memoryUsedMb: number
  vcores: number
  vcoresUsed: number
  runningApps: number
  pendingApps: number
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
  /**
   * healthy: the control plane is up (Spark master alive, a Nomad leader) and every host takes work (worker alive,
   * node ready and eligible); degraded: some hosts do not; down: the control plane is unreachable.
   */
  health: 'healthy' | 'degraded' | 'down'
  head?: {id: string; address: string; privateAddress?: string}
  master?: MasterView
  /** engine nomad: the servers and leader. */
  nomad?: NomadView
  /** engine kubernetes: the API server and nodes. */
  kubernetes?: KubernetesView
  /** engine hadoop (and spark --hdfs): HDFS. */
  hdfs?: HdfsView
  /** engine hadoop: YARN. */
  yarn?: YarnView
  /** The head's control plane (Spark master, Nomad servers) could not be asked: why. */
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
  /** engine hadoop: HDFS's live DataNodes, capacity and use. */
  liveDataNodes?: number
  hdfsCapacityBytes?: number
  hdfsUsedBytes?: number
  error?: string
  ageSeconds?: number
  maxAgeSeconds?: number
  /** Past its --max-age: `cms cluster reap` kills it. */
  expired?: boolean
}

export interface ClusterList {
  clusters: ClusterListEntry[]
  /** Providers that could not be asked (no answer in time, no daemon, no credentials): their clusters are missing. */
  unreachable?: Array<{provider: string; error: string}>
}

export interface JobAttemptView {
  n: number
  submittedAt: string
  /** cluster/client: Spark deploy modes; allocation: one Nomad allocation of the job; pod: one Kubernetes pod. */
  mode: 'cluster' | 'client' | 'allocation' | 'pod'
  state: string
  submissionId?: string
  driverState?: string
  workerHostPort?: string
  exitCode?: number
  /** Nomad: the allocation, where it ran, its task group and Nomad's own client status. */
  allocationId?: string
  node?: string
  taskGroup?: string
  clientStatus?: string
  /** Kubernetes: the pod of this attempt (node and clientStatus carry its node and phase). */
  pod?: string
  /**
   * YARN: one ApplicationMaster attempt of the application (submissionId); node and clientStatus carry the host
   * of its container and YARN's attempt state.
   */
  appAttemptId?: string
  containerId?: string
}

export interface JobView {
  id: string
  name: string
  cluster: string
  /**
   * jvm / python: a job spec's app (Spark: REST in cluster mode / spark-submit in client mode on the head; Nomad: a
   * task running Spark; YARN: Spark in cluster mode); mapreduce: a .jar whose main class submits MapReduce jobs, run
   * with `hadoop jar` semantics (YARN); nomad: a native Nomad jobfile (HCL or JSON); kubernetes: a Job or bare Pod
   * from a manifest.
   */
  kind: 'jvm' | 'python' | 'mapreduce' | 'nomad' | 'kubernetes'
  state: 'SUBMITTED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'KILLED' | 'UNKNOWN'
  createdAt: string
  retries: number
  priority: number
  attempts: JobAttemptView[]
  rerunOf?: string
  /** Nomad: the job's type (batch, service, system, sysbatch), Nomad's own status and the job version. */
  type?: string
  status?: string
  version?: number
  /** A periodic or parameterized job: it launches child jobs and is never "done" itself. */
  scheduled?: boolean
  /** Periodic jobs: the next launch, computed from the cron spec as `nomad job status` does. */
  nextLaunch?: string
  /** Service jobs: every allocation running and healthy (the deployment succeeded). */
  healthy?: boolean
  /** Why Nomad could not place the job (no node with the resources, constraints), when it cannot. */
  placementFailures?: string
  /** YARN: the application, YARN's own state and final status (status: FINISHED/SUCCEEDED), and why it failed. */
  applicationId?: string
  diagnostics?: string
  /** Kubernetes and YARN: when the Job (Pod, application) started and ended, and how long it ran, as the API reports them. */
  startedAt?: string
  endedAt?: string
  durationMs?: number
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
  /** With --wait: every job succeeded (batch), is healthy (service) or is registered (periodic, parameterized). */
  ok?: boolean
  waited: boolean
  seconds: number
}

export interface TunnelEndpointView {
  name: string
  description: string
  /** Local URL on 127.0.0.1, carried through SSH to `remote`. */
  url: string
  remote: string
}

export interface TunnelReport {
  cluster: string
  engine: string
  endpoints: TunnelEndpointView[]
  /** What a native client needs; secrets (NOMAD_TOKEN...) only in --write-env or in the command's environment. */
  environment: Record<string, string>
  envFile?: string
}

/** `cms notebook`: the cluster's JupyterLab server on its head, reached through an SSH tunnel. */
export interface NotebookReport {
  cluster: string
  engine: string
  /** started now, running already (reattached), stopped (--stop), not running (--stop found none). */
  state: 'started' | 'running' | 'stopped' | 'not running'
  /** The login link on this machine (the tunnel's local end), with Jupyter's token; absent after --stop. */
  url?: string
  /** Where the server listens: the head's private address and port. */
  remote?: string
  /** Where the notebooks live (a folder on the head, a volume claim): kept by --stop, removed with the cluster. */
  notebooks: string
}

/** `cms cluster put` / `get`: every file copied into or out of the cluster's HDFS. */
export interface HdfsCopyReport {
  cluster: string
  direction: 'put' | 'get'
  files: Array<{from: string; to: string; bytes: number; seconds: number; ok: boolean; error?: string}>
  /** Folders made on the receiving side. */
  dirs: string[]
  bytes: number
  seconds: number
}

/** `cms cluster kubeconfig`: where the context went. */
export interface KubeconfigReport {
  cluster: string
  file: string
  context: string
  /** https://127.0.0.1:PORT: the local end of `cms cluster tunnel`. */
  server: string
  /** Merged into an existing file (else a new file). */
  merged: boolean
}

/** `cms image build`. */
export interface ImageBuildReport {
  /** What was built: spark or hadoop. */
  image: string
  tag: string
  /** The image id (sha256:...). */
  id: string
  sparkVersion?: string
  hadoopVersion?: string
  /** false: an image with the same inputs was there already (nothing rebuilt). */
  built: boolean
  sizeBytes: number
  seconds: number
}

/** `cms image load`: into every node of a cluster (`hosts`), or pushed to a registry (`pushed`). */
export interface ImageLoadReport {
  image: string
  /** The image id (sha256:...). */
  id: string
  cluster?: string
  /** The `docker save` archive shipped to the head once. */
  archiveBytes?: number
  uploadedBytes?: number
  hosts?: HostReport[]
  /** --push: the reference pushed, and the registry's digest of it. */
  pushed?: string
  digest?: string
  seconds: number
}

/** `cms cluster run`: one command on several hosts at once. */
export interface RunReport {
  cluster: string
  /** The remote command as the hosts' shells ran it (the words joined with spaces, as ssh joins them). */
  command: string
  hosts: HostCommandResult[]
  seconds: number
}

export interface HostCommandResult {
  host: string
  role: string
  /** The command's exit code; null when it did not run to an end (no connection, timed out: see error). */
  exitCode: number | null
  stdout: string
  stderr: string
  error?: string
  seconds: number
}

/** `cms cluster copy`: one local file put on several hosts (one upload to the head, the others fetch it there). */
export interface FileCopyReport {
  cluster: string
  local: string
  remote: string
  bytes: number
  sha256: string
  /** Bytes sent from this machine: one copy for the head, more only for hosts that could not fetch from it. */
  uploadedBytes: number
  /** detail: where the file was written on the host and how it got there. */
  hosts: HostReport[]
  seconds: number
}
