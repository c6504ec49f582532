import type {JobSpec} from '../../jobs/spec.js'
import {pollJobs} from '../../jobs/states.js'
import type {JobList, JobView} from '../../output/results.js'
import type {Host} from '../../providers/provider.js'
import {mapLimit} from '../../remote/fanout.js'
import {hostFacts} from '../../remote/host-facts.js'
import type {SshSession} from '../../remote/session.js'
import type {JobService, JobsInput, LoadedJob, LogOptions} from '../engine.js'
import type {HostContext} from '../host-context.js'
import {readLogScript} from '../spark/job-scripts.js'
import {containerLogDir} from './job-scripts.js'
import {amContainer, logsPending, splitYarnLogs, TERMINAL} from './job-state.js'
import {HadoopJobs} from './jobs.js'
import {hadoopLayout} from './layout.js'

type Stream = 'stdout' | 'stderr'
const STREAMS: readonly Stream[] = ['stdout', 'stderr']
/** How long `logs` of an ended application waits for its logs to be aggregated before it says so. */
const AGGREGATION_WAIT_MS = 45_000

/**
 * Hadoop's jobs behind the engine seam: the portable spec as Spark on YARN (cluster deploy mode), records on the
 * head, state from the ResourceManager's REST API, logs from the NodeManager running the ApplicationMaster while
 * it runs and from YARN's aggregated logs once it ended.
 */
export class HadoopJobService implements JobService {
  readonly takesS3Access = true

  private constructor(
    private readonly jobs: HadoopJobs,
    private readonly log: (line: string) => void,
  ) {}

  static async open(head: HostContext, input: JobsInput): Promise<HadoopJobService> {
    const {cluster, settings} = input
    const {hadoopHome, sparkHome} = settings
    if (!hadoopHome || !sparkHome) throw new Error(`Hadoop is not set up on the head of ${cluster}: rerun 'cms cluster create -n ${cluster}'`)
    if (!head.facts.python3) throw new Error(`python3 is missing on the head of ${cluster}: cms keeps job records with it`)
    let connected: Promise<Array<{host: Host; session: SshSession}>> | undefined
    const jobs = new HadoopJobs({
      cluster,
      head,
      layout: hadoopLayout(head.facts.home, cluster),
      hadoopHome,
      sparkHome,
      log: input.log,
      hosts: () =>
        (connected ??= mapLimit(
          input.hosts.filter((h) => h.state !== 'stopped'),
          input.parallel,
          async (host) => ({host, session: host === head.host || host.id === head.host.id ? head.session : await input.connect(host)}),
        )),
    })
    return new HadoopJobService(jobs, input.log)
  }

  async submit(job: LoadedJob): Promise<JobView> {
    const view = await this.jobs.submit((job as LoadedJob & {spec: JobSpec}).spec, undefined, job.s3)
    this.log(`Submitted ${view.id} (${view.kind === 'mapreduce' ? 'MapReduce, hadoop jar on the head' : 'Spark on YARN, cluster mode'}, ${view.applicationId})`)
    return view
  }

  wait(ids: string[], timeoutMs: number, log: (line: string) => void): Promise<JobView[]> {
    // A look is two small ResourceManager reads and one record read on the head: cheap enough four times a second,
    // so `--wait` returns within a quarter second of the application's end, as spark-submit's own client does.
    return pollJobs(ids, (id) => this.jobs.status(id), timeoutMs, log, {maxIntervalMs: 250})
  }

