import {createHash} from 'node:crypto'
import type {Host} from '../../providers/provider.js'
import type {SshSession} from '../../remote/session.js'
import type {ClusterInfo, ClusterListEntry} from '../../output/results.js'
import type {JobOverrides} from '../../jobs/load.js'
import {Deferred, sharedPoll, waitFor} from '../coordination.js'
import type {ConvergeInput, ConvergeResult, DescribeInput, DrainInput, Endpoint, Engine, EnginePlan, HostOutcome, JobService, JobsInput, LoadedJob, NotebookInput, PlanInput} from '../engine.js'
import {hostContext, type HostContext} from '../host-context.js'
import {clusterInfo} from './describe.js'
import {checkSparkDistSource, distFromSettings, distSettings, resolveSparkDist, sparkArtifact} from './dist.js'
import {SPARK_HOST_PACKAGES, sparkLayout, SPARK_PORTS, type SparkLayout} from './layout.js'
import {aliveWorkerHosts, masterStatus, type MasterStatus} from './master-api.js'
import * as scripts from './scripts.js'
import {sharedWorkerMemory} from './shared-machine.js'
import {hdfsListFields, withHdfs, type NameNodeInfoBean} from '../hadoop/describe.js'
import {checkDataNodesLeft, defaultFs, drainDataNode, hasHdfs, hdfsEndpoint, HdfsBeside, namenodeInfoIfAny, planHdfs} from '../hadoop/hdfs-beside.js'
import {hadoopLayout} from '../hadoop/layout.js'
import {stopEverythingScript} from '../hadoop/scripts.js'
import {driverOnHead, type NotebookSpark} from '../../notebook/server-scripts.js'
import type {NotebookServer} from '../../notebook/notebook-server.js'

export interface SparkSettings {
  daemonMemory: string
  workerCores?: number
  workerMemory?: string
  /** How long to wait for the master and for workers to register. */
  readyTimeoutMs: number
}

export const DEFAULT_SPARK_SETTINGS: SparkSettings = {daemonMemory: '512m', readyTimeoutMs: 120_000}

/** Worker settings are kept in the manifest so that `add` configures new hosts like the existing ones. */
export function settingsToRecord(s: SparkSettings): Record<string, string> {
  const record: Record<string, string> = {daemonMemory: s.daemonMemory}
  if (s.workerCores) record.workerCores = String(s.workerCores)
  if (s.workerMemory) record.workerMemory = s.workerMemory
  return record
}

export function settingsFromRecord(record: Record<string, string>): SparkSettings {
  return {
    ...DEFAULT_SPARK_SETTINGS,
    daemonMemory: record.daemonMemory || DEFAULT_SPARK_SETTINGS.daemonMemory,
    workerCores: record.workerCores ? Number(record.workerCores) : undefined,
    workerMemory: record.workerMemory || undefined,
  }
}

export interface SparkHostContext extends HostContext {
  layout: SparkLayout
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16)
}

/** Spark standalone: a master on the head, a worker on every host, the distribution shipped once from the client. */
export class SparkEngine implements Engine {
  readonly name = 'spark'

  async hostContext(session: SshSession, host: Host, cluster: string, distId = 'unknown', archiveExt = '.tgz'): Promise<SparkHostContext> {
    const ctx = await hostContext(session, host)
    return {...ctx, layout: sparkLayout(ctx.facts.home, cluster, distId, archiveExt)}
  }

  private withLayout(ctx: HostContext, cluster: string): SparkHostContext {
    return {...ctx, layout: sparkLayout(ctx.facts.home, cluster, 'unknown', '.tgz')}
  }

