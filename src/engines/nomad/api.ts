import type {Readable} from 'node:stream'

/**
 * A typed client of the parts of Nomad's HTTP API cms uses, over any transport (cms carries it through SSH with
 * TLS; tests may use loopback). Blocking queries (`index` + `wait`) are how cms waits on evaluations and
 * allocations instead of polling tightly.
 */

export interface NomadRequest {
  method?: string
  path: string
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
  headers?: Record<string, string>
  timeoutMs?: number
}

export interface NomadResponse<B> {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: B
}

export interface NomadTransport {
  request(req: NomadRequest): Promise<NomadResponse<string>>
  stream(req: NomadRequest): Promise<NomadResponse<Readable>>
}

export class NomadApiError extends Error {
  constructor(
    readonly status: number,
    readonly nomadMessage: string,
    what: string,
  ) {
    super(`Nomad ${what}: HTTP ${status}: ${nomadMessage.trim().split('\n')[0] || 'no message'}`)
  }
}

export interface NomadNode {
  ID: string
  Name: string
  Address: string
  Status: string
  SchedulingEligibility: string
  Drain?: boolean
  DrainStrategy?: unknown
  Drivers?: Record<string, {Detected: boolean; Healthy: boolean; HealthDescription?: string}>
  NodeResources?: {Cpu?: {CpuShares?: number; TotalCpuCores?: number}; Memory?: {MemoryMB?: number}}
}

export interface NomadJobSummary {
  JobID: string
  Summary: Record<string, {Queued: number; Complete: number; Failed: number; Running: number; Starting: number; Lost: number; Unknown?: number}>
  Children?: {Pending: number; Running: number; Dead: number}
}

export interface NomadJob {
  ID: string
  Name: string
  Type: string
  Priority: number
  Status: string
  Stop?: boolean
  Version?: number
  SubmitTime?: number
  ParentID?: string
  Periodic?: {Enabled?: boolean; Spec?: string; Specs?: string[]; TimeZone?: string} | null
  ParameterizedJob?: unknown
  Meta?: Record<string, string> | null
  TaskGroups?: Array<{Name: string; Count: number; RestartPolicy?: {Attempts?: number}}>
  JobSummary?: NomadJobSummary
  [key: string]: unknown
}

export interface NomadAllocation {
  ID: string
  NodeID: string
  NodeName?: string
  TaskGroup: string
  JobVersion?: number
  ClientStatus: string
  DesiredStatus: string
  CreateTime: number
  ModifyTime?: number
  CreateIndex: number
  DeploymentStatus?: {Healthy?: boolean | null} | null
  TaskStates?: Record<string, {State: string; Failed: boolean; Restarts?: number; Events?: Array<{Type: string; ExitCode?: number; DisplayMessage?: string}>}> | null
}

export interface NomadEvaluation {
  ID: string
  Status: string
  StatusDescription?: string
  TriggeredBy?: string
  BlockedEval?: string
  FailedTGAllocs?: Record<string, {NodesEvaluated?: number; NodesExhausted?: number; DimensionExhausted?: Record<string, number>; ConstraintFiltered?: Record<string, number>; ClassExhausted?: Record<string, number>}> | null
  CreateIndex: number
}

export interface NomadDeployment {
  ID: string
  Status: string
  StatusDescription?: string
  JobVersion: number
}

/** Result of a blocking query: the value and the index to pass to the next one. */
export interface Indexed<T> {
  value: T
  index: number
}

export class NomadApi {
  constructor(
    private readonly transport: NomadTransport,
    private readonly token?: string,
  ) {}

  private headers(extra?: Record<string, string>): Record<string, string> {
    return {...(this.token ? {'X-Nomad-Token': this.token} : {}), ...extra}
  }

