/**
 * A typed client for the parts of Nomad's HTTP API cms uses, over an abstract transport (a loopback HTTPS
 * connection, an SSH-forwarded one, ...). Every request carries the ACL token in X-Nomad-Token. Reads return the
 * value with Nomad's raft index (X-Nomad-Index) and take `index` + `wait` for blocking queries: the call returns
 * when the resource changes past `index`, or after `wait` with the same index.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE'

export interface NomadRequest {
  method: HttpMethod
  /** Path with leading slash, already escaped (the client escapes ids). */
  path: string
  query?: Record<string, string>
  headers?: Record<string, string>
  body?: string
  signal?: AbortSignal
}

export interface NomadResponse {
  status: number
  /** Lower-case header names. */
  headers: Record<string, string>
  body: string
}

export interface NomadStreamResponse {
  status: number
  headers: Record<string, string>
  /** The response body as it arrives; ends when the server closes it or the request's signal aborts. */
  body: AsyncIterable<Uint8Array>
}

export type NomadTransport = (req: NomadRequest) => Promise<NomadResponse>
export type NomadStreamTransport = (req: NomadRequest) => Promise<NomadStreamResponse>

/** One Nomad API failure: the HTTP status and Nomad's own message (a parse error keeps its file:line,col). */
export class NomadApiError extends Error {
  constructor(
    readonly status: number,
    readonly nomadMessage: string,
    readonly method: HttpMethod,
    readonly path: string,
  ) {
    super(`Nomad API ${method} ${path} failed (HTTP ${status}): ${nomadMessage || 'no message'}`)
    this.name = 'NomadApiError'
  }
}

export interface QueryOptions {
  /** Blocking query: return once the resource's index is past this one. */
  index?: number
  /** Longest time to block, e.g. '30s' or 30_000 (ms); Nomad caps it at 10 minutes and adds up to wait/16. */
  wait?: string | number
  namespace?: string
  signal?: AbortSignal
}

export interface WriteOptions {
  namespace?: string
  signal?: AbortSignal
}

export interface Indexed<T> {
  value: T
  /** X-Nomad-Index: pass it back as `index` to block until the next change. */
  index: number
  knownLeader: boolean
}

// --- Nomad objects (the fields cms reads; Nomad sends more) ----------------------------------------------

export interface DriverInfo {
  Detected: boolean
  Healthy: boolean
  HealthDescription?: string
  Attributes?: Record<string, string> | null
}

export interface NodeResources {
  Cpu?: {CpuShares: number; TotalCpuCores?: number}
  Memory?: {MemoryMB: number}
  Disk?: {DiskMB: number}
  [k: string]: unknown
}

export interface DrainStrategy {
  Deadline: number
  IgnoreSystemJobs: boolean
  ForceDeadline?: string
  StartedAt?: string
}

export interface NodeListStub {
  ID: string
  Name: string
  Address: string
  Datacenter: string
  NodeClass: string
  NodePool: string
  Version: string
  Drain: boolean
  SchedulingEligibility: 'eligible' | 'ineligible'
  Status: 'initializing' | 'ready' | 'down' | 'disconnected'
  StatusDescription: string
  Drivers: Record<string, DriverInfo>
  /** Only with `resources: true`. */
  NodeResources?: NodeResources
  ReservedResources?: NodeResources
  LastDrain?: {Status: string; StartedAt: string; UpdatedAt: string; Meta?: Record<string, string>} | null
  CreateIndex: number
  ModifyIndex: number
}

export interface Node extends Omit<NodeListStub, 'Address'> {
  HTTPAddr: string
  Attributes: Record<string, string>
  Meta: Record<string, string> | null
  DrainStrategy: DrainStrategy | null
  NodeResources: NodeResources
  ReservedResources: NodeResources
}

export interface AclToken {
  AccessorID: string
  SecretID: string
  Name: string
  Type: 'management' | 'client'
  Global: boolean
  CreateTime: string
}

