import {newJobId, validateJobId} from '../../jobs/ids.js'
import {jarFramework, type JarFramework} from '../../jobs/jar-inspect.js'
import {mapreduceProperties} from '../../jobs/mapreduce-translate.js'
import {appKind, isUrl, type JobSpec} from '../../jobs/spec.js'
import {executorEnvProperties, s3Environment, s3SparkProperties, type S3Access} from '../../jobs/s3.js'
import {appMasterEnvProperties, jobTag, yarnSubmitArgv} from '../../jobs/yarn-translate.js'
import type {JobList, JobView} from '../../output/results.js'
import type {Host} from '../../providers/provider.js'
import {UsageError} from '../../remote/errors.js'
import {mapLimit} from '../../remote/fanout.js'
import type {SshSession} from '../../remote/session.js'
import {shq} from '../../remote/shell.js'
import {httpViaSsh} from '../../remote/tunnel-http.js'
import type {HostContext} from '../host-context.js'
import {checkS3Connector, writeS3CredentialsFile} from '../s3-credentials-file.js'
import * as records from '../spark/job-scripts.js'
import {FileStager} from '../stage-files.js'
import {rmRequest} from './daemon-api.js'
import * as js from './job-scripts.js'
import {appTimes, attemptViews, failureLine, isApplicationId, parseApplicationId, stateOfApp, stateOfDriverProgram, TERMINAL, type SubmissionRecord, type YarnApp, type YarnAppAttempt} from './job-state.js'
import type {HadoopLayout} from './layout.js'
import {HADOOP_PORTS, MAX_AM_ATTEMPTS, MAX_APPLICATION_PRIORITY} from './site-config.js'
import {renderProperty} from './xml.js'

/** The spec's local files as staged on the head (URLs as given): spark-submit uploads them to YARN per application. */
export interface StagedFiles {
  app: string
  jars: string[]
  files: string[]
  pyFiles: string[]
}

/** What the head keeps about a job (jobs/<id>/job.json): enough to report on it and to submit it again. */
export interface YarnJobRecord {
  id: string
  name: string
  cluster: string
  kind: 'jvm' | 'python'
  createdAt: string
  retries: number
  priority: number
  spec: JobSpec
  staged: StagedFiles
  /** Spark (absent: Spark): the spark-submit arguments it ran with (after the program name). */
  argv?: string[]
  /** mapreduce: the jar's main class submits MapReduce jobs; run.sh runs it on the head (`hadoop jar`). */
  framework?: JarFramework
  /** The S3A properties it ran with (where the store and the credentials file are; never a secret): a rerun reuses them. */
  s3Props?: Record<string, string>
  runner?: string
  rerunOf?: string
}

interface HeadRecords {
  job: YarnJobRecord
  /** The submission (one YARN application); YARN's own attempts of it are read from the ResourceManager. */
  attempts: Array<SubmissionRecord & {exitCode?: number}>
  killed: boolean
  runnerAlive: boolean
}

/** A job as the ResourceManager reports it now, with what the view was made from. */
export interface LiveJob {
  view: JobView
  app?: YarnApp
  attempts: YarnAppAttempt[]
}

export interface HadoopJobsContext {
  cluster: string
  head: HostContext
  layout: HadoopLayout
  hadoopHome: string
  sparkHome: string
  /** Every running host of the cluster with a session, connected on first use (ApplicationMasters run on any). */
  hosts: () => Promise<Array<{host: Host; session: SshSession}>>
  log: (line: string) => void
}

const SUBMIT_TIMEOUT_MS = 300_000
/** spark-submit is a JVM of a few hundred MB on the head: this many at once, the others wait their turn. */
const CONCURRENT_SUBMITS = 4
const KILL_WAIT_MS = 60_000
/** How long a MapReduce job's main class may take to submit its first job. */
const FIRST_APPLICATION_MS = 180_000

/**
 * Jobs on YARN: the spec runs as Spark in cluster deploy mode, submitted with spark-submit on the head; the
 * ResourceManager's REST API is the truth about each application and its ApplicationMaster attempts.
 */
