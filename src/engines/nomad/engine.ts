import {createHash, randomBytes, randomUUID} from 'node:crypto'
import type {JobOverrides} from '../../jobs/load.js'
import type {ClusterInfo, ClusterListEntry} from '../../output/results.js'
import type {Host} from '../../providers/provider.js'
import {UsageError} from '../../remote/errors.js'
import {hostFacts} from '../../remote/host-facts.js'
import {shq} from '../../remote/shell.js'
import {Deferred, waitFor} from '../coordination.js'
import type {Artifact} from '../artifact.js'
import type {AttachedEngine, ConvergeInput, ConvergeResult, DescribeInput, DrainInput, Endpoint, Engine, EnginePlan, HostOutcome, JobService, JobsInput, LoadedJob, PlanInput} from '../engine.js'
import {hostContext, type HostContext} from '../host-context.js'
import {hdfsListFields, withHdfs} from '../hadoop/describe.js'
import {checkDataNodesLeft, drainDataNode, hasHdfs, hdfsEndpoint, HdfsBeside, namenodeInfoIfAny, planHdfs} from '../hadoop/hdfs-beside.js'
import {hadoopLayout} from '../hadoop/layout.js'
import {stopEverythingScript} from '../hadoop/scripts.js'
import {distFromSettings, distSettings, resolveSparkDist, checkSparkDistSource, sparkArtifact} from '../spark/dist.js'
import {SPARK_HOST_PACKAGES} from '../spark/layout.js'
import {NOMAD_PORTS, renderAgentConfig, type NomadDriver} from './agent-config.js'
import {NomadApiError, type NomadApi} from './api.js'
import {nomadAgentCertificate, nomadCertificateAuthority, nomadCliCertificate, nomadServerName} from './certificates.js'
import {headApi, REGION} from './client.js'
import {nomadClusterInfo} from './describe.js'
import {checkNomadDistSource, nomadDistFromSettings, nomadDistSettings, resolveNomadDist} from './dist.js'
import {nomadLayout, secretFiles, type AgentFiles, type NomadLayout} from './layout.js'
import type {KeyPairPem} from './pki.js'
import * as scripts from './scripts.js'

const DATACENTER = 'dc1'
const READY_TIMEOUT_MS = 180_000
/**
 * raw_exec always: the hosts are the cluster's own and ACLs decide who may submit. exec and docker load where the
 * Nomad build has them (the official one; not a CGO-free build) and report healthy where the host supports them
 * (cgroups for exec, a running Docker engine for docker): `info` shows which are.
 */
const TASK_DRIVERS: NomadDriver[] = ['raw_exec', 'exec', 'docker']
// A client-only agent listens on HTTP only, and reaches the servers on their RPC port: only HTTP moves.
const CLIENT_PORTS_BESIDE_SERVER = {...NOMAD_PORTS, http: NOMAD_PORTS.http + 10}

interface HeadSecrets {
  ca: KeyPairPem
  gossipKey: string
}

/** Node names: the host id where Nomad accepts it (container names), else a safe form of it. */
export function nodeName(host: Host): string {
  const safe = host.id.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63)
  return safe || 'node'
}

/** The hosts that run a Nomad server: those recorded at create, else the first `count` (the head first). */
export function serverHosts(hosts: Host[], settings: Record<string, string>): Host[] {
  const recorded = (settings.serverIds ?? '').split(',').filter(Boolean)
  if (recorded.length > 0) return hosts.filter((h) => recorded.includes(h.id))
  return hosts.slice(0, Number(settings.servers) || 1)
}

/**
 * Nomad: servers on the head (or the first three hosts), a client on every host. Locked down from the start: ACLs
 * bootstrapped by cms with a random management token, gossip encryption, mutual TLS with a per-cluster CA for
 * HTTP and RPC, every listener on the host's private address. Secrets stay on the head, 0600.
 */
