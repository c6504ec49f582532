import type {JobOverrides} from '../../jobs/load.js'
import {readManifest} from '../../cluster/manifest.js'
import type {ClusterInfo, ClusterListEntry} from '../../output/results.js'
import type {Host} from '../../providers/provider.js'
import {UsageError} from '../../remote/errors.js'
import {hostFacts} from '../../remote/host-facts.js'
import type {SshSession} from '../../remote/session.js'
import {shq} from '../../remote/shell.js'
import type {Artifact} from '../artifact.js'
import {Deferred, sharedPoll, waitFor} from '../coordination.js'
import {sharedLine} from '../../output/progress.js'
import type {ConvergeInput, ConvergeResult, DescribeInput, DrainInput, Endpoint, Engine, EnginePlan, HostOutcome, JobService, JobsInput, LoadedJob, NotebookInput, PlanInput} from '../engine.js'
import type {HostContext} from '../host-context.js'
import {checkSparkDistSource, distFromSettings, distSettings, resolveSparkDist, sparkArtifact} from '../spark/dist.js'
import {classDataOnHead, keepClassData, shippedClassDataPath} from './class-data.js'
import {readHadoopState} from './cluster-state.js'
import {checkDataNodesLeft, hadoopHomeOn} from './hdfs-beside.js'
import {dataNodesByAddress, hadoopClusterInfo, hdfsListFields, nodeManagersByAddress} from './describe.js'
import {checkHadoopDistSource, hadoopDistFromSettings, hadoopDistSettings, resolveHadoopDist} from './dist.js'
import {HADOOP_HOST_PACKAGES, HEAD_DAEMONS, WORKER_DAEMONS, hadoopLayout, type HadoopDaemon, type HadoopLayout} from './layout.js'
import * as scripts from './scripts.js'
import {clientConf, HADOOP_PORTS, hostPort, namenodeUri, renderHadoopConf, replicationFor} from './site-config.js'
import {parsePublish, publishSparkScript, sparkHdfsDir, sparkOnHdfs} from './spark-archive.js'
import {sparkDefaultsForTunnel, sparkDefaultsForYarn, sparkEnvForYarn} from './spark-on-yarn.js'
import {driverOnHead, type NotebookSpark} from '../../notebook/server-scripts.js'
import type {NotebookServer} from '../../notebook/notebook-server.js'

const READY_TIMEOUT_MS = 180_000


function addressOf(host: Host): string {
  return host.privateAddress ?? host.target.host
}

/** The settings a cluster keeps in its manifest, so that `add` and reruns configure hosts alike. */
export interface HadoopSettings {
  headComputes: boolean
  /** HDFS's replication factor, fixed at create (a change would restart every daemon). */
  replication: number
  /** Memory each host is taken to have (hosts sharing one machine split it); absent: each host's own. */
  hostMemoryMb?: number
}

export function hadoopSettingsFromRecord(record: Record<string, string>): HadoopSettings {
  return {
    headComputes: record.headComputes !== 'false',
    replication: Number(record.replication) || 1,
    hostMemoryMb: Number(record.hostMemoryMb) || undefined,
  }
}

/**
 * Hadoop: a NameNode and a ResourceManager on the head, a DataNode and a NodeManager on every computing host (the
 * head too unless --head-compute=false), Spark shipped beside it so jobs run as Spark on YARN. Every daemon binds its
 * host's private address; Hadoop's "simple" authentication trusts the user name a client claims, so nothing of the
 * cluster is reachable from outside its private network (cms reaches the web UIs and REST APIs over SSH).
 */
export class HadoopEngine implements Engine {
  readonly name = 'hadoop'

