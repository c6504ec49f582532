import {newJobId, validateJobId} from '../../jobs/ids.js'
import {NOMAD_S3_ITEM, nomadJobForSpec, nomadS3VariablePath} from '../../jobs/nomad-translate.js'
import {credentialsFileText} from '../../jobs/s3.js'
import {defaultFs} from '../hadoop/hdfs-beside.js'
import {TERMINAL} from '../../jobs/states.js'
import type {JobList, JobView} from '../../output/results.js'
import {UsageError} from '../../remote/errors.js'
import {mapLimit} from '../../remote/fanout.js'
import {remoteClusterDir} from '../../cluster/manifest.js'
import type {JobService, JobsInput, LoadedJob, LogOptions} from '../engine.js'
import {FileStager} from '../stage-files.js'
import {NomadApiError, type Job, type NomadApi} from './api.js'
import type {NomadJobFile} from './job-files.js'
import {isScheduler, nomadJobView, type NomadJobFacts} from './job-state.js'

type Prepared = LoadedJob & {job: Job}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Jobs through Nomad's own HTTP API: native HCL/JSON jobfiles as they are, portable specs as Spark tasks. A cluster
 * cms did not make (no head: `cms cluster attach`) takes native jobfiles only.
 */
export class NomadJobService implements JobService {
  readonly takesS3Access = true
  private stager: FileStager | undefined

  constructor(
    private readonly api: NomadApi,
    private readonly input: JobsInput | (Pick<JobsInput, 'cluster' | 'log' | 'parallel'> & {head?: undefined}),
    /** Releases the API's connections (an attached cluster's; a made one's go with its SSH pool). */
    private readonly onClose?: () => void,
  ) {}

  async close(): Promise<void> {
    this.onClose?.()
  }

  /** Nomad parses every HCL file (variables included) and specs are staged and translated before any is registered. */
  async prepare(jobs: LoadedJob[]): Promise<LoadedJob[]> {
    const errors: string[] = []
    const prepared = await mapLimit(jobs as NomadJobFile[], 8, async (f): Promise<Prepared | undefined> => {
      try {
        if (f.kind === 'json') return {...f, job: f.job as Job}
        if (f.kind === 'hcl') {
          const job = await this.api.parseJob(f.hcl, {variables: f.variables})
          return {...f, name: job.ID, job}
        }
        return {...f, job: await this.specJob(f)}
      } catch (error) {
        if (error instanceof NomadApiError && error.status >= 400 && error.status < 500) {
          // Nomad names the text it parsed "input.hcl": name the user's file instead.
          errors.push(`${f.file}: ${error.nomadMessage.trim().split('\n').join(' ').replaceAll('input.hcl:', `${f.file}:`)}`)
          return undefined
        }
        if (error instanceof UsageError) {
          errors.push(error.message)
          return undefined
        }
        throw error
      }
    })
    if (errors.length > 0) throw new UsageError(errors.join('\n'))
    return prepared as Prepared[]
  }

  private async specJob(f: Extract<NomadJobFile, {kind: 'spec'}>): Promise<Job> {
    const input = this.input
    if (!input.head) throw new UsageError(`${f.file}: cms did not make cluster ${input.cluster} (it was attached), so it has no Spark runtime of cms's for job specs: submit a Nomad jobfile`)
    const stager = (this.stager ??= new FileStager(`${remoteClusterDir(input.head.facts.home, input.cluster)}/files`))
    const sparkHome = input.settings.sparkHome
    if (!sparkHome) throw new UsageError(`${f.file}: this Nomad cluster has no Spark runtime to run job specs: add one with 'cms cluster create -n ${input.cluster} -e nomad --spark-dist PATH'`)
    const targets = await mapLimit(
      input.hosts.filter((h) => h.state !== 'stopped'),
      input.parallel,
      async (host) => ({id: host.id, session: host === input.head.host ? input.head.session : await input.connect(host)}),
    )
    const {spec} = f
    const [[app], jars, files, pyFiles] = await Promise.all([
      stager.stageAll([spec.app], targets),
      stager.stageAll(spec.jars, targets),
      stager.stageAll(spec.files, targets),
      stager.stageAll(spec.pyFiles, targets),
    ])
    const hdfs = input.settings.hdfs === 'true' ? defaultFs(input.head.address) : undefined
    const s3 = f.s3 ? {endpoint: f.s3.endpoint, region: f.s3.region} : undefined
    return nomadJobForSpec(spec, {jobId: newJobId(spec.name), sparkHome, appPath: app!, remoteJars: jars, remoteFiles: files, remotePyFiles: pyFiles, defaultFs: hdfs, s3}) as Job
  }