export class NomadEngine implements Engine {
  readonly name = 'nomad'
  /**
   * A root Nomad client manages cgroups for its tasks; in a container it gets the container's own cgroup tree,
   * writable in a private cgroup namespace (and the right to remount it). Never --privileged.
   */
  readonly containerNeeds = {capAdd: ['SYS_ADMIN'], writableCgroups: true}

  async plan(input: PlanInput): Promise<EnginePlan> {
    const {options, recorded} = input
    const servers = Number(options.servers ?? recorded?.servers ?? 1)
    if (!recorded && servers > input.totalHosts) throw new UsageError(`--servers ${servers} needs at least ${servers} hosts (the cluster will have ${input.totalHosts})`)
    const nomadGiven = options['nomad-dist'] as string | undefined
    const nomad = (!nomadGiven && recorded ? nomadDistFromSettings(recorded) : undefined) ?? (await resolveNomadDist(checkNomadDistSource(nomadGiven), input.log))
    const sparkGiven = options['spark-dist'] as string | undefined
    const spark = sparkGiven ? await resolveSparkDist(checkSparkDistSource(sparkGiven), input.log) : recorded ? distFromSettings(recorded) : undefined
    const hdfs = await planHdfs(options, recorded, input.totalHosts, input.log)
    const artifacts: Artifact[] = [nomad, ...(spark ? [sparkArtifact(spark)] : []), ...(hdfs.artifact ? [hdfs.artifact] : [])]
    const settings: Record<string, string> = {
      ...nomadDistSettings(nomad),
      ...(spark ? distSettings(spark) : {}),
      servers: String(servers),
      region: REGION,
      datacenter: DATACENTER,
    }
    if (recorded?.serverIds) settings.serverIds = recorded.serverIds
    Object.assign(settings, hdfs.settings)
    // unzip (or python3) for the release zip; curl to fetch archives from the head; Java for Spark tasks.
    const hostPackages = ['curl', 'unzip', 'python3', 'tar', 'gzip', ...(spark ? SPARK_HOST_PACKAGES : [])]
    return {artifacts, settings, hostPackages}
  }