  async plan(input: PlanInput): Promise<EnginePlan> {
    const {options, recorded} = input
    const hadoopGiven = options['hadoop-dist'] as string | undefined
    const hadoop = (!hadoopGiven && recorded ? hadoopDistFromSettings(recorded) : undefined) ?? (await resolveHadoopDist(checkHadoopDistSource(hadoopGiven), input.log))
    const sparkGiven = options['spark-dist'] as string | undefined
    const spark = (!sparkGiven && recorded ? distFromSettings(recorded) : undefined) ?? (await resolveSparkDist(checkSparkDistSource(sparkGiven), input.log))
    let settings: HadoopSettings
    if (recorded) settings = hadoopSettingsFromRecord(recorded)
    else {
      const headComputes = options['head-compute'] !== 'false'
      const computing = headComputes ? input.totalHosts : input.totalHosts - 1
      if (computing < 1) throw new UsageError('--head-compute=false needs at least one host besides the head (-s 2 or more)')
      settings = {headComputes, replication: replicationFor(computing)}
      if (input.provider.sharedMachine) {
        const machine = await input.provider.sharedMachine()
        settings.hostMemoryMb = Math.floor(machine.memoryMb / Math.max(1, input.totalHosts))
        input.log(`Each host counts ${settings.hostMemoryMb} MB: ${input.totalHosts} hosts share this machine's ${(machine.memoryMb / 1024).toFixed(1)} GiB`)
      }
    }
    return {
      // Spark only on the head, where jobs are submitted (the other hosts get its jars from HDFS).
      artifacts: [hadoop, {...sparkArtifact(spark), headOnly: true}],
      settings: {
        ...hadoopDistSettings(hadoop),
        ...distSettings(spark),
        headComputes: String(settings.headComputes),
        replication: String(settings.replication),
        ...(settings.hostMemoryMb ? {hostMemoryMb: String(settings.hostMemoryMb)} : {}),
      },
      hostPackages: HADOOP_HOST_PACKAGES,
    }
  }