  async submit(job: LoadedJob): Promise<JobView> {
    const {job: body} = job as Prepared
    // S3 credentials go to a Nomad variable only this job's tasks may read (its template renders them into the
    // task's secrets dir), never into the job: anyone who may read jobs sees its Env and args. Written before the
    // job exists, so the task never waits for it; purging the job (kill --purge) deletes it.
    if (job.s3 && job.spec) await this.api.putVariable(nomadS3VariablePath(body.ID), {[NOMAD_S3_ITEM]: credentialsFileText(job.s3.credentials)})
    const registered = await this.api.registerJob(body)
    this.input.log(`Submitted ${body.ID} (Nomad evaluation ${registered.EvalID.slice(0, 8)})`)
    // Nothing is placed yet: the view comes from the job just registered rather than four more reads (--wait,
    // status and list ask Nomad).
    return nomadJobView(this.input.cluster, {job: {...body, Status: 'pending', SubmitTime: Date.now() * 1e6}, allocations: []})
  }

  private async facts(id: string, opts: {evaluations?: boolean} = {}): Promise<NomadJobFacts & {job: Job}> {
    validateJobId(id)
    let job: Job
    try {
      job = (await this.api.job(id)).value
    } catch (error) {
      if (error instanceof NomadApiError && error.status === 404) throw new UsageError(`job ${JSON.stringify(id)} not found on cluster ${this.input.cluster} (see 'cms job list -n ${this.input.cluster}')`)
      throw error
    }
    if (isScheduler(job)) return {job, allocations: []}
    const service = job.Type === 'service'
    const [summary, allocations, evaluations, deployment] = await Promise.all([
      this.api.jobSummary(id).then((r) => r.value),
      this.api.jobAllocations(id, {all: true}).then((r) => r.value),
      opts.evaluations === false ? Promise.resolve(undefined) : this.api.jobEvaluations(id).then((r) => r.value),
      service ? this.api.jobDeployment(id) : Promise.resolve(undefined),
    ])
    return {job, summary, allocations, evaluations, deployment}
  }

  async status(id: string): Promise<JobView> {
    return nomadJobView(this.input.cluster, await this.facts(id))
  }

  /**
   * Follows each job with blocking queries on its allocations (Nomad answers when something changed, or after the
   * wait): until it ends, a service is healthy, a scheduler is registered, or Nomad reports it cannot be placed.
   */
  async wait(ids: string[], timeoutMs: number, log: (line: string) => void): Promise<JobView[]> {
    const deadline = Date.now() + timeoutMs
    return mapLimit(ids, 16, async (id) => {
      let index = 0
      let last = ''
      let view = await this.status(id)
      for (let round = 0; round < 100_000; round++) {
        const line = `${view.state}${view.healthy ? ' (healthy)' : ''}${view.placementFailures ? ` — cannot be placed: ${view.placementFailures}` : ''}`
        if (line !== last) log(`${id}: ${line}`)
        last = line
        const done = TERMINAL.has(view.state) || view.scheduled || view.healthy || Boolean(view.placementFailures)
        const left = deadline - Date.now()
        if (done || left <= 0) return view
        index = (await this.api.jobAllocations(id, {all: true, index, wait: `${Math.max(1, Math.min(10, Math.ceil(left / 1000)))}s`})).index
        view = await this.status(id)
      }
      return view
    })
  }