  /**
   * The distribution: --spark-dist when given, else the one the cluster already runs (add), else the default.
   * Worker settings: the flags, else the recorded ones; hosts sharing one machine split its memory.
   */
  async plan(input: PlanInput): Promise<EnginePlan> {
    const {options, recorded} = input
    const given = options['spark-dist'] as string | undefined
    const recordedDist = recorded && !given ? distFromSettings(recorded) : undefined
    const dist = recordedDist ?? (await resolveSparkDist(checkSparkDistSource(given), input.log))
    let settings: SparkSettings = recorded
      ? settingsFromRecord(recorded)
      : {...DEFAULT_SPARK_SETTINGS, workerCores: options['worker-cores'] as number | undefined, workerMemory: options['worker-memory'] as string | undefined}
    if (!recorded && !settings.workerMemory && input.provider.sharedMachine) {
      const machine = await input.provider.sharedMachine()
      const workerMemory = sharedWorkerMemory(machine, input.totalHosts)
      input.log(`Each worker offers ${workerMemory}: ${input.totalHosts} hosts share this machine's ${(machine.memoryMb / 1024).toFixed(1)} GiB (--worker-memory to change)`)
      settings = {...settings, workerMemory}
    }
    const hdfs = await planHdfs(options, recorded, input.totalHosts, input.log)
    return {
      artifacts: [sparkArtifact(dist), ...(hdfs.artifact ? [hdfs.artifact] : [])],
      settings: {...distSettings(dist), ...settingsToRecord(settings), ...hdfs.settings},
      hostPackages: SPARK_HOST_PACKAGES,
    }
  }

  async converge(input: ConvergeInput): Promise<ConvergeResult> {
    const {cluster, shipment} = input
    const [dist, hadoopDist] = shipment.artifacts
    const settings = settingsFromRecord(input.plan.settings)
    const hdfs = hadoopDist ? new HdfsBeside(cluster, hadoopDist, Number(input.plan.settings.replication) || 1) : undefined
    const namenodeReady = new Deferred<HostContext>()
    const head = input.hosts[0]
    const masterStarted = new Deferred<SparkHostContext>()
    const masterReady = new Deferred<SparkHostContext>()
    const status = sharedPoll(masterStarted.promise, (ctx) => masterStatus(ctx.session, ctx.address))
    let sparkHome: string | undefined

    const outcomes = await input.perHost(async (host, report): Promise<HostOutcome> => {
      const isHead = host === head
      try {
        report.update('connecting')
        const base = await input.connect(host)
        const ctx: SparkHostContext = {...base, layout: sparkLayout(base.facts.home, cluster, dist.id, dist.archiveExt)}
        if (!ctx.facts.java) throw new Error('java not found on the host: install a Java 17+ runtime (Debian: openjdk-17-jre-headless)')
        const [delivery] = await shipment.deliver(ctx, isHead, report)
        const home = await shipment.root(ctx, dist)
        if (isHead) sparkHome = home
        let hdfsDone: string[] = []
        let hdfsConf: Awaited<ReturnType<HdfsBeside['configure']>> | undefined
        if (hdfs && isHead) {
          report.update('starting the NameNode')
          hdfsConf = await hdfs.configure(ctx, shipment, ctx.address)
          hdfsDone = await hdfs.startNameNode(ctx, hdfsConf, input.hosts.map((h) => h.privateAddress ?? h.target.host))
          namenodeReady.resolve(ctx)
        }
        const headCtx = isHead ? ctx : await masterReady.promise
        const config: scripts.SparkConfig = {
          cluster,
          sparkHome: home,
          privateAddress: ctx.address,
          headAddress: headCtx.address,
          daemonMemory: settings.daemonMemory,
          workerCores: settings.workerCores,
          workerMemory: settings.workerMemory,
          defaultFs: hdfs ? defaultFs(headCtx.address) : undefined,
        }
        const env = scripts.sparkEnvFile(ctx.layout, config)
        const defaults = scripts.sparkDefaultsFile(config)
        report.update('configuring')
        await ctx.session.run(scripts.writeConfigScript(ctx.layout, env, defaults), {label: 'write Spark config'})
        const configHash = hash(env + defaults)
        let master: string | undefined
        if (isHead) {
          report.update('starting master')
          master = (await ctx.session.run(scripts.startDaemonScript(ctx.layout, home, 'master', configHash, headCtx.address), {label: 'start master', timeoutMs: 120_000})).trim()
          masterStarted.resolve(ctx)
          await waitFor(settings.readyTimeoutMs, async () => (await status()).status === 'ALIVE', 'the Spark master did not come up')
          masterReady.resolve(ctx)
        } else {
          report.update('waiting for the master')
          await masterReady.promise
        }
        if (hdfs) {
          report.update('starting the DataNode')
          const namenode = await namenodeReady.promise
          hdfsConf ??= await hdfs.configure(ctx, shipment, namenode.address)
          hdfsDone.push(await hdfs.startDataNode(ctx, hdfsConf, namenode))
        }
        report.update('starting worker')
        const worker = (await ctx.session.run(scripts.startDaemonScript(ctx.layout, home, 'worker', configHash, headCtx.address), {label: 'start worker', timeoutMs: 120_000})).trim()
        report.update('waiting for the worker to register')
        await waitFor(settings.readyTimeoutMs, async () => aliveWorkerHosts(await status()).has(ctx.address), `the worker on ${ctx.address} did not register with the master (see ${ctx.layout.logDir})`)
        return {address: ctx.address, detail: [`master ${master ?? '-'}`, `worker ${worker}`, ...hdfsDone, `Spark ${delivery}`].join(', ')}
      } catch (error) {
        if (isHead) {
          const reason = new Error(`the head ${head.id} failed: ${(error as Error).message}`)
          shipment.headFailed(reason)
          namenodeReady.reject(reason)
          masterStarted.reject(reason)
          masterReady.reject(reason)
        }
        throw error
      }
    })

    const headAddress = outcomes[0]?.value?.address
    return {outcomes, settings: headAddress && sparkHome ? {sparkHome, masterUrl: scripts.masterUrl(headAddress)} : {}}
  }