export class HadoopJobs {
  private readonly jobsDir: string
  private readonly stager: FileStager
  private running = 0
  private readonly waiting: Array<() => void> = []

  constructor(private readonly ctx: HadoopJobsContext) {
    this.jobsDir = records.jobsDir(ctx.layout.clusterDir)
    this.stager = new FileStager(`${ctx.layout.clusterDir}/files`)
  }

  get cluster(): string {
    return this.ctx.cluster
  }

  get headSession(): SshSession {
    return this.ctx.head.session
  }

  private get session(): SshSession {
    return this.ctx.head.session
  }

  private jobDir(id: string): string {
    return `${this.jobsDir}/${id}`
  }

  /** GET on the ResourceManager; undefined when it answers 404 (an application it does not know, or no longer). */
  private async rmGet<T>(path: string): Promise<T | undefined> {
    const {status, body} = await httpViaSsh(this.session, this.ctx.head.address, HADOOP_PORTS.rmHttp, path, {headers: {accept: 'application/json'}})
    if (status === 404) return undefined
    if (status < 200 || status >= 300) throw new Error(`the ResourceManager at ${this.ctx.head.address} answered HTTP ${status} to GET ${path.split('?')[0]}: ${body.slice(0, 200).trim()}`)
    return JSON.parse(body) as T
  }

  async app(applicationId: string): Promise<YarnApp | undefined> {
    return (await this.rmGet<{app?: YarnApp}>(`/ws/v1/cluster/apps/${encodeURIComponent(applicationId)}`))?.app
  }

  async appAttempts(applicationId: string): Promise<YarnAppAttempt[]> {
    const out = await this.rmGet<{appAttempts?: {appAttempt?: YarnAppAttempt[]} | null}>(`/ws/v1/cluster/apps/${encodeURIComponent(applicationId)}/appattempts`)
    return out?.appAttempts?.appAttempt ?? []
  }

  /** Every application the ResourceManager knows (running and the completed ones it keeps). */
  async apps(query = ''): Promise<YarnApp[]> {
    const out = await this.rmGet<{apps?: {app?: YarnApp[]} | null}>(`/ws/v1/cluster/apps${query}`)
    return out?.apps?.app ?? []
  }

  private async stage(spec: JobSpec): Promise<StagedFiles> {
    const head = [{id: this.ctx.head.host.id, session: this.session}]
    const [[app], jars, files, pyFiles] = await Promise.all([
      this.stager.stageAll([spec.app], head),
      this.stager.stageAll(spec.jars, head),
      this.stager.stageAll(spec.files, head),
      this.stager.stageAll(spec.pyFiles, head),
    ])
    return {app: app!, jars, files, pyFiles}
  }