  async list(): Promise<JobList> {
    const stubs = (await this.api.jobs()).value
    const jobs = await mapLimit(stubs, 8, async (stub) => {
      // Stubs carry the summary; the full job where the view needs it (cron specs, versions, meta).
      const job = (await this.api.job(stub.ID)).value
      const allocations = isScheduler(job) ? [] : (await this.api.jobAllocations(stub.ID, {all: true})).value
      return nomadJobView(this.input.cluster, {job, summary: stub.JobSummary, allocations})
    })
    return {cluster: this.input.cluster, jobs: jobs.sort((a, b) => a.createdAt.localeCompare(b.createdAt)), applications: []}
  }

  /** Stops the job (and with purge removes it), then waits until Nomad reports its allocations stopped. */
  async kill(id: string, opts: {purge: boolean}): Promise<JobView> {
    const before = await this.status(id)
    const ownsS3Variable = opts.purge && ((await this.api.job(id)).value.Meta as Record<string, string> | null | undefined)?.['cms.s3'] === 'variable'
    await this.api.stopJob(id, opts)
    for (let i = 0; i < 120; i++) {
      const allocations = (await this.api.jobAllocations(id, {all: true})).value
      if (allocations.every((a) => a.ClientStatus !== 'running' && a.ClientStatus !== 'pending')) break
      await sleep(500)
    }
    if (opts.purge) {
      // Only the variable cms wrote for a spec job (its meta says so): a native job's own variable is the user's.
      if (ownsS3Variable) await this.api.deleteVariable(nomadS3VariablePath(id))
      return {...before, state: 'KILLED', status: 'purged'}
    }
    return this.status(id)
  }

  /** Registers the job again as a new version (a changed meta value), so Nomad runs it anew even if it completed. */
  async rerun(id: string): Promise<JobView> {
    const {job} = await this.facts(id, {evaluations: false})
    if (job.ParentID) throw new UsageError(`job ${id} was launched by ${job.ParentID}: rerun that job, or force a periodic launch with the nomad CLI`)
    const again: Job = {...job, Stop: false, Meta: {...((job.Meta as Record<string, string> | null) ?? {}), 'cms.rerun-of': id, 'cms.rerun-at': new Date().toISOString()}}
    await this.api.registerJob(again)
    return this.status(id)
  }

  /**
   * Every task's stdout and stderr of the job's current allocations, through Nomad's logs API; with follow, the
   * streams stay open until the job ends (or the timeout).
   */
  async logs(id: string, opts: LogOptions): Promise<JobView> {
    const facts = await this.facts(id, {evaluations: false})
    const current = facts.allocations.filter((a) => a.JobVersion === undefined || a.JobVersion === facts.job.Version)
    const sources = (current.length > 0 ? current : facts.allocations).flatMap((a) =>
      Object.keys(a.TaskStates ?? {}).flatMap((task) => (['stdout', 'stderr'] as const).map((type) => ({alloc: a.ID, task, type}))),
    )
    if (!opts.follow) {
      for (const s of sources) (s.type === 'stdout' ? opts.out : opts.err)(await this.api.logs(s.alloc, s.task, s.type))
      return this.status(id)
    }
    const abort = new AbortController()
    const stop = () => abort.abort()
    opts.signal?.addEventListener('abort', stop, {once: true})
    const pumps = sources.map(async (s) => {
      const write = s.type === 'stdout' ? opts.out : opts.err
      for await (const chunk of this.api.followLogs(s.alloc, s.task, s.type, {signal: abort.signal})) write(Buffer.from(chunk).toString('utf8'))
    })
    const done = Promise.allSettled(pumps)
    const deadline = Date.now() + opts.timeoutMs
    for (let i = 0; i < 1_000_000 && Date.now() < deadline && !abort.signal.aborted; i++) {
      const ended = await Promise.race([done.then(() => true), sleep(2000).then(() => false)])
      if (ended || TERMINAL.has((await this.status(id)).state)) break
    }
    // Output flushed as the job ended arrives within a moment; then the streams are closed.
    await Promise.race([done, sleep(1500)])
    opts.signal?.removeEventListener('abort', stop)
    abort.abort()
    await done
    return this.status(id)
  }
}