/** A job as Nomad's API represents it (what /v1/jobs/parse returns). */
export interface Job {
  ID: string
  Name: string
  Namespace?: string | null
  Type: 'batch' | 'service' | 'system' | 'sysbatch' | null
  Priority: number | null
  Status?: 'pending' | 'running' | 'dead' | null
  StatusDescription?: string | null
  Stop?: boolean | null
  /** `crons = [...]` fills Specs; the older single `cron` fills Spec. */
  Periodic?: {Enabled?: boolean; Spec?: string; Specs?: string[] | null; SpecType?: string; ProhibitOverlap?: boolean; TimeZone?: string} | null
  ParameterizedJob?: Record<string, unknown> | null
  ParentID?: string | null
  TaskGroups: Array<{Name: string; Count: number | null; Tasks: Array<{Name: string; Driver: string; [k: string]: unknown}>; [k: string]: unknown}> | null
  SubmitTime?: number | null
  Version?: number | null
  JobModifyIndex?: number | null
  CreateIndex?: number | null
  ModifyIndex?: number | null
  [k: string]: unknown
}

export interface JobListStub {
  ID: string
  ParentID: string
  Name: string
  Namespace: string
  Type: string
  Priority: number
  Periodic: boolean
  ParameterizedJob: boolean
  Stop: boolean
  Status: 'pending' | 'running' | 'dead'
  StatusDescription: string
  JobSummary: JobSummary | null
  SubmitTime: number
  CreateIndex: number
  ModifyIndex: number
  JobModifyIndex: number
}

export interface TaskGroupSummary {
  Queued: number
  Complete: number
  Failed: number
  Running: number
  Starting: number
  Lost: number
  Unknown: number
}

export interface JobSummary {
  JobID: string
  Namespace: string
  Summary: Record<string, TaskGroupSummary>
  Children: {Pending: number; Running: number; Dead: number} | null
  CreateIndex: number
  ModifyIndex: number
}

export interface RegisterResponse {
  EvalID: string
  EvalCreateIndex: number
  JobModifyIndex: number
  Warnings: string
  Index: number
}

export interface AllocationMetric {
  NodesEvaluated: number
  NodesFiltered: number
  NodesInPool?: number
  NodesAvailable: Record<string, number> | null
  ClassFiltered: Record<string, number> | null
  ConstraintFiltered: Record<string, number> | null
  NodesExhausted: number
  ClassExhausted: Record<string, number> | null
  DimensionExhausted: Record<string, number> | null
  QuotaExhausted: string[] | null
  CoalescedFailures: number
  [k: string]: unknown
}

export interface Evaluation {
  ID: string
  Namespace: string
  Priority: number
  Type: string
  TriggeredBy: string
  JobID: string
  Status: 'blocked' | 'pending' | 'complete' | 'failed' | 'canceled'
  StatusDescription: string
  NextEval: string
  PreviousEval: string
  /** The evaluation that waits for room, when some allocations could not be placed (absent otherwise). */
  BlockedEval?: string
  /** Task groups the scheduler could not place, with why (absent when everything was placed). */
  FailedTGAllocs?: Record<string, AllocationMetric> | null
  QueuedAllocations: Record<string, number> | null
  CreateIndex: number
  ModifyIndex: number
}

export interface TaskEvent {
  Type: string
  Time: number
  ExitCode: number
  Signal: number
  Message: string
  DisplayMessage: string
  Details?: Record<string, string>
  [k: string]: unknown
}

export interface TaskState {
  State: 'pending' | 'running' | 'dead'
  Failed: boolean
  Restarts: number
  StartedAt: string | null
  FinishedAt: string | null
  Events: TaskEvent[] | null
}

export interface AllocationListStub {
  ID: string
  EvalID: string
  Name: string
  Namespace: string
  NodeID: string
  NodeName: string
  JobID: string
  JobVersion: number
  TaskGroup: string
  DesiredStatus: 'run' | 'stop' | 'evict'
  DesiredDescription: string
  ClientStatus: 'pending' | 'running' | 'complete' | 'failed' | 'lost' | 'unknown'
  ClientDescription: string
  TaskStates: Record<string, TaskState> | null
  DeploymentStatus?: {Healthy: boolean | null; Canary?: boolean} | null
  FollowupEvalID: string
  NextAllocation: string
  CreateIndex: number
  ModifyIndex: number
  CreateTime: number
  ModifyTime: number
}

export interface Allocation extends AllocationListStub {
  /** The allocation this one replaces (not in list stubs). */
  PreviousAllocation: string
  Job: Job
  Metrics: AllocationMetric | null
  [k: string]: unknown
}

export interface Deployment {
  ID: string
  JobVersion: number
  Status: 'running' | 'successful' | 'failed' | 'cancelled' | 'paused' | 'blocked' | 'unblocking' | 'pending' | 'initializing'
  StatusDescription: string
}