  async submit(spec: JobSpec, from?: {rerunOf: string; staged: StagedFiles; framework?: JarFramework; s3Props?: Record<string, string>}, s3?: S3Access): Promise<JobView> {
    // A .jar whose classes use MapReduce and not Spark runs with `hadoop jar` semantics.
    const framework = from ? (from.framework ?? 'spark') : appKind(spec) === 'jvm' && !isUrl(spec.app) ? await jarFramework(spec.app, spec.mainClass!) : 'spark'
    if (framework === 'mapreduce' && s3) throw new UsageError(`job ${spec.name}: a MapReduce job cannot use s3a:// paths here (the Hadoop runtime carries no s3a connector): run the work as a Spark job`)
    if (s3) await checkS3Connector(spec, this.session, this.ctx.sparkHome, this.ctx.cluster)
    const staged = from?.staged ?? (await this.stage(spec))
    const id = newJobId(spec.name)
    if (framework === 'mapreduce') return this.submitMapReduce(spec, id, staged, from?.rerunOf)
    const s3Props = from?.s3Props ?? (s3 ? await this.s3Properties(id, s3) : undefined)
    const argv = yarnSubmitArgv(spec, {
      jobId: id,
      appPath: staged.app,
      remoteJars: staged.jars,
      remoteFiles: staged.files,
      remotePyFiles: staged.pyFiles,
      maxPriority: MAX_APPLICATION_PRIORITY,
      maxAttempts: MAX_AM_ATTEMPTS,
      extra: s3Props,
    })
    const job: YarnJobRecord = {
      id,
      name: spec.name,
      cluster: this.ctx.cluster,
      kind: appKind(spec),
      createdAt: new Date().toISOString(),
      retries: spec.retries,
      priority: spec.priority,
      spec,
      staged,
      argv,
      ...(s3Props ? {s3Props} : {}),
      ...(from ? {rerunOf: from.rerunOf} : {}),
    }
    const dir = this.jobDir(id)
    await this.session.run(records.prepareJobScript(dir, JSON.stringify(job)), {label: 'record job'})
    const submittedAt = new Date().toISOString()
    const result = await this.limited(() => this.session.exec(js.submitScript({jobDir: dir, layout: this.ctx.layout, sparkHome: this.ctx.sparkHome, argv}), {label: 'spark-submit', timeoutMs: SUBMIT_TIMEOUT_MS}))
    const {code, log} = js.parseSubmitOutput(result.stdout)
    // spark-submit names the application it submitted; failing that, YARN finds it by the job's tag.
    const applicationId = parseApplicationId(log) ?? (await this.apps(`?applicationTags=${encodeURIComponent(jobTag(id))}`).catch(() => [])).at(0)?.id
    if (!applicationId) {
      await this.session.exec(`rm -rf ${shq(dir)}`)
      const why = result.timedOut ? 'did not return in time' : `exited with ${code ?? result.code}`
      throw new Error(`spark-submit of ${spec.name} on the head of ${this.ctx.cluster} ${why} and YARN has no application of it: ${failureLine(log || result.stderr)}`)
    }
    const submission: SubmissionRecord = {n: 1, submittedAt, mode: 'cluster', applicationId}
    await this.session.run(records.recordAttemptScript(dir, submission), {label: 'record submission'})
    return (await this.live({job, attempts: [submission], killed: false, runnerAlive: false})).view
  }

  /**
   * S3 on YARN: the credentials file on every host (an ApplicationMaster, so the driver, and the executors may run on
   * any NodeManager, all as the login user), named to the driver through the ApplicationMaster's environment and to
   * the executors through theirs.
   */
  private async s3Properties(id: string, s3: S3Access): Promise<Record<string, string>> {
    const via = {kind: 'file', path: await writeS3CredentialsFile(this.ctx.layout.clusterDir, id, s3, await this.ctx.hosts())} as const
    const env = s3Environment(s3, via)
    return {...s3SparkProperties(s3, via), ...executorEnvProperties(env), ...appMasterEnvProperties(env)}
  }