  async converge(input: ConvergeInput): Promise<ConvergeResult> {
    const {cluster, shipment} = input
    const [hadoopDist, sparkDist] = shipment.artifacts as [Artifact, Artifact]
    // The class data archive kept for the head's JVM, if any: the head decides, every host then takes it.
    const classDataChoice = new Deferred<Artifact | undefined>()
    const settings = hadoopSettingsFromRecord(input.plan.settings)
    const head = input.hosts[0]
    const headAddress = new Deferred<string>()
    const headReady = new Deferred<HostContext>()
    // When each host may start its daemons: YARN's once the head formatted HDFS (the ResourceManager starts during the
    // format; NodeManagers retry until it answers), HDFS's once the NameNode is started.
    const mayStart = {yarn: new Deferred<void>(), hdfs: new Deferred<void>()}
    const homes: {hadoop?: string; spark?: string; sparkHdfsDir?: string; pysparkZips?: string[]; jvmId?: string; classData?: string; namenodeStarted?: boolean} = {}
    const status = sharedPoll(headReady.promise, (ctx) => readHadoopState(ctx.session, ctx.address))

    const outcomes = await input.perHost(async (host, line): Promise<HostOutcome> => {
      const isHead = host === head
      const [report, sparkLine] = sharedLine(line)
      try {
        report.update('connecting')
        const ctx = await input.connect(host)
        if (!ctx.facts.java) throw new Error('java not found on the host: install a Java 17+ runtime (Debian: openjdk-17-jre-headless)')
        if (isHead) headAddress.resolve(ctx.address)
        const layout = hadoopLayout(ctx.facts.home, cluster)
        // Spark is needed only by jobs, and only on the head, where they are submitted (the other hosts get its jars
        // from HDFS): it arrives while HDFS and YARN start.
        const [hadoopDelivery] = await shipment.deliver(ctx, isHead, report, [hadoopDist])
        const sparkShipped = isHead
          ? shipment.deliver(ctx, isHead, sparkLine, [sparkDist]).then(async ([delivery]) => {
              sparkLine.update('')
              return {delivery: delivery!, home: await shipment.root(ctx, sparkDist)}
            })
          : undefined
        sparkShipped?.catch(() => undefined)
        const hadoopHome = await shipment.root(ctx, hadoopDist)
        if (isHead) {
          homes.hadoop = hadoopHome
          const {jvmId, kept} = await classDataOnHead(ctx.session, shipment, layout, hadoopHome, hadoopDist.id)
          homes.jvmId = jvmId
          classDataChoice.resolve(kept)
        } else report.update('waiting for the head')
        const classData = await classDataChoice.promise
        if (classData) await shipment.deliver(ctx, isHead, report, [classData])
        const classDataArchive = classData ? shippedClassDataPath(ctx.facts.home, classData) : undefined
        if (isHead) homes.classData = classDataArchive
        const computes = !isHead || settings.headComputes
        report.update(isHead ? 'configuring' : 'waiting for the head')
        const conf = {...renderHadoopConf({
          cluster,
          headAddress: await headAddress.promise,
          privateAddress: ctx.address,
          hadoopHome,
          dirs: layout.dirs,
          hostMemoryMb: settings.hostMemoryMb ?? (await hostMemoryMb(ctx.session)),
          hostCores: ctx.facts.cores,
          isHead,
          datanodes: settings.replication,
        }), ...scripts.cmsEnv(hadoopHome)}
        await ctx.session.run(scripts.writeConfigScript(layout, conf), {label: 'write Hadoop config'})
        await ctx.session.run(nodeManagerHostsScript(layout, ctx.address), {label: 'write the NodeManager hosts file'})
        const configHash = scripts.configHash(conf)
        const started: string[] = []
        const start = async (daemons: readonly HadoopDaemon[]) => {
          report.update(`starting ${daemons.join(' and ')}`)
          const states = await Promise.all(
            daemons.map(async (daemon) => {
              const jvm = daemon === 'nodemanager' ? [`-Djdk.net.hosts.file=${nodeManagerHostsFile(layout)}`] : []
              const state = (await ctx.session.run(scripts.startDaemonScript(layout, hadoopHome, daemon, configHash, jvm, classDataArchive), {label: `start ${daemon}`, timeoutMs: 120_000})).trim()
              if (daemon === 'namenode') homes.namenodeStarted = state !== 'running'
              return `${daemon} ${state}`
            }),
          )
          started.push(...states)
        }
        const headUp = async () => {
          report.update('waiting for the NameNode and the ResourceManager')
          await waitFor(READY_TIMEOUT_MS, async () => (await readHadoopState(ctx.session, ctx.address)).rmState === 'STARTED', `the NameNode or the ResourceManager did not come up (see ${layout.logDir})`)
        }
        const registered = async () => {
          report.update('waiting for the head')
          await Promise.all([mayStart.yarn.promise.then(() => start(['nodemanager'])), mayStart.hdfs.promise.then(() => start(['datanode']))])
          await headReady.promise
          report.update('waiting for the DataNode and the NodeManager to register')
          await waitFor(
            READY_TIMEOUT_MS,
            async () => {
              const state = await status()
              const dn = dataNodesByAddress(state.namenode).get(ctx.address)
              const nm = nodeManagersByAddress(state.nodes).get(ctx.address)
              return dn?.state === 'live' && nm?.state === 'RUNNING'
            },
            `the DataNode or the NodeManager on ${ctx.address} did not register (see ${layout.logDir})`,
          )
        }
        // A computing host's daemons start as soon as the head allows (the head's own too).
        const registering = computes ? registered() : undefined
        registering?.catch(() => undefined)
        let headStarted: Promise<void> | undefined
        if (isHead) {
          // Hosts removed earlier are in the exclude files: one coming back (or its address reused) must not stay
          // excluded. Daemons starting now read the files; ones already running are told once they answer.
          const back = (await ctx.session.run(scripts.includeHostsScript(layout, input.hosts.map(addressOf)), {label: 'include the hosts'})).trim()
          const settled = back !== 'changed'
          report.update('formatting HDFS')
          // The ResourceManager needs no HDFS: it starts while the NameNode is formatted (a JVM of its own).
          const rmStarted = settled ? start(['resourcemanager']) : undefined
          rmStarted?.catch(() => undefined)
          const formatted = (await ctx.session.run(scripts.formatScript(layout, hadoopHome, `cms-${cluster}`, classDataArchive), {label: 'format the NameNode', timeoutMs: 120_000})).trim()
          if (formatted === 'formatted') started.push('HDFS formatted')
          if (settled) {
            mayStart.yarn.resolve()
            await Promise.all([rmStarted, start(['namenode'])])
            mayStart.hdfs.resolve()
          } else {
            await start(HEAD_DAEMONS)
            await headUp()
            await ctx.session.run(scripts.refreshNodesScript(layout, hadoopHome), {label: 'include the hosts', timeoutMs: 120_000})
            started.push('hosts re-included')
            mayStart.yarn.resolve()
            mayStart.hdfs.resolve()
          }
          headReady.resolve(ctx)
          headStarted = headUp()
          headStarted.catch(() => undefined)
        }
        // On the head, Spark's jars go into HDFS as soon as it takes files, while the NodeManagers register.
        const sparkPublished = sparkShipped?.then(async (spark) => {
          sparkLine.update(`${sparkDist.what}: waiting for HDFS to take files`)
          await waitFor(
            READY_TIMEOUT_MS,
            async () => {
              const state = await status()
              return !state.namenode.Safemode && [...dataNodesByAddress(state.namenode).values()].some((d) => d.state === 'live')
            },
            'HDFS cannot take files: no DataNode is live, or the NameNode stays in safe mode',
          )
          sparkLine.update(`putting ${sparkDist.what}'s jars into HDFS`)
          const dir = sparkHdfsDir(sparkDist.id)
          const publish = {sparkHome: spark.home, namenodeHttp: hostPort(ctx.address, HADOOP_PORTS.namenodeHttp), user: host.target.user, dir, workDir: layout.dataDir, replication: settings.replication}
          const {pyZips, published} = parsePublish(await ctx.session.run(publishSparkScript(publish), {label: `put ${sparkDist.what} into HDFS`, timeoutMs: 600_000}))
          const onHdfs = sparkOnHdfs(namenodeUri(ctx.address), dir, pyZips)
          const files = {'spark-defaults.conf': sparkDefaultsForYarn(onHdfs), 'spark-env.sh': sparkEnvForYarn(layout, spark.home, onHdfs)}
          await ctx.session.run(scripts.writeSparkConfigScript(layout, files), {label: 'write Spark config'})
          sparkLine.update('')
          Object.assign(homes, {spark: spark.home, sparkHdfsDir: dir, pysparkZips: pyZips})
          return `${sparkDist.what} ${spark.delivery}, ${sparkDist.what}'s jars ${published ? 'put into' : 'already in'} HDFS at ${dir}`
        })
        sparkPublished?.catch(() => undefined)
        // The head's own failure (its NameNode or ResourceManager) comes first: it is the cause of the rest.
        await Promise.all([headStarted, registering])
        const detail = [...started, `${hadoopDist.what} ${hadoopDelivery}`]
        if (sparkPublished) {
          report.update(`waiting for ${sparkDist.what}`)
          detail.push(await sparkPublished)
        }
        return {address: ctx.address, detail: detail.join(', ')}
      } catch (error) {
        if (isHead) {
          const reason = new Error(`the head ${head.id} failed: ${(error as Error).message}`)
          shipment.headFailed(reason)
          headAddress.reject(reason)
          classDataChoice.reject(reason)
          headReady.reject(reason)
          mayStart.yarn.reject(reason)
          mayStart.hdfs.reject(reason)
        }
        throw error
      }
    })

    if (!outcomes[0]?.ok || !homes.hadoop) return {outcomes, settings: {}}
    const headCtx = await headReady.promise
    // A NameNode with blocks leaves safe mode once the DataNodes reported them.
    await waitFor(READY_TIMEOUT_MS, async () => !(await readHadoopState(headCtx.session, headCtx.address)).namenode.Safemode, 'the NameNode stayed in safe mode').catch((e: Error) => input.log(e.message))
    if (homes.jvmId) await keepClassData({
      session: headCtx.session,
      layout: hadoopLayout(headCtx.facts.home, cluster),
      hadoopHome: homes.hadoop,
      hadoopId: hadoopDist.id,
      jvmId: homes.jvmId,
      shipped: homes.classData,
      namenodeStartedNow: Boolean(homes.namenodeStarted),
      log: input.log,
    })
    return {outcomes, settings: {hadoopHome: homes.hadoop, sparkHome: homes.spark!, sparkHdfsDir: homes.sparkHdfsDir!, pysparkZips: homes.pysparkZips!.join(',')}}
  }

