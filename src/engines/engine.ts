import type {JobOverrides} from '../jobs/load.js'
import type {S3Access} from '../jobs/s3.js'
import type {JobSpec} from '../jobs/spec.js'
import type {HostReporter} from '../output/progress.js'
import type {ClusterInfo, ClusterListEntry, JobList, JobView} from '../output/results.js'
import type {ContainerNeeds, Host, Provider} from '../providers/provider.js'
import type {HostResult} from '../remote/fanout.js'
import type {SshSession} from '../remote/session.js'
import type {AttachedEntry} from '../config/attached.js'
import type {Artifact} from './artifact.js'
import type {HostContext} from './host-context.js'
import type {NotebookServer, RunningServer} from '../notebook/notebook-server.js'
import type {LocalForward} from '../remote/local-forward.js'
import type {Shipment} from './shipping.js'

/**
 * The engine seam. Use-cases in src/cluster speak of hosts, a head and an engine; everything that knows Spark,
 * Nomad or Kubernetes lives behind this interface under src/engines/NAME/.
 */
export interface Engine {
  readonly name: string
  /** What the docker provider must give this engine's containers beyond a plain host (Nomad: a cgroup tmpfs). */
  readonly containerNeeds?: ContainerNeeds
  /** What to ship and which settings to record; `recorded` is the manifest of an existing cluster (add, rerun). */
  plan(input: PlanInput): Promise<EnginePlan>
  /** Brings every host to the desired state: installed, configured, started, joined. Idempotent. */
  converge(input: ConvergeInput): Promise<ConvergeResult>
  /**
   * remove: refuses hosts the engine cannot lose (Nomad servers; DataNodes HDFS needs to keep its replication), given
   * the manifest's settings and every host being removed; UsageError.
   */
  checkRemovable?(host: Host, hosts: Host[], settings: Record<string, string>, removing: Host[]): void
  /** remove: moves the host's work away through the engine's API and stops its agent; returns what was done. */
  drain(input: DrainInput): Promise<string>
  /** remove/kill on hosts cms does not own: stops every process of the cluster, deletes its files; returns leftovers. */
  cleanup(ctx: HostContext, cluster: string): Promise<number>
  /** info: the cluster as its engine reports it now. */
  describe(input: DescribeInput): Promise<ClusterInfo>
  /** list: the few live figures of one cluster. */
  listFields(info: ClusterInfo): Partial<ClusterListEntry>
  /** Checks job files locally (exit 2 on a bad one) before the cluster is contacted. */
  loadJobs(files: string[], overrides: JobOverrides): Promise<LoadedJob[]>
  /** The cluster's job service, through the head. */
  openJobs(input: JobsInput): Promise<JobService>
  /** tunnel: what a native client or a browser on the user's machine reaches, and how. */
  endpoints(input: {cluster: string; head: HostContext}): Promise<Endpoint[]>
  /** put/get: where the cluster's HDFS NameNode serves WebHDFS (private address), when the cluster has HDFS. */
  hdfs?(input: {cluster: string; head: HostContext}): Promise<{address: string; port: number} | undefined>
  /** kubeconfig: a kubeconfig (holding a private key) whose server is `server`, the local end of a tunnel. */
  kubeconfig?(input: {cluster: string; head: HostContext; server: string}): Promise<{text: string; context: string}>
  /**
   * notebook: the cluster's JupyterLab server (a process on the head, a pod), its kernels' PySpark wired to the
   * cluster in client mode. Engines without it have no `cms notebook`.
   */
  notebookServer?(input: NotebookInput): Promise<NotebookServer>
  /** tunnel: environment a native client needs, given the local URLs; secrets go to files, never to stdout. */
  clientEnvironment?(input: {cluster: string; head: HostContext; local: Record<string, string>; secretsDir: string; withSecrets: boolean}): Promise<Record<string, string>>
  /**
   * image load: puts a local image (its `docker save` archive) into the container runtime of every host, without a
   * registry: uploaded once to the head, fetched from there by the other hosts. Idempotent (a host that has this
   * image under this name is left alone). Engines that run no containers (Spark standalone, Nomad) have none.
   */
  loadImage?(input: LoadImageInput): Promise<LoadImageResult>
  /** Clusters cms did not make (`cms cluster attach`): engines that can be reached with the user's own credentials. */
  attached?(): Promise<AttachedEngine>
}

/**
 * A cluster cms did not make, reached at its API with what its access file names (a kubeconfig, a Nomad address and
 * TLS files): no hosts, no head, no manifest.
 */
export interface AttachedEngine {
  /** attach: the access file's engine part from the command's options (UsageError on a bad one); nothing is written. */
  access(options: AttachOptions): AttachedEntry['kubernetes'] | AttachedEntry['nomad']
  /** attach: asks the API once, so a wrong address or credentials are found before the access file is written. */
  check(entry: AttachedEntry): Promise<string>
  describe(entry: AttachedEntry): Promise<ClusterInfo>
  openJobs(entry: AttachedEntry, input: Pick<JobsInput, 'parallel' | 'log'>): Promise<JobService>
  /** `cms notebook`: the cluster's notebook server, and how this machine reaches it (no head: through the API). */
  notebook?(entry: AttachedEntry, log: (line: string) => void): Promise<AttachedNotebook>
}

export interface AttachedNotebook {
  server: NotebookServer
  /** A local port leading to the running server. */
  forward(running: RunningServer): Promise<LocalForward>
}

export interface AttachOptions {
  kubeconfig?: string
  context?: string
  nomadAddr?: string
  /** The environment the nomad CLI reads (NOMAD_TOKEN, NOMAD_CACERT, NOMAD_CLIENT_CERT, NOMAD_CLIENT_KEY, NOMAD_TLS_SERVER_NAME). */
  env: Record<string, string | undefined>
}