  /** `hadoop jar` on the head, detached; the job is submitted once YARN has an application with its tag. */
  private async submitMapReduce(spec: JobSpec, id: string, staged: StagedFiles, rerunOf?: string): Promise<JobView> {
    if (Object.keys(spec.conf).length > 0) this.ctx.log(`${spec.name}: a MapReduce job does not use Spark's conf (${Object.keys(spec.conf).join(', ')} ignored)`)
    const dir = this.jobDir(id)
    const props = mapreduceProperties(spec, {jobId: id, hadoopHome: this.ctx.hadoopHome, jars: staged.jars, files: staged.files, maxPriority: MAX_APPLICATION_PRIORITY, maxAttempts: MAX_AM_ATTEMPTS})
    const runner = js.mapreduceRunner({
      jobDir: dir,
      layout: this.ctx.layout,
      hadoopHome: this.ctx.hadoopHome,
      app: staged.app,
      mainClass: spec.mainClass!,
      args: spec.args,
      classpath: staged.jars.filter((j) => !isUrl(j)),
      env: spec.env,
    })
    const job: YarnJobRecord = {id, name: spec.name, cluster: this.ctx.cluster, kind: 'jvm', createdAt: new Date().toISOString(), retries: spec.retries, priority: spec.priority, spec, staged, framework: 'mapreduce', runner, ...(rerunOf ? {rerunOf} : {})}
    await this.session.run(records.prepareJobScript(dir, JSON.stringify(job), {file: 'run.sh', content: runner}), {label: 'record job'})
    await this.session.run(js.mapreduceConfScript({jobDir: dir, layout: this.ctx.layout, propertiesXml: props.map(renderProperty).join('\n')}), {label: 'write the job configuration'})
    const submittedAt = new Date().toISOString()
    await this.session.run(records.startRunnerScript(dir, 'bash run.sh'), {label: 'start hadoop jar'})
    const tag = encodeURIComponent(jobTag(id))
    const deadline = Date.now() + FIRST_APPLICATION_MS
    for (;;) {
      const first = (await this.apps(`?applicationTags=${tag}`)).sort((a, b) => (a.startedTime ?? 0) - (b.startedTime ?? 0) || a.id.localeCompare(b.id))[0]
      if (first) {
        const submission: SubmissionRecord = {n: 1, submittedAt, mode: 'cluster', applicationId: first.id}
        await this.session.run(records.recordAttemptScript(dir, submission), {label: 'record submission'})
        return this.status(id)
      }
      const alive = (await this.session.exec(`kill -0 "$(cat ${shq(`${dir}/runner.pid`)})" 2>/dev/null`)).code === 0
      if (!alive || Date.now() > deadline) {
        if (alive) await this.session.run(records.killRunnerScript(dir), {label: 'stop hadoop jar'})
        const log = await this.session.run(`tail -c 65536 ${shq(`${dir}/attempt-1.log`)} 2>/dev/null || true`, {label: 'read hadoop jar output'})
        await this.session.exec(`rm -rf ${shq(dir)}`)
        throw new Error(`hadoop jar of ${spec.name} on the head of ${this.ctx.cluster} ${alive ? 'submitted no job in time' : 'ended before it submitted a job'}: ${failureLine(log)}`)
      }
      await new Promise((res) => setTimeout(res, 1000))
    }
  }