  checkRemovable(_host: Host, hosts: Host[], settings: Record<string, string>, removing: Host[]): void {
    const s = hadoopSettingsFromRecord(settings)
    checkDataNodesLeft(hosts, removing, s.replication, s.headComputes)
  }

  /** Decommissions the host's DataNode (its blocks copied elsewhere) and NodeManager (containers finished), then stops them. */
  async drain(input: DrainInput): Promise<string> {
    const layout = hadoopLayout(input.ctx.facts.home, input.cluster)
    const headLayout = hadoopLayout(input.head.facts.home, input.cluster)
    const hadoopHome = await hadoopHomeOn(input.head.session, headLayout)
    if (!hadoopHome) return 'no Hadoop daemons'
    const address = input.ctx.address
    input.report.update('decommissioning')
    await input.head.session.run(scripts.excludeScript(headLayout, hadoopHome, [address], true, input.graceSeconds), {label: 'decommission', timeoutMs: 120_000})
    const notes: string[] = []
    const deadline = (input.graceSeconds + 120) * 1000
    await waitFor(deadline, async () => {
      const state = await readHadoopState(input.head.session, input.head.address)
      const dn = dataNodesByAddress(state.namenode).get(address)
      const nm = nodeManagersByAddress(state.nodes).get(address)
      return (!dn || dn.state === 'dead' || dn.adminState === 'Decommissioned') && (!nm || nm.state !== 'RUNNING' && nm.state !== 'DECOMMISSIONING')
    }, 'decommissioning did not finish in time').catch((e: Error) => notes.push(`${e.message}; stopped anyway`))
    input.report.update('stopping daemons')
    for (const d of WORKER_DAEMONS) await input.ctx.session.run(scripts.stopDaemonScript(layout, d), {label: `stop ${d}`, timeoutMs: 60_000})
    return ['decommissioned', ...notes].join(', ')
  }

