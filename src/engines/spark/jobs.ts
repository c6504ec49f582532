import {newJobId, validateJobId} from '../../jobs/ids.js'
import {executorEnvProperties, s3Environment, s3SparkProperties, type S3Access} from '../../jobs/s3.js'
import {appKind, isUrl, type JobSpec} from '../../jobs/spec.js'
import {checkS3Connector, writeS3CredentialsFile} from '../s3-credentials-file.js'
import {FileStager} from '../stage-files.js'
import {restCreateRequest, sparkProperties, sparkSubmitArgv} from '../../jobs/spark-translate.js'
import type {JobAttemptView, JobView} from '../../output/results.js'
import type {Host} from '../../providers/provider.js'
import {UsageError} from '../../remote/errors.js'
import {mapLimit} from '../../remote/fanout.js'
import {hostFacts} from '../../remote/host-facts.js'
import type {SshSession} from '../../remote/session.js'
import {shq} from '../../remote/shell.js'
import type {SparkHostContext} from './engine.js'
import * as js from './job-scripts.js'
import {jobState, stateOfClientAttempt, stateOfDriver, TERMINAL, type AttemptRecord, type AttemptView, type JobState} from './job-state.js'
import {SPARK_PORTS} from './layout.js'
import {restCreate, restKill, restStatus} from './rest.js'
import {masterUrl} from './scripts.js'

/** What the head keeps about a job (jobs/<id>/job.json): enough to report on it and to run it again. */
export interface JobRecord {
  id: string
  name: string
  cluster: string
  kind: 'jvm' | 'python'
  createdAt: string
  retries: number
  priority: number
  spec: JobSpec
  /** jvm: the REST create request, also in request.json for the head-side retry loop. */
  request?: object
  /** python: the runner script that runs spark-submit in client mode. */
  runner?: string
  rerunOf?: string
}

interface HeadRecords {
  job: JobRecord
  attempts: AttemptRecord[]
  killed: boolean
  runnerAlive: boolean
}

export interface SparkJobsContext {
  cluster: string
  head: SparkHostContext
  sparkHome: string
  sparkVersion: string
  headHost: Host
  /** Every host of the cluster with a session, connected on first use: cluster-mode drivers may run on any. */
  hosts: () => Promise<Array<{host: Host; session: SshSession}>>
}



/** Spark standalone jobs: JVM apps through the master's REST API (cluster mode), Python apps in client mode on the head. */
export class SparkJobs {
  private readonly jobsDir: string
  private readonly stager: FileStager

  constructor(private readonly ctx: SparkJobsContext) {
    this.jobsDir = js.jobsDir(ctx.head.layout.clusterDir)
    this.stager = new FileStager(`${ctx.head.layout.clusterDir}/files`)
  }

  get cluster(): string {
    return this.ctx.cluster
  }

  private jobDir(id: string): string {
    return `${this.jobsDir}/${id}`
  }

  private stageAll(paths: string[], targets: Array<{host: Host; session: SshSession}>): Promise<string[]> {
    return this.stager.stageAll(paths, targets.map((t) => ({id: t.host.id, session: t.session})))
  }

  private async clusterTargets() {
    const hosts = await this.ctx.hosts()
    const homes = new Set(await Promise.all(hosts.map(async (h) => (await hostFacts(h.session)).home)))
    if (homes.size > 1) throw new Error('cluster-mode jobs need the same home directory on every host (the app must be at the same path everywhere)')
    return hosts
  }