  async converge(input: ConvergeInput): Promise<ConvergeResult> {
    const {cluster, shipment, plan} = input
    const [nomadDist] = shipment.artifacts
    const sparkDist = shipment.artifacts.find((a) => a.what === 'Spark')
    const hadoopDist = shipment.artifacts.find((a) => a.what === 'Hadoop')
    const hdfs = hadoopDist ? new HdfsBeside(cluster, hadoopDist, Number(plan.settings.replication) || 1) : undefined
    const namenodeReady = new Deferred<HostContext>()
    const head = input.hosts[0]
    const servers = serverHosts(input.hosts, plan.settings)
    const secrets = new Deferred<HeadSecrets>()
    const serverAddresses = new Map<string, Deferred<string>>(servers.map((h) => [h.id, new Deferred<string>()]))
    const aclReady = new Deferred<NomadApi>()
    let sparkHome: string | undefined

    const outcomes = await input.perHost(async (host, report): Promise<HostOutcome> => {
      const isHead = host === head
      const isServer = serverAddresses.has(host.id)
      try {
        report.update('connecting')
        const ctx = await input.connect(host)
        const layout = nomadLayout(ctx.facts.home, cluster)
        const deliveries = await shipment.deliver(ctx, isHead, report)
        const binary = `${await shipment.root(ctx, nomadDist)}/nomad`
        if (sparkDist) {
          const home = await shipment.root(ctx, sparkDist)
          if (isHead) sparkHome = home
        }
        const hdfsDone: string[] = []
        if (hdfs) {
          // HDFS first: a task may read it as soon as its node is ready.
          if (isHead) {
            report.update('starting the NameNode')
            hdfsDone.push(...(await hdfs.startNameNode(ctx, await hdfs.configure(ctx, shipment, ctx.address), input.hosts.map((h) => h.privateAddress ?? h.target.host))))
            namenodeReady.resolve(ctx)
          }
          report.update('starting the DataNode')
          const namenode = await namenodeReady.promise
          hdfsDone.push(await hdfs.startDataNode(ctx, await hdfs.configure(ctx, shipment, namenode.address), namenode))
        }
        await ctx.session.run(scripts.prepareDirsScript(layout), {label: 'prepare Nomad folders'})
        if (isHead) secrets.resolve(await this.headSecrets(ctx, layout, cluster))
        if (isServer) serverAddresses.get(host.id)!.resolve(ctx.address)
        report.update(isHead ? 'configuring' : 'waiting for the head')
        const {ca, gossipKey} = await secrets.promise
        const joins = await Promise.all([...serverAddresses.values()].map((d) => d.promise))
        await this.writeTls(ctx, layout, ca, isServer)
        const common = {nodeName: nodeName(host), region: REGION, datacenter: DATACENTER, privateAddress: ctx.address}
        let server = ''
        if (isServer) {
          report.update('starting server')
          const config = renderAgentConfig({
            ...common,
            dataDir: layout.server.dataDir,
            tls: {caFile: layout.caFile, certFile: layout.server.certFile, keyFile: layout.server.keyFile},
            server: {bootstrapExpect: servers.length, gossipKey, join: joins},
          })
          server = `server ${await this.startAgent(ctx, layout.server, binary, config)}, `
        }
        if (isHead) {
          report.update('waiting for a leader')
          const open = await headApi({session: ctx.session, address: ctx.address, home: ctx.facts.home}, cluster, {withToken: false})
          await waitFor(READY_TIMEOUT_MS, async () => Boolean(await open.leader()), 'the Nomad servers did not elect a leader')
          report.update('bootstrapping ACLs')
          const api = await this.bootstrapAcl(ctx, layout, cluster)
          // Clients register only once the servers' keyring exists; earlier, a registration fails and is retried
          // 15-30 s later.
          await waitFor(READY_TIMEOUT_MS, async () => (await api.keyringKeys()).length > 0, 'the Nomad servers made no keyring')
          aclReady.resolve(api)
        }
        report.update(isHead ? 'starting client' : 'waiting for the servers')
        const api = await aclReady.promise
        const config = renderAgentConfig({
          ...common,
          dataDir: layout.client.dataDir,
          // Beside a server agent, the client's HTTP listener takes another port.
          ports: isServer ? CLIENT_PORTS_BESIDE_SERVER : undefined,
          tls: {caFile: layout.caFile, certFile: layout.client.certFile, keyFile: layout.client.keyFile},
          client: {servers: joins, drivers: TASK_DRIVERS, meta: {'cms.host': host.id, 'cms.role': host.role}},
        })
        const client = `client ${await this.startAgent(ctx, layout.client, binary, config)}`
        report.update('waiting for the node to be ready')
        let nodeId = ''
        await waitFor(
          READY_TIMEOUT_MS,
          async () => {
            const node = (await api.nodes()).value.find((n) => n.Address === ctx.address)
            nodeId = node?.ID ?? ''
            return node?.Status === 'ready' && node.SchedulingEligibility === 'eligible'
          },
          `the Nomad client on ${ctx.address} did not become ready (see ${layout.client.logFile})`,
        )
        const shipped = shipment.artifacts.map((a, i) => `${a.what} ${deliveries[i]}`).join(', ')
        return {address: ctx.address, detail: [`${server}${client}`, `node ${nodeId.slice(0, 8)}`, ...hdfsDone, shipped].join(', ')}
      } catch (error) {
        const reason = new Error(`the head ${head.id} failed: ${(error as Error).message}`)
        if (isHead) {
          shipment.headFailed(reason)
          namenodeReady.reject(reason)
          secrets.reject(reason)
          aclReady.reject(reason)
        }
        if (isServer) serverAddresses.get(host.id)!.reject(new Error(`the server ${host.id} failed: ${(error as Error).message}`))
        throw error
      }
    })

    const ok = outcomes[0]?.ok
    const settings: Record<string, string> = ok ? {serverIds: servers.map((h) => h.id).join(',')} : {}
    if (ok && sparkHome) settings.sparkHome = sparkHome
    return {outcomes, settings}
  }