  list(): Promise<JobList> {
    return this.jobs.list()
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
   * Writes the output of the application's latest ApplicationMaster (where a cluster-mode driver runs): stdout to
   * `out`, stderr to `err`. While it runs, read from the NodeManager's log folder on its host; once it ended, from
   * YARN's aggregated logs (what was already written is not repeated). With follow, until the job ends (bounded).
   */
  async logs(id: string, opts: LogOptions): Promise<JobView> {
    const deadline = Date.now() + opts.timeoutMs
    const written = new Map<string, number>()
    const emit = (key: string, stream: Stream, text: string, fromByte = 0) => {
      const buf = Buffer.from(text, 'utf8')
      const done = written.get(key) ?? 0
      const fresh = buf.subarray(Math.max(0, done - fromByte))
      if (fresh.length === 0) return
      written.set(key, fromByte + buf.length)
      ;(stream === 'stdout' ? opts.out : opts.err)(fresh.toString('utf8'))
    }
    for (let round = 0; ; round++) {
      const live = await this.jobs.liveJob(id)
      const {view, app} = live
      const am = amContainer(app, live.attempts)
      const ended = TERMINAL.has(view.state)
      if (view.kind === 'mapreduce') {
        // `hadoop jar` semantics: the job's output is its main class's, on the head.
        const key = 'driver/stdout'
        const from = written.get(key) ?? 0
        const chunk = await this.jobs.headSession.run(readLogScript(this.jobs.driverLog(id), from), {label: 'read job log'})
        if (chunk) emit(key, 'stdout', chunk, from)
      } else if (am && view.applicationId) {
        if (ended) {
          const got = await this.endedLogs(view.applicationId, am, (key, stream, text) => emit(key, stream, text), opts.follow ? deadline : Date.now() + AGGREGATION_WAIT_MS)
          if (!got) opts.err(`${id}: the logs of ${view.applicationId} are not aggregated yet: try again in a moment\n`)
        } else {
          await this.localLogs(view.applicationId, am, (key, stream, text, from) => emit(key, stream, text, from), written)
        }
      }
      if (!opts.follow || ended || Date.now() > deadline || opts.signal?.aborted) return view
      await new Promise((r) => setTimeout(r, Math.min(2000, 500 + round * 250)))
    }
  }

  /** Reads what is new in the container's stdout and stderr on its host (the NodeManager's log folder). */
  private async localLogs(
    applicationId: string,
    am: {containerId: string; host: string},
    emit: (key: string, stream: Stream, text: string, fromByte: number) => void,
    written: Map<string, number>,
  ): Promise<boolean> {
    const target = await this.jobs.hostAt(am.host)
    if (!target) return false
    const dir = containerLogDir(hadoopLayout((await hostFacts(target.session)).home, this.jobs.cluster), applicationId, am.containerId)
    let any = false
    for (const stream of STREAMS) {
      const key = `${am.containerId}/${stream}`
      const from = written.get(key) ?? 0
      const chunk = await target.session.run(readLogScript(`${dir}/${stream}`, from), {label: 'read container log'})
      if (chunk) {
        any = true
        emit(key, stream, chunk, from)
      }
    }
    return any
  }

  /**
   * The ended application's ApplicationMaster output: aggregated by YARN (a few seconds after the end), or, until
   * then, still in the NodeManager's log folder. Waits until `until` for one of them; false if neither came.
   */
  private async endedLogs(applicationId: string, am: {containerId: string; host: string}, emit: (key: string, stream: Stream, text: string) => void, until: number): Promise<boolean> {
    for (;;) {
      const {code, output} = await this.jobs.aggregatedLogs(applicationId)
      const files = splitYarnLogs(output).filter((f) => f.container === am.containerId && (STREAMS as readonly string[]).includes(f.file))
      if (files.length > 0) {
        for (const stream of STREAMS) for (const f of files.filter((x) => x.file === stream)) emit(`${am.containerId}/${stream}`, stream, f.contents)
        return true
      }
      if (code !== 0 && !logsPending(output)) throw new Error(`yarn logs of ${applicationId} failed: ${output.trim().split('\n').slice(-5).join(' ')}`)
      // Not aggregated yet: the NodeManager still holds the files (it deletes them once they are uploaded).
      const written = new Map<string, number>()
      if (await this.localLogs(applicationId, am, (key, stream, text) => emit(key, stream, text), written)) return true
      if (Date.now() > until) return false
      await new Promise((r) => setTimeout(r, 2000))
    }
  }
}
