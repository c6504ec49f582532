import {request, type IncomingMessage} from 'node:http'
import type {Readable} from 'node:stream'
import type {Socket} from 'node:net'
import {connect as tlsConnect} from 'node:tls'
import type {SshSession} from './session.js'

/** TLS to the remote API: the cluster's CA, the name its certificate carries, and a client certificate if required. */
export interface TunnelTls {
  ca: string
  servername: string
  cert?: string
  key?: string
}

export interface TunnelRequest {
  method?: string
  body?: string
  /** A body streamed from a file (uploads), instead of `body`. */
  upload?: {stream: Readable; bytes: number}
  headers?: Record<string, string>
  timeoutMs?: number
  tls?: TunnelTls
}

/**
 * An HTTP(S) request to an address only the remote host can reach, carried over the host's SSH connection
 * (direct-tcpip), so engine APIs never need to listen on a public address. Resolves with the response once its
 * headers arrive; the body is read by the caller (a stream, for logs that follow).
 */
export async function openHttpViaSsh(session: SshSession, address: string, port: number, path: string, opts: TunnelRequest = {}): Promise<IncomingMessage> {
  const stream = await session.forward(address, port)
  const socket = opts.tls
    ? tlsConnect({socket: stream as unknown as Socket, ca: opts.tls.ca, servername: opts.tls.servername, cert: opts.tls.cert, key: opts.tls.key})
    : (stream as unknown as Socket)
  const scheme = opts.tls ? 'https' : 'http'
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {...opts.headers}
    if (opts.body !== undefined) {
      headers['content-type'] ??= 'application/json'
      headers['content-length'] = Buffer.byteLength(opts.body)
    } else if (opts.upload) {
      headers['content-type'] ??= 'application/octet-stream'
      headers['content-length'] = opts.upload.bytes
    }
    // A timer, not the request's `timeout` option: that calls setTimeout on the socket, which an SSH channel lacks.
    const timer = setTimeout(
      () => req.destroy(new Error(`${scheme}://${address}:${port}${path.split('?')[0]} via ${session.target.host}: timed out`)),
      opts.timeoutMs ?? 15_000,
    )
    const req = request({host: address, port, path, method: opts.method ?? 'GET', headers, createConnection: () => socket}, (res) => {
      clearTimeout(timer)
      resolve(res)
    })
    req.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    if (opts.upload) {
      opts.upload.stream.on('error', (error) => req.destroy(error))
      opts.upload.stream.pipe(req)
    } else req.end(opts.body)
  })
}

/** Like openHttpViaSsh, with the whole body read as text. */
export async function httpViaSsh(
  session: SshSession,
  address: string,
  port: number,
  path: string,
  opts: TunnelRequest = {},
): Promise<{status: number; body: string; headers: Record<string, string | string[] | undefined>}> {
  const res = await openHttpViaSsh(session, address, port, path, opts)
  const chunks: Buffer[] = []
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => res.destroy(new Error(`${path.split('?')[0]} via ${session.target.host}: the response did not finish in time`)), opts.timeoutMs ?? 15_000)
    res.on('data', (c: Buffer) => chunks.push(c))
    res.on('end', () => {
      clearTimeout(timer)
      resolve({status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers})
    })
    res.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
  })
}