  /** The cluster's CA and gossip key, made once on the head (0600) and read back on every converge. */
  private async headSecrets(ctx: HostContext, layout: NomadLayout, cluster: string): Promise<HeadSecrets> {
    const files = secretFiles(layout)
    const [caCert, caKey, gossip, cliCert] = await Promise.all([layout.caFile, files.caKey, files.gossipKey, files.cliCert].map((f) => ctx.session.readFile(`${f}`)))
    let ca: KeyPairPem
    if (caCert && caKey) ca = {certificatePem: caCert.toString('utf8'), privateKeyPem: caKey.toString('utf8')}
    else {
      ca = nomadCertificateAuthority(cluster)
      await ctx.session.writeFile(files.caKey, ca.privateKeyPem, 0o600)
      await ctx.session.writeFile(layout.caFile, ca.certificatePem, 0o644)
    }
    let gossipKey = gossip?.toString('utf8').trim()
    if (!gossipKey) {
      gossipKey = randomBytes(32).toString('base64')
      await ctx.session.writeFile(files.gossipKey, `${gossipKey}\n`, 0o600)
    }
    if (!cliCert) {
      // cms's own client certificate for the HTTPS API (verify_https_client), kept on the head like the rest.
      const cli = nomadCliCertificate(ca, {region: REGION})
      await ctx.session.writeFile(files.cliKey, cli.privateKeyPem, 0o600)
      await ctx.session.writeFile(files.cliCert, cli.certificatePem, 0o600)
    }
    return {ca, gossipKey}
  }

  /** Each agent's certificate, issued once per host for its private address: a client's, and a server's on servers. */
  private async writeTls(ctx: HostContext, layout: NomadLayout, ca: KeyPairPem, isServer: boolean): Promise<void> {
    await ctx.session.writeFile(layout.caFile, ca.certificatePem, 0o644)
    for (const [role, files] of [['client', layout.client], ...(isServer ? [['server', layout.server]] : [])] as Array<['client' | 'server', AgentFiles]>) {
      const present = await ctx.session.exec(`test -s ${shq(files.certFile)} && test -s ${shq(files.keyFile)}`)
      if (present.code === 0) continue
      const cert = nomadAgentCertificate(ca, {role, region: REGION, addresses: [ctx.address]})
      await ctx.session.writeFile(files.keyFile, cert.privateKeyPem, 0o600)
      await ctx.session.writeFile(files.certFile, cert.certificatePem, 0o644)
    }
  }

  /** Writes the agent's configuration (0600: a server's holds the gossip key) and starts it, or leaves it running. */
  private async startAgent(ctx: HostContext, files: AgentFiles, binary: string, config: string): Promise<string> {
    await ctx.session.writeFile(files.config, config, 0o600)
    const hash = createHash('sha256').update(config).digest('hex').slice(0, 16)
    return (await ctx.session.run(scripts.startAgentScript(files, binary, hash), {label: 'start Nomad agent', timeoutMs: 120_000})).trim()
  }

  /**
   * Bootstraps ACLs with a management token cms chooses: the token is written on the head (0600) before Nomad is
   * asked, so a create interrupted in between finds it on the rerun. Returns the API with the token.
   */
  private async bootstrapAcl(ctx: HostContext, layout: NomadLayout, cluster: string): Promise<NomadApi> {
    const files = secretFiles(layout)
    let token = (await ctx.session.readFile(files.token))?.toString('utf8').trim()
    if (!token) {
      token = randomUUID()
      await ctx.session.writeFile(files.token, `${token}\n`, 0o600)
    }
    const api = await headApi({session: ctx.session, address: ctx.address, home: ctx.facts.home}, cluster)
    await waitFor(
      60_000,
      async () => {
        try {
          await api.aclBootstrap(token)
        } catch (error) {
          // Already bootstrapped (a rerun): the token cms wrote must then be the one that works.
          if (!(error instanceof NomadApiError && error.status === 400)) throw error
        }
        try {
          await api.nodes()
          return true
        } catch (error) {
          if (error instanceof NomadApiError && error.status === 403) throw new Error(`Nomad's ACLs on ${cluster} were bootstrapped with a token cms does not hold (${files.token})`)
          throw error
        }
      },
      'the Nomad ACL system could not be bootstrapped',
    )
    return api
  }

