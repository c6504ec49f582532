import {readFileSync} from 'node:fs'
import type {RunOptions} from '../cluster/context.js'
import {UsageError} from '../remote/errors.js'
import {describeDb} from './store/db.js'
import {buildServer} from './http/server.js'
import {isLoopback, parseListen} from './listen.js'
import {TaskService} from './service.js'

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
  const read = (path: string, flag: string) => {
    try {
      return readFileSync(path)
    } catch (error) {
      throw new UsageError(`${flag} ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
    }
  }
  return {cert: read(req.tlsCert, '--tls-cert'), key: read(req.tlsKey, '--tls-key')}
}

/** Opens the database (migrating it), starts the loops and listens; every flag is checked before anything starts. */
export async function startServer(req: ServeRequest, run: RunOptions): Promise<RunningServer> {
  const {host, port} = parseListen(req.listen)
  const tls = readTls(req)
  if (!tls && !isLoopback(host)) {
    run.log(`WARNING: listening on ${host} without TLS: API keys and task data cross the network in clear text. Use --tls-cert and --tls-key.`)
  }
  const service = await TaskService.open({db: req.db, dataDir: req.dataDir, run, clusters: req.clusters, defaultCluster: req.defaultCluster, maxRunningPerCluster: req.maxRunning, retainMs: req.retainMs, log: run.log})
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