export type LogType = 'stdout' | 'stderr'

export interface LogOptions {
  /** Byte offset from `origin` (default: from the start). */
  offset?: number
  origin?: 'start' | 'end'
  signal?: AbortSignal
}

// --- the client --------------------------------------------------------------------------------------------

export interface NomadApiOptions {
  transport: NomadTransport
  /** For log follow; without it followLogs is unavailable. */
  stream?: NomadStreamTransport
  /** The ACL secret; sent as X-Nomad-Token on every request. */
  token?: string
  region?: string
}

export class NomadApi {
  constructor(private readonly opts: NomadApiOptions) {}

  // status ---------------------------------------------------------------

  /** The leader's RPC address ("ip:port"), or "" while there is none. Open without a token. */
  async leader(signal?: AbortSignal): Promise<string> {
    return (await this.get<string>('/v1/status/leader', {}, {signal})).value
  }

  /** The Raft peers' RPC addresses. */
  async peers(signal?: AbortSignal): Promise<string[]> {
    return (await this.get<string[]>('/v1/status/peers', {}, {signal})).value
  }

  // ACL -----------------------------------------------------------------

  /**
   * Bootstraps the ACL system once and returns the management token. `secret` sets the token's SecretID (a UUID
   * cms generated) instead of a random one. A second bootstrap is refused (HTTP 400).
   */
  async aclBootstrap(secret?: string, signal?: AbortSignal): Promise<AclToken> {
    const body = secret === undefined ? undefined : JSON.stringify({BootstrapSecret: secret})
    return this.write<AclToken>('POST', '/v1/acl/bootstrap', body, {}, {signal})
  }

  /** The gossip/variables keyring's keys (servers can sign node registrations once there is one). */
  async keyringKeys(signal?: AbortSignal): Promise<Array<{KeyID: string; State?: string}>> {
    return (await this.get<Array<{KeyID: string; State?: string}> | null>('/v1/operator/keyring/keys', {}, {signal})).value ?? []
  }

  // nodes -----------------------------------------------------------------

  /** Every client node; with `resources` each carries NodeResources/ReservedResources. */
  nodes(opts: QueryOptions & {resources?: boolean} = {}): Promise<Indexed<NodeListStub[]>> {
    return this.get('/v1/nodes', opts.resources ? {resources: 'true'} : {}, opts)
  }

  node(nodeId: string, opts: QueryOptions = {}): Promise<Indexed<Node>> {
    return this.get(`/v1/node/${seg(nodeId)}`, {}, opts)
  }

  /**
   * Drains a node: it becomes ineligible and its service and system allocations migrate elsewhere. Batch
   * allocations are NOT replaced: they may finish until `deadlineMs`, then are stopped (Nomad 1.11 behaviour);
   * to move one, stop it with stopAllocation after marking the node ineligible. Deadline -1: stop everything
   * at once; 0: no deadline.
   */
  drainNode(
    nodeId: string,
    opts: {deadlineMs: number; ignoreSystemJobs?: boolean; markEligible?: boolean; meta?: Record<string, string>},
    w: WriteOptions = {},
  ): Promise<{NodeModifyIndex: number; EvalIDs: string[] | null; Index: number}> {
    const body = {
      DrainSpec: {Deadline: opts.deadlineMs < 0 ? -1 : opts.deadlineMs * 1e6, IgnoreSystemJobs: opts.ignoreSystemJobs ?? false},
      MarkEligible: opts.markEligible ?? false,
      Meta: opts.meta ?? null,
    }
    return this.write('POST', `/v1/node/${seg(nodeId)}/drain`, JSON.stringify(body), {}, w)
  }

  /** Cancels a drain (the node stays ineligible unless markEligible). */
  cancelDrain(nodeId: string, markEligible = false, w: WriteOptions = {}): Promise<{NodeModifyIndex: number; Index: number}> {
    return this.write('POST', `/v1/node/${seg(nodeId)}/drain`, JSON.stringify({DrainSpec: null, MarkEligible: markEligible}), {}, w)
  }

  setEligibility(nodeId: string, eligible: boolean, w: WriteOptions = {}): Promise<{NodeModifyIndex: number; Index: number}> {
    const body = JSON.stringify({Eligibility: eligible ? 'eligible' : 'ineligible'})
    return this.write('POST', `/v1/node/${seg(nodeId)}/eligibility`, body, {}, w)
  }