  checkRemovable(host: Host, hosts: Host[], settings: Record<string, string> = {}, removing: Host[] = [host]): void {
    if (serverHosts(hosts, settings).some((s) => s.id === host.id)) {
      throw new UsageError(`cannot remove ${host.id}: it runs a Nomad server ('cms cluster kill' removes the whole cluster)`)
    }
    if (settings.hdfs === 'true') checkDataNodesLeft(hosts, removing, Number(settings.replication) || 1, true)
  }

  /**
   * Moves the node's work away through the API before its agent stops: the node becomes ineligible, batch
   * allocations (which a drain would only stop) are stopped so the scheduler replaces them elsewhere, then the drain
   * migrates the rest; once it is done the agent stops and the node is purged.
   */
  async drain(input: DrainInput): Promise<string> {
    const api = await headApi({session: input.head.session, address: input.head.address, home: input.head.facts.home}, input.cluster)
    const node = (await api.nodes()).value.find((n) => n.Address === input.ctx.address)
    const layout = nomadLayout(input.ctx.facts.home, input.cluster)
    let moved = 0
    if (node && node.Status !== 'down') {
      input.report.update('draining the node')
      await api.setEligibility(node.ID, false)
      const running = (await api.nodeAllocations(node.ID)).value.filter((a) => a.DesiredStatus === 'run' && (a.ClientStatus === 'running' || a.ClientStatus === 'pending'))
      const types = new Map<string, string>()
      for (const a of running) if (!types.has(a.JobID)) types.set(a.JobID, (await api.job(a.JobID)).value.Type ?? '')
      for (const a of running.filter((a) => types.get(a.JobID) === 'batch')) {
        await api.stopAllocation(a.ID)
        moved++
      }
      await api.drainNode(node.ID, {deadlineMs: input.graceSeconds * 1000})
      await waitFor((input.graceSeconds + 120) * 1000, async () => (await api.node(node.ID)).value.DrainStrategy == null, `the drain of ${input.ctx.host.id} did not finish`)
      moved += running.length - moved
    }
    input.report.update('stopping the agent')
    await input.ctx.session.run(scripts.stopAgentScript(layout.client), {label: 'stop Nomad agent', timeoutMs: 60_000})
    if (node) await api.purgeNode(node.ID).catch(() => undefined)
    const drained = node ? `drained (${moved} allocation${moved === 1 ? '' : 's'} moved)` : 'no Nomad node'
    if (!(await hasHdfs(input.head, input.cluster))) return drained
    input.report.update('decommissioning the DataNode')
    return `${drained}, ${await drainDataNode(input.ctx, input.head, input.cluster, input.graceSeconds)}`
  }

  async cleanup(ctx: HostContext, cluster: string): Promise<number> {
    const layout = nomadLayout(ctx.facts.home, cluster)
    // HDFS beside Nomad first: the Nomad cleanup removes the folder the Hadoop daemons are found by.
    await ctx.session.run(stopEverythingScript(hadoopLayout(ctx.facts.home, cluster)), {label: 'stop HDFS', timeoutMs: 120_000})
    await ctx.session.run(scripts.cleanupScript(layout, ctx.facts.home), {label: 'remove Nomad files and processes', timeoutMs: 120_000})
    return Number((await ctx.session.run(scripts.leftoverScript(layout), {label: 'check processes'})).trim()) || 0
  }

