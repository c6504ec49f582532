import type {SshSession} from '../../remote/session.js'
import {UsageError} from '../../remote/errors.js'
import {shq} from '../../remote/shell.js'
import type {Host} from '../../providers/provider.js'
import {readManifest} from '../../cluster/manifest.js'
import type {Artifact} from '../artifact.js'
import {waitFor} from '../coordination.js'
import type {EngineOptions} from '../engine.js'
import type {HostContext} from '../host-context.js'
import type {Shipment} from '../shipping.js'
import {namenodeBean} from './daemon-api.js'
import {dataNodesByAddress, type NameNodeInfoBean} from './describe.js'
import {checkHadoopDistSource, hadoopDistFromSettings, hadoopDistSettings, resolveHadoopDist} from './dist.js'
import {hadoopLayout, type HadoopLayout} from './layout.js'
import * as scripts from './scripts.js'
import {HADOOP_PORTS, renderHdfsConf, replicationFor} from './site-config.js'

/**
 * HDFS beside another engine (`cms cluster create -e spark --hdfs`, as Flintrock does): a NameNode on the head, a
 * DataNode on every host, from the same Hadoop runtime and configuration as hadoop clusters, without YARN.
 */

const READY_TIMEOUT_MS = 180_000
const NAMENODE_INFO = 'Hadoop:service=NameNode,name=NameNodeInfo'

/** Whether the cluster runs HDFS: asked for now, or recorded when it was created. */
export function hdfsWanted(options: EngineOptions, recorded?: Record<string, string>): boolean {
  return recorded ? recorded.hdfs === 'true' : options.hdfs === true
}

/** The Hadoop runtime to ship and the settings to record, when the cluster runs HDFS. */
export async function planHdfs(options: EngineOptions, recorded: Record<string, string> | undefined, totalHosts: number, log: (line: string) => void): Promise<{artifact?: Artifact; settings: Record<string, string>}> {
  if (!hdfsWanted(options, recorded)) return {settings: {}}
  const given = options['hadoop-dist'] as string | undefined
  const artifact = (!given && recorded ? hadoopDistFromSettings(recorded) : undefined) ?? (await resolveHadoopDist(checkHadoopDistSource(given), log))
  const replication = recorded?.replication ?? String(replicationFor(totalHosts))
  return {artifact, settings: {hdfs: 'true', replication, ...hadoopDistSettings(artifact)}}
}

/**
 * HDFS finishes decommissioning a DataNode only once every block it holds has its full replication elsewhere: a
 * removal that would leave fewer DataNodes than the replication factor would never finish, so it is refused.
 */
export function checkDataNodesLeft(hosts: Host[], removing: Host[], replication: number, headComputes: boolean): void {
  const gone = new Set(removing.map((h) => h.id))
  const left = hosts.filter((h) => !gone.has(h.id) && (h.role !== 'head' || headComputes)).length
  if (left < replication) {
    throw new UsageError(
      `removing ${removing.map((h) => h.id).join(', ')} would leave ${left} DataNode${left === 1 ? '' : 's'}, fewer than HDFS's replication factor ${replication}: their blocks could not be copied elsewhere (add hosts first, or lower the replication of the files with 'hdfs dfs -setrep')`,
    )
  }
}

/** `spark.hadoop.fs.defaultFS`: paths without a scheme are on the cluster's HDFS. */
export function defaultFs(headAddress: string): string {
  return `hdfs://${headAddress.includes(':') ? `[${headAddress}]` : headAddress}:${HADOOP_PORTS.namenodeRpc}`
}

interface Prepared {
  layout: HadoopLayout
  hadoopHome: string
  configHash: string
}

/** One host's HDFS daemons, driven by the engine's own converge. */
export class HdfsBeside {
  constructor(
    private readonly cluster: string,
    private readonly artifact: Artifact,
    private readonly replication: number,
  ) {}

  /** Writes the host's HDFS configuration (the runtime already delivered by the shipment). */
  async configure(ctx: HostContext, shipment: Shipment, headAddress: string): Promise<Prepared> {
    const layout = hadoopLayout(ctx.facts.home, this.cluster)
    const hadoopHome = await shipment.root(ctx, this.artifact)
    const conf = {
      ...renderHdfsConf({cluster: this.cluster, headAddress, privateAddress: ctx.address, hadoopHome, dirs: layout.dirs, isHead: ctx.address === headAddress, datanodes: this.replication}),
      ...scripts.cmsEnv(hadoopHome),
    }
    await ctx.session.run(scripts.writeConfigScript(layout, conf), {label: 'write HDFS config'})
    return {layout, hadoopHome, configHash: scripts.configHash(conf)}
  }