  async status(head: SshSession, headAddress: string): Promise<MasterStatus> {
    return masterStatus(head, headAddress)
  }

  checkRemovable(_host: Host, hosts: Host[], settings: Record<string, string>, removing: Host[]): void {
    if (settings.hdfs === 'true') checkDataNodesLeft(hosts, removing, Number(settings.replication) || 1, true)
  }

  /** Decommissions this host's worker (executors migrate blocks), stops it, and waits until the master drops it. */
  async drain(input: DrainInput): Promise<string> {
    const ctx = this.withLayout(input.ctx, input.cluster)
    const sparkHome = await this.sparkHome(ctx)
    if (!sparkHome) return 'no Spark worker'
    input.report.update('decommissioning worker')
    await ctx.session.run(scripts.decommissionScript(ctx.layout, sparkHome, input.graceSeconds), {label: 'decommission worker', timeoutMs: (input.graceSeconds + 60) * 1000})
    await waitFor(60_000, async () => !aliveWorkerHosts(await masterStatus(input.head.session, input.head.address)).has(ctx.address), `the master still lists the worker on ${ctx.address} as alive`)
    if (!(await hasHdfs(input.head, input.cluster))) return 'decommissioned'
    input.report.update('decommissioning the DataNode')
    return `decommissioned, ${await drainDataNode(ctx, input.head, input.cluster, input.graceSeconds)}`
  }

  async cleanup(base: HostContext, cluster: string): Promise<number> {
    const ctx = this.withLayout(base, cluster)
    // HDFS beside Spark first: the Spark cleanup removes the folder the Hadoop daemons are found by.
    await ctx.session.run(stopEverythingScript(hadoopLayout(ctx.facts.home, cluster)), {label: 'stop HDFS', timeoutMs: 120_000})
    await ctx.session.run(scripts.cleanupScript(ctx.layout, ctx.facts.home), {label: 'remove Spark files and processes', timeoutMs: 120_000})
    return Number((await ctx.session.run(scripts.processCheckScript(ctx.layout), {label: 'check processes'})).trim()) || 0
  }

  async sparkHome(ctx: SparkHostContext): Promise<string | undefined> {
    const out = await ctx.session.exec(`. ${scripts.shq(`${ctx.layout.confDir}/spark-env.sh`)} 2>/dev/null && printf '%s' "$SPARK_HOME"`)
    return out.stdout.trim() || undefined
  }