  async describe(input: DescribeInput): Promise<ClusterInfo> {
    if (!input.head) return nomadClusterInfo(input.cluster, input.provider, input.hosts, undefined, input.headError)
    let info: ClusterInfo
    try {
      const {home} = await hostFacts(input.head.session)
      const api = await headApi({session: input.head.session, address: input.head.address, home}, input.cluster)
      const [leader, peers, nodes] = await Promise.all([api.leader(), api.peers(), api.nodes({resources: true}).then((r) => r.value)])
      info = nomadClusterInfo(input.cluster, input.provider, input.hosts, {leader, peers, nodes, apiUrl: `https://${input.head.address}:${NOMAD_PORTS.http}`})
    } catch (error) {
      return nomadClusterInfo(input.cluster, input.provider, input.hosts, undefined, (error as Error).message)
    }
    const namenode = await namenodeInfoIfAny(await hostContext(input.head.session, input.head.host), input.cluster).catch((e: Error) => {
      info.masterError = `HDFS: ${e.message}`
      return undefined
    })
    return namenode ? withHdfs(info, namenode, input.head.address) : info
  }

  hdfs(input: {cluster: string; head: HostContext}): Promise<{address: string; port: number} | undefined> {
    return hdfsEndpoint(input.head, input.cluster)
  }

  listFields(info: ClusterInfo): Partial<ClusterListEntry> {
    if (!info.nomad) return {error: info.masterError}
    const ready = (info.hosts ?? []).filter((h) => h.node?.status === 'ready').length
    return {
      ...(info.hdfs ? hdfsListFields(info.hdfs) : {}),
      masterStatus: info.nomad.leader ? 'LEADER' : 'NO LEADER',
      aliveWorkers: ready,
      cores: info.nomad.cpuCores,
      memoryMb: info.nomad.memoryMb,
    }
  }

  async loadJobs(files: string[], overrides: JobOverrides): Promise<LoadedJob[]> {
    const {loadNomadJobFiles} = await import('./job-files.js')
    return loadNomadJobFiles(files, overrides)
  }

  async openJobs(input: JobsInput): Promise<JobService> {
    const {NomadJobService} = await import('./jobs.js')
    const api = await headApi({session: input.head.session, address: input.head.address, home: input.head.facts.home}, input.cluster)
    return new NomadJobService(api, input)
  }

  async attached(): Promise<AttachedEngine> {
    return (await import('./attached.js')).nomadAttached
  }

  async endpoints(input: {cluster: string; head: HostContext}): Promise<Endpoint[]> {
    return [{name: 'api', description: 'Nomad HTTP API and web UI (mutual TLS + ACL token)', address: input.head.address, port: NOMAD_PORTS.http, scheme: 'https'}]
  }

  /** NOMAD_ADDR and the TLS files the nomad CLI reads; the token and client key only when asked (0600). */
  async clientEnvironment(input: {cluster: string; head: HostContext; local: Record<string, string>; secretsDir: string; withSecrets: boolean}): Promise<Record<string, string>> {
    const {writeFileSync} = await import('node:fs')
    const layout = nomadLayout(input.head.facts.home, input.cluster)
    const files = secretFiles(layout)
    const read = async (path: string) => (await input.head.session.readFile(path))?.toString('utf8') ?? ''
    const caPath = `${input.secretsDir}/ca.pem`
    writeFileSync(caPath, await read(layout.caFile), {mode: 0o600})
    const env: Record<string, string> = {NOMAD_ADDR: input.local.api, NOMAD_CACERT: caPath, NOMAD_TLS_SERVER_NAME: nomadServerName(REGION)}
    if (!input.withSecrets) return env
    const certPath = `${input.secretsDir}/cli.pem`
    const keyPath = `${input.secretsDir}/cli-key.pem`
    writeFileSync(certPath, await read(files.cliCert), {mode: 0o600})
    writeFileSync(keyPath, await read(files.cliKey), {mode: 0o600})
    return {...env, NOMAD_CLIENT_CERT: certPath, NOMAD_CLIENT_KEY: keyPath, NOMAD_TOKEN: (await read(files.token)).trim()}
  }
}

