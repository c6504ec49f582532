import type {JobSpec} from '../../jobs/spec.js'
import {pollJobs, TERMINAL} from '../../jobs/states.js'
import type {JobList, JobView} from '../../output/results.js'
import {mapLimit} from '../../remote/fanout.js'
import type {Host} from '../../providers/provider.js'
import type {SshSession} from '../../remote/session.js'
import type {JobService, JobsInput, LoadedJob, LogOptions} from '../engine.js'
import type {SparkEngine, SparkHostContext} from './engine.js'
import {readLogScript} from './job-scripts.js'
import {SparkJobs} from './jobs.js'
import {masterStatus} from './master-api.js'

/** Spark standalone's jobs behind the engine seam: records on the head, state from the master's REST API. */
export class SparkJobService implements JobService {
  readonly takesS3Access = true

  private constructor(
    private readonly jobs: SparkJobs,
    private readonly head: SparkHostContext,
    private readonly log: (line: string) => void,
  ) {}

  static async open(engine: SparkEngine, head: SparkHostContext, input: JobsInput): Promise<SparkJobService> {
    const {cluster} = input
    const sparkHome = await engine.sparkHome(head)
    if (!sparkHome) throw new Error(`Spark is not set up on the head of ${cluster}: rerun 'cms cluster create -n ${cluster}'`)
    if (!head.facts.python3) throw new Error(`python3 is missing on the head of ${cluster}: cms keeps job records with it`)
    let connected: Promise<Array<{host: Host; session: SshSession}>> | undefined
    const jobs = new SparkJobs({
      cluster,
      head,
      headHost: head.host,
      sparkHome,
      sparkVersion: input.settings.sparkVersion ?? 'unknown',
      hosts: () =>
        (connected ??= mapLimit(
          input.hosts.filter((h) => h.state !== 'stopped'),
          input.parallel,
          async (host) => ({host, session: host === head.host ? head.session : await input.connect(host)}),
        )),
    })
    return new SparkJobService(jobs, head, input.log)
  }

  async submit(job: LoadedJob): Promise<JobView> {
    const view = await this.jobs.submit((job as LoadedJob & {spec: JobSpec}).spec, undefined, job.s3)
    this.log(`Submitted ${view.id} (${view.kind === 'jvm' ? `REST, cluster mode, ${view.attempts[0]?.submissionId}` : 'client mode on the head'})`)
    return view
  }

  wait(ids: string[], timeoutMs: number, log: (line: string) => void): Promise<JobView[]> {
    return pollJobs(ids, (id) => this.jobs.status(id), timeoutMs, log)
  }

  /** Jobs from their records on the head, each with its live state, plus the master's own application list. */
  async list(): Promise<JobList> {
    const [jobs, status] = await Promise.all([this.jobs.list(), masterStatus(this.head.session, this.head.address)])
    const applications = [...(status.activeapps ?? []), ...(status.completedapps ?? [])].map((a) => ({
      id: a.id,
      name: a.name,
      state: a.state,
      cores: 'cores' in a ? (a as {cores: number}).cores : 0,
      durationMs: a.duration,
    }))
    return {cluster: this.jobs.cluster, jobs, applications}
  }

  status(id: string): Promise<JobView> {
    return this.jobs.status(id)
  }

  statusMany(ids: string[]): Promise<Map<string, JobView>> {
    return this.jobs.statusMany(ids)
  }

  kill(id: string): Promise<JobView> {
    return this.jobs.kill(id)
  }

  rerun(id: string): Promise<JobView> {
    return this.jobs.rerun(id)
  }

  /**
   * Writes the latest attempt's driver output: stdout to `out`, stderr to `err`. With follow, keeps reading new
   * output until the job ends (bounded by timeoutMs).
   */
  async logs(id: string, opts: LogOptions): Promise<JobView> {
    const deadline = Date.now() + opts.timeoutMs
    const offsets = new Map<string, number>()
    let view: JobView | undefined
    let lastRead = false
    for (let round = 0; round < 1_000_000; round++) {
      const found = await this.jobs.logSources(id)
      view = found.view
      for (const source of found.sources) {
        const offset = offsets.get(source.path) ?? 0
        const chunk = await source.session.run(readLogScript(source.path, offset), {label: 'read job log'})
        offsets.set(source.path, offset + Buffer.byteLength(chunk))
        if (chunk) (source.stream === 'stdout' ? opts.out : opts.err)(chunk)
      }
      if (!opts.follow || lastRead || Date.now() > deadline || opts.signal?.aborted) break
      // Once the job has ended, one more read after a pause picks up output still being flushed.
      lastRead = TERMINAL.has(view.state)
      await new Promise((r) => setTimeout(r, 1000))
    }
    return view!
  }
}