  /** Formats HDFS once, starts the NameNode and waits until it answers; takes `addresses` out of the exclude file. */
  async startNameNode(ctx: HostContext, p: Prepared, addresses: string[]): Promise<string[]> {
    const done: string[] = []
    if ((await ctx.session.run(scripts.formatScript(p.layout, p.hadoopHome, `cms-${this.cluster}`), {label: 'format the NameNode', timeoutMs: 120_000})).trim() === 'formatted') done.push('HDFS formatted')
    done.push(`namenode ${(await ctx.session.run(scripts.startDaemonScript(p.layout, p.hadoopHome, 'namenode', p.configHash), {label: 'start namenode', timeoutMs: 120_000})).trim()}`)
    await waitFor(READY_TIMEOUT_MS, async () => Boolean(await namenodeBean(ctx.session, ctx.address, NAMENODE_INFO)), `the NameNode did not come up (see ${p.layout.logDir})`)
    await ctx.session.run(scripts.excludeScript(p.layout, p.hadoopHome, addresses, false, 0, false), {label: 'include the hosts', timeoutMs: 120_000})
    return done
  }

  /** Starts the host's DataNode and waits until the NameNode lists it live. */
  async startDataNode(ctx: HostContext, p: Prepared, head: HostContext): Promise<string> {
    const state = (await ctx.session.run(scripts.startDaemonScript(p.layout, p.hadoopHome, 'datanode', p.configHash), {label: 'start datanode', timeoutMs: 120_000})).trim()
    await waitFor(
      READY_TIMEOUT_MS,
      async () => dataNodesByAddress((await namenodeBean<NameNodeInfoBean>(head.session, head.address, NAMENODE_INFO)) ?? {}).get(ctx.address)?.state === 'live',
      `the DataNode on ${ctx.address} did not register with the NameNode (see ${p.layout.logDir})`,
    )
    return `datanode ${state}`
  }
}

/** The runtime's home on a host, as converge wrote it into the cluster's configuration; undefined when there is none. */
export async function hadoopHomeOn(session: SshSession, layout: HadoopLayout): Promise<string | undefined> {
  const out = await session.exec(`. ${shq(scripts.cmsEnvFile(layout))} 2>/dev/null && printf '%s' "$HADOOP_HOME"`)
  return out.stdout.trim() || undefined
}

/** Decommissions the host's DataNode through the NameNode (its blocks copied elsewhere first), then stops it. */
export async function drainDataNode(ctx: HostContext, head: HostContext, cluster: string, graceSeconds: number): Promise<string> {
  const headLayout = hadoopLayout(head.facts.home, cluster)
  const hadoopHome = await hadoopHomeOn(head.session, headLayout)
  if (!hadoopHome) return 'no HDFS'
  await head.session.run(scripts.excludeScript(headLayout, hadoopHome, [ctx.address], true, 0, false), {label: 'decommission the DataNode', timeoutMs: 120_000})
  let note = 'DataNode decommissioned'
  await waitFor((graceSeconds + 120) * 1000, async () => {
    const dn = dataNodesByAddress((await namenodeBean<NameNodeInfoBean>(head.session, head.address, NAMENODE_INFO)) ?? {}).get(ctx.address)
    return !dn || dn.state === 'dead' || dn.adminState === 'Decommissioned'
  }, 'decommissioning did not finish in time').catch((e: Error) => (note = `DataNode: ${e.message}; stopped anyway`))
  await ctx.session.run(scripts.stopDaemonScript(hadoopLayout(ctx.facts.home, cluster), 'datanode'), {label: 'stop datanode', timeoutMs: 60_000})
  return note
}

/** Whether the cluster runs HDFS beside its engine (recorded in the head's manifest at create). */
export async function hasHdfs(head: HostContext, cluster: string): Promise<boolean> {
  const manifest = await readManifest(head.session, head.facts.home, cluster)
  return manifest?.engineSettings.hdfs === 'true'
}

/** The NameNode's view when the cluster runs HDFS; undefined when it does not. */
export async function namenodeInfoIfAny(head: HostContext, cluster: string): Promise<NameNodeInfoBean | undefined> {
  if (!(await hasHdfs(head, cluster))) return undefined
  return (await namenodeBean<NameNodeInfoBean>(head.session, head.address, NAMENODE_INFO)) ?? {}
}

/** Where put/get reach the NameNode's WebHDFS, when the cluster runs HDFS. */
export async function hdfsEndpoint(head: HostContext, cluster: string): Promise<{address: string; port: number} | undefined> {
  return (await hasHdfs(head, cluster)) ? {address: head.address, port: HADOOP_PORTS.namenodeHttp} : undefined
}
