import type {IncomingMessage} from 'node:http'
import type {Readable} from 'node:stream'
import type {SshSession} from '../../remote/session.js'
import {httpViaSsh, openHttpViaSsh} from '../../remote/tunnel-http.js'

/** A file or folder as WebHDFS reports it (FileStatus). */
export interface HdfsStatus {
  /** The entry's own name (LISTSTATUS); empty for the path asked about (GETFILESTATUS). */
  pathSuffix: string
  type: 'FILE' | 'DIRECTORY' | 'SYMLINK'
  length: number
}

/** Where the NameNode's HTTP server listens (the head's private address). */
export interface NameNodeHttp {
  address: string
  port: number
}

/** Encodes an absolute HDFS path for a WebHDFS URL, one segment at a time. */
export function webhdfsPath(path: string): string {
  if (!path.startsWith('/')) throw new Error(`HDFS paths are absolute here: ${JSON.stringify(path)}`)
  return `/webhdfs/v1${path.split('/').map(encodeURIComponent).join('/')}`
}

/**
 * HDFS through WebHDFS, over the head's SSH connection: the NameNode answers metadata calls and redirects reads and
 * writes to a DataNode's private address, which the same connection reaches (direct-tcpip), so nothing of the
 * cluster listens anywhere but its private network. `user` is the name HDFS records ("simple" authentication).
 */
export class WebHdfs {
  constructor(
    private readonly session: SshSession,
    private readonly namenode: NameNodeHttp,
    private readonly user: string,
  ) {}

  private url(path: string, op: string, params: Record<string, string> = {}): string {
    const query = new URLSearchParams({op, 'user.name': this.user, ...params})
    return `${webhdfsPath(path)}?${query}`
  }

  private async call<T>(method: string, path: string, op: string, params: Record<string, string> = {}): Promise<{status: number; body: T | undefined; error?: string}> {
    const res = await httpViaSsh(this.session, this.namenode.address, this.namenode.port, this.url(path, op, params), {method, timeoutMs: 30_000})
    const parsed = res.body ? (JSON.parse(res.body) as T & {RemoteException?: {message?: string}}) : undefined
    return {status: res.status, body: parsed, error: parsed?.RemoteException?.message}
  }

  /** The file or folder at `path`, or undefined when there is none. */
  async status(path: string): Promise<HdfsStatus | undefined> {
    const r = await this.call<{FileStatus: HdfsStatus}>('GET', path, 'GETFILESTATUS')
    if (r.status === 404) return undefined
    if (r.status !== 200 || !r.body) throw new Error(`HDFS ${path}: ${r.error ?? `HTTP ${r.status}`}`)
    return r.body.FileStatus
  }

  async list(path: string): Promise<HdfsStatus[]> {
    const r = await this.call<{FileStatuses: {FileStatus: HdfsStatus[]}}>('GET', path, 'LISTSTATUS')
    if (r.status !== 200 || !r.body) throw new Error(`HDFS ${path}: ${r.error ?? `HTTP ${r.status}`}`)
    return r.body.FileStatuses.FileStatus
  }

  async mkdirs(path: string): Promise<void> {
    const r = await this.call<{boolean: boolean}>('PUT', path, 'MKDIRS')
    if (r.status !== 200 || !r.body?.boolean) throw new Error(`HDFS ${path}: cannot make the folder: ${r.error ?? `HTTP ${r.status}`}`)
  }

  /** The DataNode URL the NameNode sends a read or write to (a 307 redirect, as WebHDFS does). */
  private async redirect(method: 'GET' | 'PUT', path: string, op: string, params: Record<string, string>): Promise<URL> {
    const res = await httpViaSsh(this.session, this.namenode.address, this.namenode.port, this.url(path, op, params), {method, timeoutMs: 30_000})
    const location = res.headers.location
    if (res.status !== 307 || typeof location !== 'string') {
      let message = `HTTP ${res.status}`
      try {
        message = (JSON.parse(res.body) as {RemoteException?: {message?: string}}).RemoteException?.message ?? message
      } catch {}
      throw new Error(`HDFS ${path}: ${message}`)
    }
    return new URL(location)
  }

  /** Writes `bytes` from `stream` to `path` (its parents are made); `overwrite` replaces a file there. */
  async create(path: string, upload: {stream: Readable; bytes: number}, overwrite: boolean): Promise<void> {
    const target = await this.redirect('PUT', path, 'CREATE', {overwrite: String(overwrite)})
    // A slow link still gets the whole file through: at least a minute, plus a second per MiB.
    const timeoutMs = 60_000 + Math.ceil(upload.bytes / 1048576) * 1000
    const res = await openHttpViaSsh(this.session, target.hostname, Number(target.port), target.pathname + target.search, {method: 'PUT', upload, timeoutMs})
    const body = await readText(res)
    if (res.statusCode !== 201) throw new Error(`HDFS ${path}: the DataNode answered HTTP ${res.statusCode}: ${body.slice(0, 200)}`)
  }

  /** The content of the file at `path`, streamed from a DataNode holding it. */
  async open(path: string): Promise<IncomingMessage> {
    const source = await this.redirect('GET', path, 'OPEN', {})
    const res = await openHttpViaSsh(this.session, source.hostname, Number(source.port), source.pathname + source.search, {timeoutMs: 60_000})
    if (res.statusCode !== 200) throw new Error(`HDFS ${path}: the DataNode answered HTTP ${res.statusCode}: ${(await readText(res)).slice(0, 200)}`)
    return res
  }
}

function readText(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    res.on('data', (c: Buffer) => chunks.push(c))
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    res.on('error', reject)
  })
}