  async cleanup(ctx: HostContext, cluster: string): Promise<number> {
    const layout = hadoopLayout(ctx.facts.home, cluster)
    await ctx.session.run(scripts.cleanupScript(layout, ctx.facts.home), {label: 'remove Hadoop files and processes', timeoutMs: 120_000})
    return Number((await ctx.session.run(scripts.leftoverScript(layout), {label: 'check processes'})).trim()) || 0
  }

  async describe(input: DescribeInput): Promise<ClusterInfo> {
    let error = input.headError
    let state
    let headComputes = true
    if (input.head) {
      try {
        const manifest = await readManifest(input.head.session, (await hostFacts(input.head.session)).home, input.cluster)
        headComputes = hadoopSettingsFromRecord(manifest?.engineSettings ?? {}).headComputes
        state = await readHadoopState(input.head.session, input.head.address)
      } catch (e) {
        error = (e as Error).message
      }
    }
    return hadoopClusterInfo(input.cluster, input.provider, input.hosts, {state, headAddress: input.head?.address, headComputes, error})
  }

  listFields(info: ClusterInfo): Partial<ClusterListEntry> {
    const {hdfs, yarn} = info
    if (!hdfs || !yarn) return {error: info.masterError}
    return {
      masterStatus: hdfs.safeMode ? 'SAFE MODE' : yarn.state === 'STARTED' ? 'ALIVE' : yarn.state,
      aliveWorkers: yarn.runningNodeManagers,
      cores: yarn.vcores,
      memoryMb: yarn.memoryMb,
      activeApps: yarn.runningApps,
      ...hdfsListFields(hdfs),
    }
  }