  async submit(spec: JobSpec, rerunOf?: string, s3?: S3Access): Promise<JobView> {
    const kind = appKind(spec)
    const head = this.ctx.head
    const id = newJobId(spec.name)
    const master = masterUrl(head.address)
    const base = {id, name: spec.name, cluster: this.ctx.cluster, kind, createdAt: new Date().toISOString(), retries: spec.retries, priority: spec.priority, spec, rerunOf}
    // With S3, every host gets the credentials file (executors run everywhere, also for a client-mode driver).
    const everyHost = kind === 'jvm' || s3 ? await this.clusterTargets() : undefined
    let s3Props: Record<string, string> | undefined
    let s3Env: Record<string, string> = {}
    if (s3) {
      await checkS3Connector(spec, this.ctx.head.session, this.ctx.sparkHome, this.ctx.cluster)
      const via = {kind: 'file', path: await writeS3CredentialsFile(this.ctx.head.layout.clusterDir, id, s3, everyHost!)} as const
      s3Env = s3Environment(s3, via)
      s3Props = {...s3SparkProperties(s3, via), ...executorEnvProperties(s3Env)}
    }
    if (kind === 'jvm') {
      const targets = everyHost!
      const [app] = await this.stageAll([spec.app], targets)
      const [jars, files] = await Promise.all([this.stageAll(spec.jars, targets), this.stageAll(spec.files, targets)])
      const appResource = isUrl(app) ? app : `file:${app}`
      const props = sparkProperties(spec, {masterUrl: master, appResource, remoteJars: jars, remoteFiles: files, remotePyFiles: [], extra: s3Props})
      const request = restCreateRequest(spec, props, {appResource, sparkVersion: this.ctx.sparkVersion, env: s3Env})
      return this.submitRecord({...base, request})
    }
    const headOnly = [{host: this.ctx.headHost, session: head.session}]
    const [app] = await this.stageAll([spec.app], headOnly)
    const [jars, files, pyFiles] = await Promise.all([this.stageAll(spec.jars, headOnly), this.stageAll(spec.files, headOnly), this.stageAll(spec.pyFiles, headOnly)])
    const props = sparkProperties(spec, {masterUrl: master, appResource: app, remoteJars: jars, remoteFiles: files, remotePyFiles: pyFiles, extra: s3Props})
    const runner = js.pythonRunner({
      sparkHome: this.ctx.sparkHome,
      confDir: head.layout.confDir,
      argv: sparkSubmitArgv(spec, props, {appPath: app}),
      env: {...spec.env, ...s3Env},
      attempts: spec.retries + 1,
    })
    return this.submitRecord({...base, runner})
  }

  /** Writes the record on the head, then submits the first attempt and, where needed, starts the runner. */
  private async submitRecord(record: JobRecord): Promise<JobView> {
    const session = this.ctx.head.session
    const dir = this.jobDir(record.id)
    if (record.kind === 'jvm') {
      const supervisor = record.retries > 0 ? {file: 'supervise.py', content: js.restSupervisor({restUrl: `http://${this.ctx.head.address}:${SPARK_PORTS.rest}`, attempts: record.retries + 1, pollSeconds: 2, maxHours: 72})} : undefined
      await session.run(
        `${js.prepareJobScript(dir, JSON.stringify(record), supervisor)}\nprintf '%s' ${shq(JSON.stringify(record.request))} > ${shq(`${dir}/request.json`)}`,
        {label: 'record job'},
      )
      const submissionId = await restCreate(session, this.ctx.head.address, record.request!)
      const attempt: AttemptRecord = {n: 1, submittedAt: new Date().toISOString(), mode: 'cluster', submissionId}
      const startRetries = supervisor ? `\n${js.startRunnerScript(dir, 'python3 supervise.py')}` : ''
      await session.run(js.recordAttemptScript(dir, attempt) + startRetries, {label: 'record attempt'})
      return this.view({job: record, attempts: [attempt], killed: false, runnerAlive: Boolean(supervisor)}, false)
    }
    await session.run(js.prepareJobScript(dir, JSON.stringify(record), {file: 'run.sh', content: record.runner!}), {label: 'record job'})
    await session.run(js.startRunnerScript(dir, 'bash run.sh'), {label: 'start spark-submit'})
    return this.view({job: record, attempts: [], killed: false, runnerAlive: true}, false)
  }

  private async records(ids?: string[]): Promise<HeadRecords[]> {
    const out = await this.ctx.head.session.run(js.readJobsScript(this.jobsDir, ids), {label: 'read job records'})
    return JSON.parse(out) as HeadRecords[]
  }

  private async record(id: string): Promise<HeadRecords> {
    validateJobId(id)
    const [found] = await this.records([id])
    if (!found) throw new UsageError(`job ${JSON.stringify(id)} not found on cluster ${this.ctx.cluster} (see 'cms job list -n ${this.ctx.cluster}')`)
    return found
  }