  private async call<T>(what: string, req: NomadRequest): Promise<Indexed<T>> {
    const res = await this.transport.request({...req, headers: this.headers(req.headers)})
    if (res.status < 200 || res.status >= 300) throw new NomadApiError(res.status, res.body, what)
    const raw = res.headers['x-nomad-index']
    const index = Number(Array.isArray(raw) ? raw[0] : raw) || 0
    const value = (res.body.length > 0 && /^[[{"]|^(true|false|null|\d)/.test(res.body.trimStart()) ? JSON.parse(res.body) : res.body) as T
    return {value, index}
  }

  private async get<T>(what: string, path: string, query?: NomadRequest['query'], block?: {index: number; waitSeconds: number}): Promise<Indexed<T>> {
    const q = block ? {...query, index: block.index, wait: `${block.waitSeconds}s`} : query
    return this.call<T>(what, {path, query: q, timeoutMs: block ? (block.waitSeconds + 15) * 1000 : undefined})
  }

  /** The leader's RPC address, "" when there is none (open without a token). */
  async leader(): Promise<string> {
    try {
      return (await this.get<string>('leader', '/v1/status/leader')).value ?? ''
    } catch (error) {
      if (error instanceof NomadApiError && error.status === 500) return ''
      throw error
    }
  }

  async peers(): Promise<string[]> {
    return (await this.get<string[]>('peers', '/v1/status/peers')).value ?? []
  }

  /** Whether the client's token is accepted (a management token can read its own identity). */
  async tokenWorks(): Promise<boolean> {
    if (!this.token) return false
    try {
      await this.get('token', '/v1/acl/token/self')
      return true
    } catch (error) {
      if (error instanceof NomadApiError && (error.status === 403 || error.status === 400 || error.status === 404)) return false
      throw error
    }
  }

  /** Bootstraps ACLs with a secret of cms's choosing; "already bootstrapped" is not an error when it is that one. */
  async bootstrapAcl(secret: string): Promise<void> {
    try {
      await this.call('ACL bootstrap', {method: 'POST', path: '/v1/acl/bootstrap', body: {BootstrapSecret: secret}})
    } catch (error) {
      if (error instanceof NomadApiError && error.status === 400 && /already (done|bootstrapped)|reset index/i.test(error.nomadMessage)) return
      throw error
    }
  }

  async nodes(opts: {resources?: boolean} = {}): Promise<NomadNode[]> {
    return (await this.get<NomadNode[]>('nodes', '/v1/nodes', opts.resources ? {resources: true} : undefined)).value ?? []
  }

  async node(id: string): Promise<NomadNode> {
    return (await this.get<NomadNode>('node', `/v1/node/${encodeURIComponent(id)}`)).value
  }

  /** Drains a node: allocations move to other nodes; after the deadline the rest are stopped. */
  async drainNode(id: string, opts: {deadlineSeconds: number}): Promise<void> {
    await this.call('drain', {
      method: 'POST',
      path: `/v1/node/${encodeURIComponent(id)}/drain`,
      body: {NodeID: id, DrainSpec: {Deadline: opts.deadlineSeconds * 1e9, IgnoreSystemJobs: false}, MarkEligible: false},
    })
  }

  async purgeNode(id: string): Promise<void> {
    await this.call('node purge', {method: 'POST', path: `/v1/node/${encodeURIComponent(id)}/purge`})
  }

  /** Nomad parses HCL2 itself (variables included); a parse error keeps Nomad's file:line,col message. */
  async parseJob(hcl: string, variables: string): Promise<NomadJob> {
    return (await this.call<NomadJob>('parse', {method: 'POST', path: '/v1/jobs/parse', body: {JobHCL: hcl, Variables: variables, Canonicalize: true}})).value
  }

  async registerJob(job: Record<string, unknown>): Promise<{EvalID: string; JobModifyIndex: number}> {
    return (await this.call<{EvalID: string; JobModifyIndex: number}>('register', {method: 'POST', path: '/v1/jobs', body: {Job: job}})).value
  }

  async jobs(): Promise<NomadJob[]> {
    return (await this.get<NomadJob[]>('jobs', '/v1/jobs', {meta: true})).value ?? []
  }

  async job(id: string): Promise<NomadJob> {
    return (await this.get<NomadJob>('job', `/v1/job/${encodeURIComponent(id)}`)).value
  }

  async jobSummary(id: string, block?: {index: number; waitSeconds: number}): Promise<Indexed<NomadJobSummary>> {
    return this.get<NomadJobSummary>('job summary', `/v1/job/${encodeURIComponent(id)}/summary`, undefined, block)
  }

  async jobAllocations(id: string, block?: {index: number; waitSeconds: number}): Promise<Indexed<NomadAllocation[]>> {
    const r = await this.get<NomadAllocation[] | null>('allocations', `/v1/job/${encodeURIComponent(id)}/allocations`, {all: true}, block)
    return {value: r.value ?? [], index: r.index}
  }

  async jobEvaluations(id: string): Promise<NomadEvaluation[]> {
    return (await this.get<NomadEvaluation[] | null>('evaluations', `/v1/job/${encodeURIComponent(id)}/evaluations`)).value ?? []
  }

  async latestDeployment(id: string): Promise<NomadDeployment | undefined> {
    return (await this.get<NomadDeployment | null>('deployment', `/v1/job/${encodeURIComponent(id)}/deployment`)).value ?? undefined
  }

  async stopJob(id: string, opts: {purge: boolean}): Promise<void> {
    await this.call('stop', {method: 'DELETE', path: `/v1/job/${encodeURIComponent(id)}`, query: opts.purge ? {purge: true} : undefined})
  }

  /** A task's stdout or stderr as plain text from `offset`; with follow, the stream stays open for new output. */
  async logs(allocId: string, task: string, type: 'stdout' | 'stderr', opts: {follow: boolean; offset?: number}): Promise<Readable> {
    const res = await this.transport.stream({
      path: `/v1/client/fs/logs/${encodeURIComponent(allocId)}`,
      query: {task, type, plain: true, follow: opts.follow, origin: 'start', offset: opts.offset ?? 0},
      headers: this.headers(),
      timeoutMs: 30_000,
    })
    if (res.status !== 200) {
      const chunks: Buffer[] = []
      for await (const c of res.body) chunks.push(c as Buffer)
      throw new NomadApiError(res.status, Buffer.concat(chunks).toString('utf8'), 'logs')
    }
    return res.body
  }
}