  /** Removes a node that left (its agent stopped) from the node list at once instead of after Nomad's GC. */
  purgeNode(nodeId: string, w: WriteOptions = {}): Promise<{NodeModifyIndex: number; EvalIDs: string[] | null; Index: number}> {
    return this.write('POST', `/v1/node/${seg(nodeId)}/purge`, undefined, {}, w)
  }

  nodeAllocations(nodeId: string, opts: QueryOptions = {}): Promise<Indexed<AllocationListStub[]>> {
    return this.get(`/v1/node/${seg(nodeId)}/allocations`, {}, opts)
  }

  // variables -------------------------------------------------------------

  /**
   * Writes a Nomad variable. Its items are secrets: Nomad encrypts them at rest with its keyring and lets only ACL
   * tokens with variable rights, and the tasks of job J (workload identity) for a path nomad/jobs/J, read them.
   * Nothing of the answer is kept (it echoes the items).
   */
  async putVariable(path: string, items: Record<string, string>, w: WriteOptions = {}): Promise<void> {
    await this.write<unknown>('PUT', `/v1/var/${path.split('/').map(seg).join('/')}`, JSON.stringify({Path: path, Items: items}), {}, w)
  }

  /** Deletes a variable; one that is not there is not an error. */
  async deleteVariable(path: string, w: WriteOptions = {}): Promise<void> {
    try {
      // Nomad answers with an empty body: nothing to parse.
      const q: Record<string, string> = w.namespace ? {namespace: w.namespace} : {}
      await this.call({method: 'DELETE', path: `/v1/var/${path.split('/').map(seg).join('/')}`, query: q, signal: w.signal})
    } catch (error) {
      if (!(error instanceof NomadApiError && error.status === 404)) throw error
    }
  }

  // jobs ------------------------------------------------------------------

  /**
   * Parses an HCL2 jobspec on the server (HCL1 is gone in Nomad 1.11). `variables` is variable-file content
   * (`name = "value"` lines, see hclVariables); a value is converted to the variable's declared type, and a
   * variable the job does not declare is ignored. Errors name the file "input.hcl" with line and column.
   */
  parseJob(hcl: string, opts: {variables?: string; canonicalize?: boolean} & WriteOptions = {}): Promise<Job> {
    const body = JSON.stringify({JobHCL: hcl, Variables: opts.variables ?? '', Canonicalize: opts.canonicalize ?? true})
    return this.write('POST', '/v1/jobs/parse', body, {}, opts)
  }

  /**
   * Registers (or updates) a job. `submission` keeps the source so `nomad job inspect`/the UI show it.
   * Nomad answers an invalid job with HTTP 500 and a multi-line "N errors occurred" message.
   */
  registerJob(
    job: Job,
    opts: WriteOptions & {submission?: {source: string; format: 'hcl2' | 'json'; variables?: string}} = {},
  ): Promise<RegisterResponse> {
    const s = opts.submission
    const body = JSON.stringify({
      Job: job,
      ...(s ? {Submission: {Source: s.source, Format: s.format, Variables: s.variables ?? '', VariableFlags: null}} : {}),
    })
    return this.write('POST', '/v1/jobs', body, {}, opts)
  }

  /** Jobs (stubs, each with its JobSummary); `prefix` filters by ID prefix. */
  jobs(opts: QueryOptions & {prefix?: string} = {}): Promise<Indexed<JobListStub[]>> {
    return this.get('/v1/jobs', opts.prefix ? {prefix: opts.prefix} : {}, opts)
  }

  job(jobId: string, opts: QueryOptions = {}): Promise<Indexed<Job>> {
    return this.get(`/v1/job/${seg(jobId)}`, {}, opts)
  }

  /** Allocation counts per task group; a batch job is `dead` on success and failure alike: look here. */
  jobSummary(jobId: string, opts: QueryOptions = {}): Promise<Indexed<JobSummary>> {
    return this.get(`/v1/job/${seg(jobId)}/summary`, {}, opts)
  }

  /** The job's allocations; `all` includes those of earlier job versions. */
  jobAllocations(jobId: string, opts: QueryOptions & {all?: boolean} = {}): Promise<Indexed<AllocationListStub[]>> {
    return this.get(`/v1/job/${seg(jobId)}/allocations`, opts.all ? {all: 'true'} : {}, opts)
  }