  async loadJobs(files: string[], overrides: JobOverrides): Promise<LoadedJob[]> {
    const [{loadJobFiles}, {checkHostVolumes}] = await Promise.all([import('../../jobs/load.js'), import('../../jobs/volumes.js')])
    const specs = loadJobFiles(files, overrides)
    for (const spec of specs) checkHostVolumes(spec, 'Hadoop')
    return specs.map((spec, i) => ({file: files[i], name: spec.name, spec}))
  }

  async openJobs(input: JobsInput): Promise<JobService> {
    const {HadoopJobService} = await import('./job-service.js')
    return HadoopJobService.open(input.head, input)
  }

  /** A notebook's driver runs in its kernel on the head (YARN client mode); YARN starts the executors on the NodeManagers. */
  async notebookServer(input: NotebookInput): Promise<NotebookServer> {
    const {HeadNotebookServer} = await import('../../notebook/head-server.js')
    return new HeadNotebookServer(input.cluster, input.head, () => this.notebookSpark(input), input.log)
  }

  async notebookSpark(input: {cluster: string; head: HostContext; settings: Record<string, string>}): Promise<NotebookSpark> {
    const layout = hadoopLayout(input.head.facts.home, input.cluster)
    const sparkHome = input.settings.sparkHome
    if (!sparkHome) throw new Error(`the manifest of ${input.cluster} does not say where Spark is on the head: 'cms cluster create -n ${input.cluster}' records it`)
    return {
      sparkHome,
      env: {SPARK_CONF_DIR: layout.sparkConfDir, HADOOP_CONF_DIR: layout.confDir, YARN_CONF_DIR: layout.confDir},
      submitArgs: ['--master', 'yarn', '--deploy-mode', 'client', ...driverOnHead(input.head.address)],
    }
  }

  async hdfs(input: {head: HostContext}): Promise<{address: string; port: number}> {
    return {address: input.head.address, port: HADOOP_PORTS.namenodeHttp}
  }

  async endpoints(input: {cluster: string; head: HostContext}): Promise<Endpoint[]> {
    const address = input.head.address
    const manifest = await readManifest(input.head.session, input.head.facts.home, input.cluster)
    const hosts = [...new Set([address, ...(manifest?.hosts ?? []).map((h) => h.privateAddress ?? h.host)])]
    return [
      {name: 'namenode', description: 'HDFS NameNode web UI, /jmx and WebHDFS (/webhdfs/v1; unauthenticated: local only)', address, port: HADOOP_PORTS.namenodeHttp, scheme: 'http'},
      {name: 'resourcemanager', description: 'YARN ResourceManager web UI and REST API (/ws/v1/cluster; unauthenticated: local only)', address, port: HADOOP_PORTS.rmHttp, scheme: 'http'},
      {name: 'socks', description: "SOCKS5 proxy to the cluster's hosts only, for Hadoop clients (HADOOP_CONF_DIR below): hdfs, yarn, spark-submit --master yarn", address, port: 0, scheme: 'socks5', socks: {allowed: hosts}},
    ]
  }