  /** Where a MapReduce job's main class writes its output, on the head. */
  driverLog(id: string): string {
    return `${this.jobDir(id)}/attempt-1.log`
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= CONCURRENT_SUBMITS) await new Promise<void>((res) => this.waiting.push(res))
    else this.running++
    try {
      return await fn()
    } finally {
      const next = this.waiting.shift()
      if (next) next()
      else this.running--
    }
  }

  private async records(ids?: string[]): Promise<HeadRecords[]> {
    const out = await this.session.run(records.readJobsScript(this.jobsDir, ids), {label: 'read job records'})
    return JSON.parse(out) as HeadRecords[]
  }

  private async record(id: string): Promise<HeadRecords> {
    validateJobId(id)
    const [found] = await this.records([id])
    if (!found) throw new UsageError(`job ${JSON.stringify(id)} not found on cluster ${this.ctx.cluster} (see 'cms job list -n ${this.ctx.cluster}')`)
    return found
  }

  /** The job as the ResourceManager reports its application now (`known`: the application, already fetched). */
  private async live(r: HeadRecords, known?: Map<string, YarnApp>): Promise<LiveJob> {
    const submission = r.attempts.filter((a) => a.applicationId && isApplicationId(a.applicationId)).at(-1)
    const job = r.job
    const mapreduce = job.framework === 'mapreduce'
    const base: JobView = {id: job.id, name: job.name, cluster: job.cluster, kind: mapreduce ? 'mapreduce' : job.kind, state: 'UNKNOWN', createdAt: job.createdAt, retries: job.retries, priority: job.priority, attempts: [], ...(job.rerunOf ? {rerunOf: job.rerunOf} : {})}
    if (!submission) return {view: base, attempts: []}
    const appId = submission.applicationId
    const app = known?.get(appId) ?? (await this.app(appId))
    const attempts = app ? await this.appAttempts(appId) : []
    const view: JobView = {
      ...base,
      state: mapreduce ? stateOfDriverProgram(app, submission.exitCode, r.runnerAlive, r.killed) : app ? stateOfApp(app.state, app.finalStatus) : 'UNKNOWN',
      attempts: attemptViews(submission, app, attempts),
      applicationId: appId,
      ...(app ? {status: `${app.state}/${app.finalStatus}`} : {}),
      ...(app?.diagnostics?.trim() && app.finalStatus !== 'SUCCEEDED' ? {diagnostics: app.diagnostics.trim()} : {}),
      ...appTimes(app),
    }
    return {view, app, attempts}
  }

  async liveJob(id: string): Promise<LiveJob> {
    return this.live(await this.record(id))
  }

  async status(id: string): Promise<JobView> {
    return (await this.liveJob(id)).view
  }

  async statusMany(ids: string[]): Promise<Map<string, JobView>> {
    ids.forEach(validateJobId)
    if (ids.length === 0) return new Map()
    const views = await mapLimit(await this.records(ids), 8, async (r) => (await this.live(r)).view)
    return new Map(views.map((v) => [v.id, v]))
  }

  /** Jobs from their records on the head, each with its live state, plus the ResourceManager's own application list. */
  async list(): Promise<JobList> {
    const [all, apps] = await Promise.all([this.records(), this.apps()])
    const byId = new Map(apps.map((a) => [a.id, a]))
    const jobs = (await mapLimit(all, 8, async (r) => (await this.live(r, byId)).view)).sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    const applications = apps
      .map((a) => ({id: a.id, name: a.name, state: a.state === 'FINISHED' ? `${a.state}/${a.finalStatus}` : a.state, cores: Math.max(0, a.allocatedVCores ?? 0), durationMs: Math.max(0, a.elapsedTime ?? 0), started: a.startedTime ?? 0}))
      .sort((a, b) => a.started - b.started)
      .map(({started: _, ...a}) => a)
    return {cluster: this.ctx.cluster, jobs, applications}
  }

  /** Asks the ResourceManager to kill the application, then waits (bounded) until it reports it ended. */
  async kill(id: string): Promise<JobView> {
    const r = await this.record(id)
    let {view, app} = await this.live(r)
    // A MapReduce job's main class goes too (it would submit its next job), once its application is killed.
    const stopRunner = () => (r.job.framework === 'mapreduce' ? this.session.run(records.killRunnerScript(this.jobDir(id)), {label: 'stop hadoop jar'}) : Promise.resolve(''))
    if (!view.applicationId || TERMINAL.has(view.state)) {
      if (r.runnerAlive) await stopRunner()
      return r.runnerAlive ? this.status(id) : view
    }
    if (app && !TERMINAL.has(stateOfApp(app.state, app.finalStatus))) await rmRequest(this.session, this.ctx.head.address, `/ws/v1/cluster/apps/${encodeURIComponent(view.applicationId)}/state`, {method: 'PUT', body: JSON.stringify({state: 'KILLED'})})
    await stopRunner()
    const deadline = Date.now() + KILL_WAIT_MS
    while (!TERMINAL.has(view.state) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 500))
      view = await this.status(id)
    }
    return view
  }

  /** A new job from the record: the same spec and staged files (refused once those are gone from the head). */
  async rerun(id: string): Promise<JobView> {
    const {job} = await this.record(id)
    const local = [job.staged.app, ...job.staged.jars, ...job.staged.files, ...job.staged.pyFiles].filter((p) => !isUrl(p))
    const missing = (await this.session.run(js.missingFilesScript(local), {label: 'check staged files'})).trim()
    if (missing) throw new UsageError(`the files of job ${id} are no longer on the cluster (${missing.split('\n')[0]}): submit its spec again`)
    return this.submit(job.spec, {rerunOf: job.id, staged: job.staged, framework: job.framework, s3Props: job.s3Props})
  }

  /** `yarn logs` of the application's latest ApplicationMaster container, run on the head: its output and exit code. */
  async aggregatedLogs(applicationId: string): Promise<{code: number | null; output: string}> {
    const r = await this.session.exec(js.aggregatedLogsScript({layout: this.ctx.layout, hadoopHome: this.ctx.hadoopHome, applicationId}), {label: 'yarn logs', timeoutMs: 120_000})
    return {code: r.code, output: r.stdout}
  }

  /** The host (and its session) whose private address is `address`: where a container ran. */
  async hostAt(address: string): Promise<{host: Host; session: SshSession} | undefined> {
    const hosts = await this.ctx.hosts()
    return hosts.find((h) => h.host.privateAddress === address) ?? hosts.find((h) => h.host.target.host === address)
  }
}