  jobEvaluations(jobId: string, opts: QueryOptions = {}): Promise<Indexed<Evaluation[]>> {
    return this.get(`/v1/job/${seg(jobId)}/evaluations`, {}, opts)
  }

  /** The job's latest deployment (service jobs with an update block; Nomad answers null when there is none). */
  async jobDeployment(jobId: string, opts: QueryOptions = {}): Promise<Deployment | undefined> {
    return (await this.get<Deployment | null>(`/v1/job/${seg(jobId)}/deployment`, {}, opts)).value ?? undefined
  }

  /** Children of a periodic or parameterized job (their IDs start with "<parent>/"). */
  jobChildren(parentId: string, opts: QueryOptions = {}): Promise<Indexed<JobListStub[]>> {
    return this.get<JobListStub[]>('/v1/jobs', {prefix: `${parentId}/`}, opts).then((r) => ({
      ...r,
      value: r.value.filter((j) => j.ParentID === parentId),
    }))
  }

  /**
   * Stops a job (`purge` also removes it, so it disappears from the list and its ID can be reused).
   * The returned EvalID is the evaluation that stops its allocations.
   */
  stopJob(jobId: string, opts: WriteOptions & {purge?: boolean} = {}): Promise<{EvalID: string; EvalCreateIndex: number; JobModifyIndex: number; Index: number}> {
    return this.write('DELETE', `/v1/job/${seg(jobId)}`, undefined, opts.purge ? {purge: 'true'} : {}, opts)
  }

  /** Launches a periodic job now (Nomad has no "next launch" endpoint: compute it from Periodic.Spec). */
  forcePeriodic(jobId: string, w: WriteOptions = {}): Promise<{EvalID: string; EvalCreateIndex: number; Index: number}> {
    return this.write('POST', `/v1/job/${seg(jobId)}/periodic/force`, undefined, {}, w)
  }

  /** Dispatches a parameterized job; `payload` is sent base64-encoded as Nomad wants it. */
  dispatchJob(
    jobId: string,
    opts: WriteOptions & {meta?: Record<string, string>; payload?: Uint8Array | string} = {},
  ): Promise<{DispatchedJobID: string; EvalID: string; EvalCreateIndex: number; JobCreateIndex: number; Index: number}> {
    const payload = opts.payload === undefined ? undefined : Buffer.from(opts.payload).toString('base64')
    const body = JSON.stringify({Meta: opts.meta ?? null, ...(payload === undefined ? {} : {Payload: payload})})
    return this.write('POST', `/v1/job/${seg(jobId)}/dispatch`, body, {}, opts)
  }

  // evaluations and allocations -------------------------------------------

  evaluation(evalId: string, opts: QueryOptions = {}): Promise<Indexed<Evaluation>> {
    return this.get(`/v1/evaluation/${seg(evalId)}`, {}, opts)
  }

  evaluationAllocations(evalId: string, opts: QueryOptions = {}): Promise<Indexed<AllocationListStub[]>> {
    return this.get(`/v1/evaluation/${seg(evalId)}/allocations`, {}, opts)
  }

  allocation(allocId: string, opts: QueryOptions = {}): Promise<Indexed<Allocation>> {
    return this.get(`/v1/allocation/${seg(allocId)}`, {}, opts)
  }

  /** Stops one allocation; the scheduler replaces it (a batch one too) on an eligible node. */
  stopAllocation(allocId: string, w: WriteOptions = {}): Promise<{EvalID: string; Index: number}> {
    return this.write('POST', `/v1/allocation/${seg(allocId)}/stop`, undefined, {}, w)
  }

  /**
   * A task's log as text (the whole file unless offset/origin say otherwise). Served by the node that runs
   * the allocation, reached through the servers. A task that has not started yet answers 404.
   */
  async logs(allocId: string, task: string, type: LogType, opts: LogOptions = {}): Promise<string> {
    const res = await this.call({
      method: 'GET',
      path: `/v1/client/fs/logs/${seg(allocId)}`,
      query: logQuery(task, type, opts, false),
      signal: opts.signal,
    })
    return res.body
  }