  /**
   * A HADOOP_CONF_DIR for clients on the user's machine: the cluster's NameNode and ResourceManager at their private
   * addresses, every Hadoop connection through the tunnel's SOCKS proxy (Hadoop's SocksSocketFactory), and the
   * cluster's user as HADOOP_USER_NAME (Hadoop's simple authentication takes the name the client gives).
   */
  async clientEnvironment(input: {cluster: string; head: HostContext; local: Record<string, string>; secretsDir: string}): Promise<Record<string, string>> {
    const socks = new URL(input.local.socks!)
    const confDir = `${input.secretsDir}/hadoop-conf`
    const manifest = await readManifest(input.head.session, input.head.facts.home, input.cluster)
    const {replication} = hadoopSettingsFromRecord(manifest?.engineSettings ?? {})
    const files = clientConf({headAddress: input.head.address, socks: `${socks.hostname}:${socks.port}`, replication})
    const {mkdirSync, writeFileSync} = await import('node:fs')
    mkdirSync(confDir, {recursive: true, mode: 0o700})
    for (const [name, text] of Object.entries(files)) writeFileSync(`${confDir}/${name}`, text, {mode: 0o600})
    // WebHDFS's HTTP connections (and the redirects to DataNodes) through the same proxy, for Hadoop's tools and Spark's.
    const socksOpts = `-DsocksProxyHost=${socks.hostname} -DsocksProxyPort=${socks.port}`
    const sparkDir = manifest?.engineSettings.sparkHdfsDir
    let spark: Record<string, string> = {}
    if (sparkDir) {
      const sparkConfDir = `${input.secretsDir}/spark-conf`
      mkdirSync(sparkConfDir, {recursive: true, mode: 0o700})
      const defaultFs = namenodeUri(input.head.address)
      // The cluster's own Spark jars and PySpark libraries (its Spark version) from HDFS, not uploaded.
      const onHdfs = sparkOnHdfs(defaultFs, sparkDir, (manifest.engineSettings.pysparkZips ?? '').split(',').filter(Boolean))
      writeFileSync(`${sparkConfDir}/spark-defaults.conf`, sparkDefaultsForTunnel({spark: onHdfs, clusterConfDir: hadoopLayout(input.head.facts.home, input.cluster).confDir, defaultFs}), {mode: 0o600})
      spark = {
        SPARK_CONF_DIR: sparkConfDir,
        SPARK_SUBMIT_OPTS: [process.env.SPARK_SUBMIT_OPTS, socksOpts].filter(Boolean).join(' '),
        ...(onHdfs.pyArchives.length > 0 ? {PYSPARK_ARCHIVES_PATH: onHdfs.pyArchives.join(',')} : {}),
      }
    }
    return {
      CMS_NAMENODE_URL: input.local.namenode!,
      CMS_RESOURCEMANAGER_URL: input.local.resourcemanager!,
      HADOOP_CONF_DIR: confDir,
      YARN_CONF_DIR: confDir,
      HADOOP_USER_NAME: input.head.host.target.user,
      HADOOP_OPTS: socksOpts,
      ...spark,
    }
  }
}

async function hostMemoryMb(session: SshSession): Promise<number> {
  const out = await session.run(`awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo`, {label: 'read memory'})
  return Number(out.trim()) || 2048
}

/**
 * The NodeManager's JVM resolves names from this file only (jdk.net.hosts.file): its private address's name is the
 * address itself, so it registers with the ResourceManager as that address, which every host can reach, whether or
 * not host names resolve between hosts. Its own host name still resolves (to the private address).
 */
function nodeManagerHostsFile(l: HadoopLayout): string {
  return `${l.confDir}/nodemanager-hosts`
}

function nodeManagerHostsScript(l: HadoopLayout, address: string): string {
  return `printf '127.0.0.1 localhost\\n%s %s %s\\n' ${shq(address)} ${shq(address)} "$(hostname)" > ${shq(nodeManagerHostsFile(l))}`
}