  /** Live state: the master's REST status for cluster-mode attempts, the runner's records for client mode. */
  private async view(r: HeadRecords, live = true): Promise<JobView> {
    const attempts: AttemptView[] = await Promise.all(
      r.attempts.map(async (a): Promise<AttemptView> => {
        if (a.mode === 'client') return {...a, state: stateOfClientAttempt(a, r.runnerAlive, r.killed)}
        if (!live || !a.submissionId) return {...a, state: 'SUBMITTED'}
        const s = await restStatus(this.ctx.head.session, this.ctx.head.address, a.submissionId).catch(() => undefined)
        return {...a, state: stateOfDriver(s?.driverState), driverState: s?.driverState, workerHostPort: s?.workerHostPort}
      }),
    )
    return {
      id: r.job.id,
      name: r.job.name,
      cluster: r.job.cluster,
      kind: r.job.kind,
      state: jobState(attempts, r.job.retries + 1, r.runnerAlive, r.killed),
      createdAt: r.job.createdAt,
      retries: r.job.retries,
      priority: r.job.priority,
      attempts: attempts as JobAttemptView[],
      ...(r.job.rerunOf ? {rerunOf: r.job.rerunOf} : {}),
    }
  }

  async list(): Promise<JobView[]> {
    const all = await this.records()
    const views = await mapLimit(all, 16, (r) => this.view(r))
    return views.sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  }

  async status(id: string): Promise<JobView> {
    return this.view(await this.record(id))
  }

  /** One read of the records on the head for all of them (a job without a record is left out). */
  async statusMany(ids: string[]): Promise<Map<string, JobView>> {
    ids.forEach(validateJobId)
    if (ids.length === 0) return new Map()
    const views = await mapLimit(await this.records(ids), 16, (r) => this.view(r))
    return new Map(views.map((v) => [v.id, v]))
  }

  async kill(id: string): Promise<JobView> {
    const r = await this.record(id)
    const session = this.ctx.head.session
    // The marker first: a retry loop must not resubmit what is being killed.
    await session.run(js.killRunnerScript(this.jobDir(id)), {label: 'stop job runner'})
    const last = r.attempts.at(-1)
    if (last?.mode === 'cluster' && last.submissionId) await restKill(session, this.ctx.head.address, last.submissionId)
    // Done when the engine itself reports the last attempt ended (the killed marker alone already reads KILLED).
    for (let i = 0; i < 60; i++) {
      const view = await this.status(id)
      const attempt = view.attempts.at(-1)
      if (!attempt || TERMINAL.has(attempt.state as JobState)) return view
      await new Promise((res) => setTimeout(res, 500))
    }
    return this.status(id)
  }

  async rerun(id: string): Promise<JobView> {
    const {job} = await this.record(id)
    const fresh: JobRecord = {...job, id: newJobId(job.name), createdAt: new Date().toISOString(), rerunOf: job.id}
    if (job.kind === 'jvm') {
      const app = (job.request as {appResource?: string}).appResource ?? ''
      if (app.startsWith('file:')) {
        const missing = await this.ctx.head.session.exec(`test -f ${shq(app.slice('file:'.length))}`)
        if (missing.code !== 0) throw new UsageError(`the files of job ${id} are no longer on the cluster: submit its spec again`)
      }
    }
    return this.submitRecord(fresh)
  }

  /** Where the latest attempt's driver output is: a log on the head (client mode) or the driver's work dir on a worker. */
  async logSources(id: string): Promise<{view: JobView; sources: Array<{session: SshSession; path: string; stream: 'stdout' | 'stderr'}>}> {
    const r = await this.record(id)
    const view = await this.view(r)
    const last = view.attempts.at(-1)
    if (!last) return {view, sources: []}
    if (last.mode === 'client') return {view, sources: [{session: this.ctx.head.session, path: `${this.jobDir(id)}/attempt-${last.n}.log`, stream: 'stdout'}]}
    const workerIp = last.workerHostPort?.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
    const hosts = await this.ctx.hosts()
    const worker = hosts.find((h) => h.host.privateAddress === workerIp) ?? hosts.find((h) => h.host.target.host === workerIp)
    if (!worker || !last.submissionId) return {view, sources: []}
    const home = (await hostFacts(worker.session)).home
    const dir = `${home}/.cms/clusters/${this.ctx.cluster}/work/${last.submissionId}`
    return {
      view,
      sources: [
        {session: worker.session, path: `${dir}/stdout`, stream: 'stdout'},
        {session: worker.session, path: `${dir}/stderr`, stream: 'stderr'},
      ],
    }
  }
}