  async describe(input: DescribeInput): Promise<ClusterInfo> {
    let status: MasterStatus | undefined
    let error = input.headError
    let namenode: NameNodeInfoBean | undefined
    if (input.head) {
      const head = await hostContext(input.head.session, input.head.host)
      const [master, hdfs] = await Promise.allSettled([masterStatus(input.head.session, input.head.address), namenodeInfoIfAny(head, input.cluster)])
      if (master.status === 'fulfilled') status = master.value
      else error = (master.reason as Error).message
      if (hdfs.status === 'fulfilled') namenode = hdfs.value
      else error = [error, `HDFS: ${(hdfs.reason as Error).message}`].filter(Boolean).join('; ')
    }
    const info = clusterInfo(input.cluster, input.provider, input.hosts, status, input.head?.address, error)
    return namenode && input.head ? withHdfs(info, namenode, input.head.address) : info
  }

  /** A notebook's driver runs in its kernel on the head (client mode) and asks the master for executors on the workers. */
  async notebookServer(input: NotebookInput): Promise<NotebookServer> {
    const {HeadNotebookServer} = await import('../../notebook/head-server.js')
    return new HeadNotebookServer(input.cluster, input.head, () => this.notebookSpark(input), input.log)
  }

  async notebookSpark(input: {cluster: string; head: HostContext; settings: Record<string, string>}): Promise<NotebookSpark> {
    const ctx = this.withLayout(input.head, input.cluster)
    const sparkHome = input.settings.sparkHome ?? (await this.sparkHome(ctx))
    if (!sparkHome) throw new Error(`Spark is not configured on the head of ${input.cluster}: 'cms cluster create -n ${input.cluster}' finishes it`)
    return {
      sparkHome,
      env: {SPARK_CONF_DIR: ctx.layout.confDir},
      submitArgs: ['--master', scripts.masterUrl(input.head.address), ...driverOnHead(input.head.address)],
    }
  }

  hdfs(input: {cluster: string; head: HostContext}): Promise<{address: string; port: number} | undefined> {
    return hdfsEndpoint(input.head, input.cluster)
  }

  listFields(info: ClusterInfo): Partial<ClusterListEntry> {
    if (!info.master) return {error: info.masterError}
    return {
      ...(info.hdfs ? hdfsListFields(info.hdfs) : {}),
      masterStatus: info.master.status,
      aliveWorkers: info.master.aliveWorkers,
      cores: info.master.cores,
      memoryMb: info.master.memoryMb,
      activeApps: info.master.activeApps.length,
    }
  }

  async loadJobs(files: string[], overrides: JobOverrides): Promise<LoadedJob[]> {
    const [{loadJobFiles}, {checkHostVolumes}] = await Promise.all([import('../../jobs/load.js'), import('../../jobs/volumes.js')])
    const specs = loadJobFiles(files, overrides)
    for (const spec of specs) checkHostVolumes(spec, 'Spark standalone')
    return specs.map((spec, i) => ({file: files[i], name: spec.name, spec}))
  }

  async openJobs(input: JobsInput): Promise<JobService> {
    const {SparkJobService} = await import('./job-service.js')
    return SparkJobService.open(this, this.withLayout(input.head, input.cluster), input)
  }

  async endpoints(input: {cluster: string; head: HostContext}): Promise<Endpoint[]> {
    const address = input.head.address
    return [
      {name: 'ui', description: 'Spark master web UI', address, port: SPARK_PORTS.masterUi, scheme: 'http'},
      {name: 'rest', description: 'Spark REST submission API (unauthenticated: local only)', address, port: SPARK_PORTS.rest, scheme: 'http'},
    ]
  }

  /** The local URLs, for scripts run with `cms cluster tunnel -- COMMAND` (Spark itself has no client variables). */
  async clientEnvironment(input: {local: Record<string, string>}): Promise<Record<string, string>> {
    return {CMS_SPARK_UI_URL: input.local.ui, CMS_SPARK_REST_URL: input.local.rest}
  }
}

export {SPARK_PORTS}
