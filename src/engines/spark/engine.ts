import {createHash} from 'node:crypto'
import type {Host} from '../../providers/provider.js'
import type {HostResult} from '../../remote/fanout.js'
import {hostFacts, type HostFacts} from '../../remote/host-facts.js'
import type {SshSession} from '../../remote/session.js'
import type {HostReporter} from '../../output/progress.js'
import {Deferred, once} from './deferred.js'
import type {SparkDist} from './dist.js'
import {sparkLayout, SPARK_PORTS, type SparkLayout} from './layout.js'
import {aliveWorkerHosts, masterStatus, type MasterStatus} from './master-api.js'
import * as scripts from './scripts.js'

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

export interface HostOutcome {
  address: string
  sparkHome: string
  distribution: 'present' | 'uploaded' | 'from-head'
  master?: 'running' | 'started' | 'restarted'
  worker: 'running' | 'started' | 'restarted'
}

export interface ConvergeInput {
  cluster: string
  /** Head first. */
  hosts: Host[]
  dist: SparkDist
  settings: SparkSettings
  connect: (host: Host) => Promise<SshSession>
  perHost: (fn: (host: Host, report: HostReporter) => Promise<HostOutcome>) => Promise<Array<HostResult<HostOutcome>>>
}

export interface ConvergeResult {
  outcomes: Array<HostResult<HostOutcome>>
  uploadedBytes: number
  headAddress?: string
  masterUrl?: string
  sparkHome?: string
}

export interface SparkHostContext {
  session: SshSession
  facts: HostFacts
  address: string
  layout: SparkLayout
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Spark standalone: a master on the head, a worker on every host, the distribution shipped once from the client. */
export class SparkEngine {
  readonly name = 'spark'

  async hostContext(session: SshSession, host: Host, cluster: string, dist?: Pick<SparkDist, 'id' | 'archiveExt'>): Promise<SparkHostContext> {
    const facts = await hostFacts(session)
    const address = host.privateAddress || facts.connectedAddress
    if (!address) throw new Error(`cannot tell the private address of ${host.id}`)
    return {session, facts, address, layout: sparkLayout(facts.home, cluster, dist?.id ?? 'unknown', dist?.archiveExt ?? '.tgz')}
  }

  async converge(input: ConvergeInput): Promise<ConvergeResult> {
    const {cluster, dist, settings} = input
    const head = input.hosts[0]
    let uploadedBytes = 0
    const headReady = new Deferred<{ctx: SparkHostContext}>()
    const masterReady = new Deferred<void>()
    let server: {pid: number; url: string} | undefined
    const serveFromHead = once(async () => {
      const {ctx} = await headReady.promise
      if (!ctx.facts.python3) return undefined
      const out = await ctx.session.run(scripts.serveDistScript(ctx.layout, ctx.address, 900), {label: 'start distribution server'})
      const match = /pid=(\d+) port=(\d+)/.exec(out)
      if (!match) return undefined
      server = {pid: Number(match[1]), url: `http://${ctx.address}:${match[2]}/${dist.id}${dist.archiveExt}`}
      return server
    })
    const status = pollingStatus(headReady)

    const upload = async (ctx: SparkHostContext, report: HostReporter) => {
      if (!dist.path) throw new Error(`the Spark archive ${dist.id}${dist.archiveExt} is missing on the head: pass --spark-dist to upload it again`)
      await ctx.session.run(`mkdir -p ${scripts.shq(ctx.layout.distRoot)}`, {label: 'mkdir dist'})
      const bytes = await ctx.session.upload(dist.path, ctx.layout.distArchive, {
        onProgress: (sent, total) => report.update(`uploading Spark ${Math.floor((sent / total) * 100)}%`),
      })
      uploadedBytes += bytes
    }

    const installOnHost = async (ctx: SparkHostContext, host: Host, report: HostReporter): Promise<HostOutcome['distribution']> => {
      report.update('checking Spark')
      const state = scripts.parseDistState(await ctx.session.run(scripts.distStateScript(ctx.layout), {label: 'check Spark'}))
      let distribution: HostOutcome['distribution'] = 'present'
      if (host === head) {
        // The head keeps the archive: workers added now or later fetch it from here, not from the client.
        if (state.archiveBytes !== dist.bytes && (!state.unpacked || input.hosts.length > 1)) {
          await upload(ctx, report)
          distribution = 'uploaded'
        }
        headReady.resolve({ctx})
      } else if (!state.unpacked) {
        report.update('waiting for the head')
        const source = ctx.facts.curl ? await serveFromHead() : undefined
        if (source) {
          report.update('fetching Spark from the head')
          await ctx.session.run(scripts.unpackFromHeadScript(ctx.layout, source.url, dist.archiveExt), {label: 'fetch Spark from head', timeoutMs: 600_000})
          return 'from-head'
        }
        await upload(ctx, report)
        distribution = 'uploaded'
      }
      if (!state.unpacked) {
        report.update('unpacking Spark')
        await ctx.session.run(scripts.unpackUploadedScript(ctx.layout, dist.archiveExt), {label: 'unpack Spark', timeoutMs: 600_000})
      }
      return distribution
    }

    const outcomes = await input.perHost(async (host, report) => {
      const isHead = host === head
      try {
        report.update('connecting')
        const session = await input.connect(host)
        const ctx = await this.hostContext(session, host, cluster, dist)
        if (!ctx.facts.java) throw new Error('java not found on the host: install a Java 17+ runtime (Debian: openjdk-17-jre-headless)')
        const distribution = await installOnHost(ctx, host, report)
        const sparkHome = (await session.run(scripts.sparkHomeScript(ctx.layout), {label: 'locate SPARK_HOME'})).trim()
        const headCtx = isHead ? ctx : (await headReady.promise).ctx
        const config: scripts.SparkConfig = {
          cluster,
          sparkHome,
          privateAddress: ctx.address,
          headAddress: headCtx.address,
          daemonMemory: settings.daemonMemory,
          workerCores: settings.workerCores,
          workerMemory: settings.workerMemory,
        }
        const env = scripts.sparkEnvFile(ctx.layout, config)
        const defaults = scripts.sparkDefaultsFile(config)
        report.update('configuring')
        await session.run(scripts.writeConfigScript(ctx.layout, env, defaults), {label: 'write Spark config'})
        const configHash = hash(env + defaults)
        let master: HostOutcome['master']
        if (isHead) {
          report.update('starting master')
          master = (await session.run(scripts.startDaemonScript(ctx.layout, sparkHome, 'master', configHash, headCtx.address), {label: 'start master', timeoutMs: 120_000})).trim() as HostOutcome['master']
          await waitFor(settings.readyTimeoutMs, async () => (await status()).status === 'ALIVE', 'the Spark master did not come up')
          masterReady.resolve()
        } else {
          report.update('waiting for the master')
          await masterReady.promise
        }
        report.update('starting worker')
        const worker = (await session.run(scripts.startDaemonScript(ctx.layout, sparkHome, 'worker', configHash, headCtx.address), {label: 'start worker', timeoutMs: 120_000})).trim() as HostOutcome['worker']
        report.update('waiting for the worker to register')
        await waitFor(settings.readyTimeoutMs, async () => aliveWorkerHosts(await status()).has(ctx.address), `the worker on ${ctx.address} did not register with the master (see ${ctx.layout.logDir})`)
        return {address: ctx.address, sparkHome, distribution, master, worker}
      } catch (error) {
        if (isHead) {
          const reason = new Error(`the head ${head.id} failed: ${(error as Error).message}`)
          headReady.reject(reason)
          masterReady.reject(reason)
        }
        throw error
      }
    })

    if (server) {
      const {ctx} = await headReady.promise
      await ctx.session.exec(scripts.stopServerScript(server.pid)).catch(() => undefined)
    }
    const headOutcome = outcomes[0]?.value
    return {
      outcomes,
      uploadedBytes,
      headAddress: headOutcome?.address,
      masterUrl: headOutcome ? scripts.masterUrl(headOutcome.address) : undefined,
      sparkHome: headOutcome?.sparkHome,
    }
  }