  /**
   * A task's log as it grows (follow), as raw bytes, until the task ends and the file is closed or `signal`
   * aborts. Needs the stream transport.
   */
  async *followLogs(allocId: string, task: string, type: LogType, opts: LogOptions = {}): AsyncGenerator<Uint8Array> {
    if (!this.opts.stream) throw new Error('following logs needs a streaming transport')
    const req: NomadRequest = {
      method: 'GET',
      path: `/v1/client/fs/logs/${seg(allocId)}`,
      query: this.withRegion(logQuery(task, type, opts, true)),
      headers: this.headers(),
      signal: opts.signal,
    }
    const res = await this.opts.stream(req)
    if (res.status >= 300) {
      const chunks: Uint8Array[] = []
      for await (const c of res.body) chunks.push(c)
      throw new NomadApiError(res.status, Buffer.concat(chunks).toString('utf8').trim(), req.method, req.path)
    }
    yield* res.body
  }

  // plumbing --------------------------------------------------------------

  private async get<T>(path: string, query: Record<string, string>, opts: QueryOptions): Promise<Indexed<T>> {
    const q = {...query}
    if (opts.index !== undefined) q.index = String(opts.index)
    if (opts.wait !== undefined) q.wait = typeof opts.wait === 'number' ? `${Math.max(1, Math.round(opts.wait))}ms` : opts.wait
    if (opts.namespace) q.namespace = opts.namespace
    const res = await this.call({method: 'GET', path, query: q, signal: opts.signal})
    return {
      value: parseJson<T>(res, 'GET', path),
      index: Number(res.headers['x-nomad-index'] ?? 0),
      knownLeader: res.headers['x-nomad-knownleader'] === 'true',
    }
  }

  private async write<T>(method: HttpMethod, path: string, body: string | undefined, query: Record<string, string>, w: WriteOptions): Promise<T> {
    const q = {...query}
    if (w.namespace) q.namespace = w.namespace
    const res = await this.call({method, path, query: q, body, signal: w.signal})
    return parseJson<T>(res, method, path)
  }

  private async call(req: NomadRequest): Promise<NomadResponse> {
    const full: NomadRequest = {...req, query: this.withRegion(req.query ?? {}), headers: {...this.headers(), ...req.headers}}
    if (full.body !== undefined) full.headers!['content-type'] = 'application/json'
    const res = await this.opts.transport(full)
    if (res.status >= 300) throw new NomadApiError(res.status, res.body.trim(), req.method, req.path)
    return res
  }

  private headers(): Record<string, string> {
    return this.opts.token ? {'x-nomad-token': this.opts.token} : {}
  }

  private withRegion(query: Record<string, string>): Record<string, string> {
    return this.opts.region ? {...query, region: this.opts.region} : query
  }
}

function parseJson<T>(res: NomadResponse, method: HttpMethod, path: string): T {
  try {
    return JSON.parse(res.body) as T
  } catch {
    throw new NomadApiError(res.status, `the answer is not JSON: ${res.body.slice(0, 200)}`, method, path)
  }
}

function logQuery(task: string, type: LogType, opts: LogOptions, follow: boolean): Record<string, string> {
  const q: Record<string, string> = {task, type, plain: 'true', origin: opts.origin ?? 'start', offset: String(opts.offset ?? 0)}
  if (follow) q.follow = 'true'
  return q
}

/** One path segment, escaped (job IDs may hold "/" for periodic children). */
function seg(id: string): string {
  if (id === '') throw new Error('an empty Nomad ID')
  return encodeURIComponent(id)
}

/**
 * Variable-file content for parseJob from `--var name=value` pairs: every value a string, which Nomad converts
 * to the declared type (number, bool). List and map variables need var-file syntax (pass a file's text instead).
 * HCL2 escapes: `\`, `"`, newlines, and `${`/`%{` (written `$${`/`%%{`) so a value is never evaluated.
 */
export function hclVariables(vars: Record<string, string>): string {
  let out = ''
  for (const [name, value] of Object.entries(vars)) {
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) throw new Error(`invalid variable name: ${JSON.stringify(name)}`)
    const escaped = value
      .replace(/\\/g, '\\\\')
      .replace(/"/g, '\\"')
      .replace(/\n/g, '\\n')
      .replace(/\r/g, '\\r')
      .replace(/\t/g, '\\t')
      .replace(/\$\{/g, () => '$${')
      .replace(/%\{/g, () => '%%{')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    out += `${name} = "${escaped}"\n`
  }
  return out
}
