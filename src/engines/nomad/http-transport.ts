import {Agent as HttpAgent, request as httpRequest} from 'node:http'
import type {IncomingMessage, RequestOptions} from 'node:http'
import {Agent as HttpsAgent, request as httpsRequest} from 'node:https'
import type {Socket} from 'node:net'
import type {Duplex} from 'node:stream'
import {connect as tlsConnect} from 'node:tls'
import type {NomadRequest, NomadResponse, NomadStreamResponse, NomadStreamTransport, NomadTransport} from './api.js'

/**
 * NomadApi transports over Node's http/https: straight to an address (loopback, a local SSH forward), or over
 * a stream the caller opens per request (e.g. an SSH direct-tcpip channel to the agent's private address).
 * With `tls` the agent is verified against the cluster CA under `servername` (server.<region>.nomad) and cms
 * presents its client certificate (the agents require one: verify_https_client).
 */
export interface NomadEndpoint {
  host: string
  port: number
  /** cert/key: cms's client certificate (leaving them out only makes sense to show that agents refuse that). */
  tls?: {ca?: string; cert?: string; key?: string; servername: string}
  /** Opens the byte stream to the agent for one request; without it, a TCP connection to host:port. */
  connect?: () => Promise<Duplex>
}

export interface NomadHttp {
  transport: NomadTransport
  stream: NomadStreamTransport
  /** Closes idle kept-alive connections. */
  close(): void
}

export function nomadHttp(endpoint: NomadEndpoint): NomadHttp {
  const tls = endpoint.tls
  const agent = endpoint.connect
    ? tls
      ? new StreamTlsAgent(endpoint.connect, tls)
      : undefined
    : tls
      ? new HttpsAgent({keepAlive: true, maxSockets: 8, ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.servername})
      : new HttpAgent({keepAlive: true, maxSockets: 8})

  const open = async (req: NomadRequest): Promise<IncomingMessage> => {
    const search = new URLSearchParams(req.query ?? {}).toString()
    const headers: Record<string, string | number> = {...req.headers}
    if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body)
    const options: RequestOptions & {servername?: string} = {
      host: endpoint.host,
      port: endpoint.port,
      method: req.method,
      path: search ? `${req.path}?${search}` : req.path,
      headers,
      agent,
      signal: req.signal,
    }
    if (tls) Object.assign(options, {ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.servername})
    if (endpoint.connect && !agent) {
      const stream = await endpoint.connect()
      options.createConnection = () =>
        (tls
          ? tlsConnect({socket: stream as Socket, ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.servername})
          : stream) as Socket
    }
    const send = tls ? httpsRequest : httpRequest
    return new Promise<IncomingMessage>((resolve, reject) => {
      const r = send(options, resolve)
      r.on('error', reject)
      r.end(req.body)
    })
  }

  const transport: NomadTransport = async (req) => {
    const res = await open(req)
    const chunks: Buffer[] = []
    for await (const c of res) chunks.push(c as Buffer)
    return {status: res.statusCode ?? 0, headers: flatHeaders(res), body: Buffer.concat(chunks).toString('utf8')} satisfies NomadResponse
  }

  const stream: NomadStreamTransport = async (req) => {
    const res = await open(req)
    return {status: res.statusCode ?? 0, headers: flatHeaders(res), body: bodyOf(res, req.signal)} satisfies NomadStreamResponse
  }

  return {transport, stream, close: () => agent?.destroy()}
}

/**
 * Keeps TLS connections over caller-opened streams (SSH channels) alive and reuses them: a request then costs a
 * few milliseconds instead of a channel open and a handshake (~40-90 ms through SSH).
 */
class StreamTlsAgent extends HttpsAgent {
  constructor(
    private readonly open: () => Promise<Duplex>,
    private readonly tls: NonNullable<NomadEndpoint['tls']>,
  ) {
    super({keepAlive: true, maxSockets: 8})
  }

  createConnection(_options: unknown, oncreate?: (error: Error | null, socket: Duplex) => void): undefined {
    if (!oncreate) throw new Error('StreamTlsAgent connects asynchronously: Node passes a callback')
    this.open().then(
      (stream) => {
        const {ca, cert, key, servername} = this.tls
        const socket = tlsConnect({socket: stream as Socket, ca, cert, key, servername})
        // An SSH channel has no keep-alive or timeouts of its own: the TLS socket must not ask it for them.
        socket.setKeepAlive = () => socket
        oncreate(null, socket)
      },
      (error: Error) => oncreate(error, undefined as unknown as Duplex),
    )
    return undefined
  }
}

/** The body as it arrives; an abort through the request's signal ends it quietly. */
async function* bodyOf(res: IncomingMessage, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  try {
    for await (const c of res) yield c as Buffer
  } catch (e) {
    if (signal?.aborted) return
    throw e
  } finally {
    res.destroy()
  }
}

function flatHeaders(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v
  return out
}