  async status(head: SshSession, headAddress: string): Promise<MasterStatus> {
    return masterStatus(head, headAddress)
  }

  /** Decommissions this host's worker, stops it, and waits until the master no longer counts it alive. */
  async decommission(ctx: SparkHostContext, sparkHome: string, graceSeconds: number, head: SparkHostContext): Promise<void> {
    await ctx.session.run(scripts.decommissionScript(ctx.layout, sparkHome, graceSeconds), {label: 'decommission worker', timeoutMs: (graceSeconds + 60) * 1000})
    await waitFor(60_000, async () => !aliveWorkerHosts(await masterStatus(head.session, head.address)).has(ctx.address), `the master still lists the worker on ${ctx.address} as alive`)
  }

  async cleanup(ctx: SparkHostContext): Promise<number> {
    await ctx.session.run(scripts.cleanupScript(ctx.layout, ctx.facts.home), {label: 'remove Spark files and processes', timeoutMs: 120_000})
    return Number((await ctx.session.run(scripts.processCheckScript(ctx.layout), {label: 'check processes'})).trim()) || 0
  }

  async sparkHome(ctx: SparkHostContext): Promise<string | undefined> {
    const out = await ctx.session.exec(`. ${scripts.shq(`${ctx.layout.confDir}/spark-env.sh`)} 2>/dev/null && printf '%s' "$SPARK_HOME"`)
    return out.stdout.trim() || undefined
  }
}

/** Master status shared by all host pipelines, fetched at most about once a second. */
function pollingStatus(headReady: Deferred<{ctx: SparkHostContext}>): () => Promise<MasterStatus> {
  let last: {at: number; value: Promise<MasterStatus>} | undefined
  return async () => {
    const {ctx} = await headReady.promise
    if (!last || Date.now() - last.at > 900) {
      const value = masterStatus(ctx.session, ctx.address)
      last = {at: Date.now(), value}
      value.catch(() => {
        last = undefined
      })
    }
    return last.value
  }
}

async function waitFor(timeoutMs: number, check: () => Promise<boolean>, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError: Error | undefined
  for (let attempt = 0; Date.now() < deadline && attempt < 1000; attempt++) {
    try {
      if (await check()) return
    } catch (error) {
      lastError = error as Error
    }
    await sleep(Math.min(1000, 200 * (attempt + 1)))
  }
  throw new Error(`${message} within ${Math.round(timeoutMs / 1000)} s${lastError ? ` (${lastError.message})` : ''}`)
}

export {SPARK_PORTS}
