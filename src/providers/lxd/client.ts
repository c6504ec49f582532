import {createHash, X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'
import type {PeerCertificate} from 'node:tls'
import {Agent, request} from 'undici'
import {describeEndpoint, type LxdEndpoint} from './settings.js'

/** An LXD API error, or the daemon could not be reached (`unreachable`). */
export class LxdError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly unreachable = false,
  ) {
    super(message)
  }
}

/** LXD's answer envelope: sync results, async operations, errors. */
interface Envelope<T> {
  type: 'sync' | 'async' | 'error'
  status_code?: number
  error_code?: number
  error?: string
  operation?: string
  metadata: T
}

interface Operation {
  id: string
  status: string
  status_code: number
  err?: string
}

const REQUEST_TIMEOUT_MS = 60_000
/** LXD waits up to this long per `wait` call; the caller's deadline bounds the number of calls. */
const OPERATION_WAIT_S = 20

/** SHA-256 of a certificate's DER bytes, as colon-separated hex (Node's fingerprint256 format). */
export function certificateFingerprint(pem: string): string {
  const der = new X509Certificate(pem).raw
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':')
}

/**
 * TLS options for a remote daemon: cms presents its client certificate and trusts exactly the server certificate it
 * was given (that certificate as the only CA, and its fingerprint pinned), as `lxc remote add` does after accepting
 * one; the host name is not what is checked, since LXD's certificates name the machine, not an address.
 */
export function remoteTlsOptions(endpoint: Extract<LxdEndpoint, {kind: 'remote'}>, read: (path: string) => string = (p) => readFileSync(p, 'utf8')) {
  const serverCert = read(endpoint.serverCert)
  const pinned = certificateFingerprint(serverCert)
  return {
    cert: read(endpoint.clientCert),
    key: read(endpoint.clientKey),
    ca: serverCert,
    rejectUnauthorized: true,
    checkServerIdentity: (_host: string, cert: PeerCertificate): Error | undefined =>
      cert.fingerprint256 === pinned ? undefined : new Error(`the LXD server's certificate (${cert.fingerprint256}) is not the one trusted (${pinned})`),
  }
}

/** The LXD REST API (https://documentation.ubuntu.com/lxd/en/latest/rest-api/) over the unix socket or HTTPS. */
export class LxdApi {
  private readonly agent: Agent
  private readonly origin: string
  private readonly requestTimeoutMs: number

  /** Timeouts: short ones for `list` (a daemon that does not answer is skipped), the defaults for the rest. */
  constructor(
    readonly endpoint: LxdEndpoint,
    {connectTimeoutMs = 10_000, requestTimeoutMs = REQUEST_TIMEOUT_MS}: {connectTimeoutMs?: number; requestTimeoutMs?: number} = {},
  ) {
    this.requestTimeoutMs = requestTimeoutMs
    if (endpoint.kind === 'socket') {
      this.agent = new Agent({connect: {socketPath: endpoint.socket, timeout: connectTimeoutMs}})
      this.origin = 'http://lxd'
    } else {
      this.agent = new Agent({connect: {...remoteTlsOptions(endpoint), timeout: connectTimeoutMs}})
      this.origin = endpoint.url
    }
  }

  /** One call; async operations are returned as they are (see `run`). */
  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<Envelope<T>> {
    let res
    try {
      res = await request(`${this.origin}${path}`, {
        method,
        dispatcher: this.agent,
        headers: body === undefined ? {} : {'content-type': 'application/json'},
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: this.requestTimeoutMs,
        bodyTimeout: this.requestTimeoutMs,
      })
    } catch (error) {
      const e = error as NodeJS.ErrnoException
      throw new LxdError(`cannot reach the LXD daemon at ${describeEndpoint(this.endpoint)} (${e.code ?? e.message})`, undefined, true)
    }
    const text = await res.body.text()
    let envelope: Envelope<T>
    try {
      envelope = JSON.parse(text) as Envelope<T>
    } catch {
      throw new LxdError(`LXD ${method} ${path}: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 200)}`, res.statusCode)
    }
    if (envelope.type === 'error' || res.statusCode >= 400) {
      throw new LxdError(`LXD ${method} ${path.split('?')[0]}: ${envelope.error || `HTTP ${res.statusCode}`}`, envelope.error_code ?? res.statusCode)
    }
    return envelope
  }

  async get<T>(path: string): Promise<T> {
    return (await this.call<T>('GET', path)).metadata
  }

  /** A call that may start an operation: waits for it (bounded by `timeoutMs`) and fails with the operation's error. */
  async run(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body: unknown, timeoutMs: number): Promise<void> {
    const envelope = await this.call<Operation>(method, path, body)
    if (envelope.type !== 'async' || !envelope.operation) return
    await this.waitOperation(envelope.operation, `${method} ${path}`, timeoutMs)
  }

  private async waitOperation(operation: string, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (let round = 0; round < 1000; round++) {
      const left = Math.ceil((deadline - Date.now()) / 1000)
      if (left <= 0) break
      const op = await this.get<Operation>(`${operation}/wait?timeout=${Math.min(left, OPERATION_WAIT_S)}`)
      if (op.status_code === 200) return
      if (op.status_code >= 400) throw new LxdError(`LXD ${what}: ${op.err || op.status}`)
    }
    throw new LxdError(`LXD ${what}: not done within ${Math.round(timeoutMs / 1000)} s`)
  }

  async close(): Promise<void> {
    await this.agent.close()
  }
}
