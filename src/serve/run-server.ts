import {readFileSync} from 'node:fs'
import type {RunOptions} from '../cluster/context.js'
import {checkS3Options, type S3Options} from '../jobs/s3.js'
import {UsageError} from '../remote/errors.js'
import {describeDb} from './store/db.js'
import {buildServer} from './http/server.js'
import {isLoopback, parseListen} from './listen.js'
import {TaskService} from './service.js'
import {parseSources} from './sources/config.js'
import {parseAutoscaleFlags} from './autoscale/policy.js'
import {checkPolicies} from './autoscale/autoscaler.js'

export interface ServeRequest {
  listen: string
  db: string
  dataDir: string
  tlsCert?: string
  tlsKey?: string
  clusters?: string[]
  defaultCluster?: string
  maxRunning?: number
  retainMs: number
  /** A file holding the secret webhook calls are signed with. */
  webhookSecretFile?: string
  /** The job sources file. */
  sourcesFile?: string
  /** --autoscale values: NAME:min=N,max=M[,idle=15m][,wait=1m]. */
  autoscale?: string[]
  /** Where s3a:// paths are and whose credentials tasks get (resolved at each submission, held in memory only). */
  s3?: S3Options
  maxUploadBytes: number
  logLevel: string
  version: string
}

export interface RunningServer {
  url: string
  close(): Promise<void>
}

function readTls(req: ServeRequest): {cert: Buffer; key: Buffer} | undefined {
  if (!req.tlsCert && !req.tlsKey) return undefined
  if (!req.tlsCert || !req.tlsKey) throw new UsageError('--tls-cert and --tls-key go together')
  return {cert: readFlagFile(req.tlsCert, '--tls-cert'), key: readFlagFile(req.tlsKey, '--tls-key')}
}

/** A file a flag names; one that cannot be read is bad usage (exit 2) naming the flag. */
function readFlagFile(path: string, flag: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new UsageError(`${flag} ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
  }
}

/** The webhook secret: the file's first line, at least 32 characters (e.g. `openssl rand -hex 32`). */
function readWebhookSecret(path: string | undefined): string | undefined {
  if (path === undefined) return undefined
  const secret = readFlagFile(path, '--webhook-secret-file').toString('utf8').split('\n')[0]!.trim()
  if (secret.length < 32) throw new UsageError(`--webhook-secret-file ${path}: the secret (its first line) must be at least 32 characters (openssl rand -hex 32 makes one)`)
  return secret
}

/** Opens the database (migrating it), starts the loops and listens; every flag is checked before anything starts. */
export async function startServer(req: ServeRequest, run: RunOptions): Promise<RunningServer> {
  const {host, port} = parseListen(req.listen)
  const tls = readTls(req)
  const webhookSecret = readWebhookSecret(req.webhookSecretFile)
  const autoscale = parseAutoscaleFlags(req.autoscale ?? [])
  const s3 = checkS3Options(req.s3 ?? {})
  const sources = req.sourcesFile === undefined ? undefined : parseSources(readFlagFile(req.sourcesFile, '--sources').toString('utf8'), req.sourcesFile)
  if (!tls && !isLoopback(host)) {
    run.log(`WARNING: listening on ${host} without TLS: API keys and task data cross the network in clear text. Use --tls-cert and --tls-key.`)
  }
  await checkPolicies(autoscale, {clusters: req.clusters, flags: run.providerFlags})
  const service = await TaskService.open({db: req.db, dataDir: req.dataDir, run, clusters: req.clusters, defaultCluster: req.defaultCluster, maxRunningPerCluster: req.maxRunning, retainMs: req.retainMs, webhookSecret, sources, autoscale, s3, log: run.log})
  try {
    const app = await buildServer(service, {version: req.version, maxUploadBytes: req.maxUploadBytes, bodyLimitBytes: 32 * 1024 * 1024, tls, logLevel: req.logLevel})
    const address = await app.listen({host, port})
    service.start()
    run.log(`database ${describeDb(req.db)}, files in ${req.dataDir}`)
    return {
      url: address,
      close: async () => {
        await app.close()
        await service.stop()
      },
    }
  } catch (error) {
    await service.stop().catch(() => undefined)
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`--listen ${req.listen}: the address is in use`)
    throw error
  }
}