export interface NotebookInput {
  cluster: string
  head: HostContext
  /** The engine settings recorded in the head manifest. */
  settings: Record<string, string>
  log: (line: string) => void
}

export interface LoadImageInput {
  cluster: string
  /** Head first. */
  hosts: Host[]
  image: {
    /** The reference pods name it by, as given (cms/spark:4.3.0). */
    ref: string
    /** The image id (sha256:...). */
    id: string
    /** The local `docker save` archive of `ref`. */
    archive: string
    bytes: number
  }
  connect: (host: Host) => Promise<HostContext>
  perHost: (fn: (host: Host, report: HostReporter) => Promise<HostOutcome>) => Promise<Array<HostResult<HostOutcome>>>
  log: (line: string) => void
}

export interface LoadImageResult {
  outcomes: Array<HostResult<HostOutcome>>
  uploadedBytes: number
}

/** Values of the engine's create/add flags (checked by its entry in registry.ts before the engine loads) (e.g. spark-dist, worker-memory, nomad-dist, servers). */
export type EngineOptions = Record<string, string | number | boolean | undefined>

export interface PlanInput {
  cluster: string
  options: EngineOptions
  recorded?: Record<string, string>
  provider: Provider
  /** Hosts the cluster will have. */
  totalHosts: number
  log: (line: string) => void
}

export interface EnginePlan {
  /** Archives every host needs, shipped once to the head. */
  artifacts: Artifact[]
  /** Recorded in the head manifest, so `add` configures new hosts like the existing ones. */
  settings: Record<string, string>
  /** Debian packages hosts made from a stock cloud image need (cloud-init installs them; cms's host image has them). */
  hostPackages: string[]
}

export interface HostOutcome {
  address: string
  /** One line for the per-host report. */
  detail: string
}

export interface ConvergeInput {
  cluster: string
  /** Head first. */
  hosts: Host[]
  plan: EnginePlan
  shipment: Shipment
  connect: (host: Host) => Promise<HostContext>
  perHost: (fn: (host: Host, report: HostReporter) => Promise<HostOutcome>) => Promise<Array<HostResult<HostOutcome>>>
  log: (line: string) => void
}

export interface ConvergeResult {
  outcomes: Array<HostResult<HostOutcome>>
  /** Settings learnt while converging (where the runtime was unpacked, the API's URL), added to the manifest. */
  settings: Record<string, string>
}

export interface DrainInput {
  cluster: string
  ctx: HostContext
  head: HostContext
  graceSeconds: number
  report: HostReporter
}

export interface DescribeInput {
  cluster: string
  provider: string
  hosts: Host[]
  /** The head, reached; absent with `headError` when it cannot be. */
  head?: {host: Host; session: SshSession; address: string}
  headError?: string
}

export interface JobsInput {
  cluster: string
  hosts: Host[]
  head: HostContext
  /** Other hosts, connected on first use. */
  connect: (host: Host) => Promise<SshSession>
  /** The engine settings recorded in the head manifest. */
  settings: Record<string, string>
  parallel: number
  log: (line: string) => void
}

/** A job file checked locally: the engine's own form, opaque to the use-cases. */
export interface LoadedJob {
  file: string
  name: string
  /** The portable job spec, when the file is one (a native jobfile has none). */
  spec?: JobSpec
  /**
   * Where the spec's s3a:// paths are and the credentials to reach them, resolved at submit time (see
   * src/cluster/s3-credentials.ts); only for a service with `takesS3Access`. In memory only: an engine puts the
   * credentials where only the job can read them (a 0600 file, a Nomad variable, a Kubernetes Secret), never in a
   * job record, a command line or a job's plain definition.
   */
  s3?: S3Access
}

export interface JobService {
  /** The service hands LoadedJob.s3 on to its jobs (an engine without it refuses specs that need S3 credentials). */
  readonly takesS3Access?: boolean
  /** Checks every job with the engine itself (Nomad's parser, a Kubernetes dry run) before any is submitted. */
  prepare?(jobs: LoadedJob[]): Promise<LoadedJob[]>
  submit(job: LoadedJob): Promise<JobView>
  /** Follows jobs to their end (or the timeout), logging each change of state. */
  wait(ids: string[], timeoutMs: number, log: (line: string) => void): Promise<JobView[]>
  list(): Promise<JobList>
  status(id: string): Promise<JobView>
  /** The state of many jobs in one request where the engine allows it; an id the engine does not know is left out. */
  statusMany?(ids: string[]): Promise<Map<string, JobView>>
  kill(id: string, opts: {purge: boolean}): Promise<JobView>
  rerun(id: string): Promise<JobView>
  logs(id: string, opts: LogOptions): Promise<JobView>
  /** Releases what the service holds open (an API forward), when the command is done with it. */
  close?(): Promise<void>
}

export interface LogOptions {
  follow: boolean
  timeoutMs: number
  out: (chunk: string) => void
  err: (chunk: string) => void
  /** Ends a follow early (the reader went away): the engine stops asking for more and returns. */
  signal?: AbortSignal
}

export interface Endpoint {
  /** Short name used in flags and output: api, ui, rest. */
  name: string
  description: string
  address: string
  port: number
  scheme: 'http' | 'https' | 'socks5'
  path?: string
  /** A SOCKS5 proxy (instead of one forward) to these addresses only: for clients that dial many hosts (Hadoop's). */
  socks?: {allowed: string[]}
  /** The local port the tunnel should take when free (a kubeconfig written earlier points there); else any. */
  localPort?: number
}
