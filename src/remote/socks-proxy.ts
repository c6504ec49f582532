import {isIP} from 'node:net'
import {createServer, type Server, type Socket} from 'node:net'
import type {LocalForward} from './local-forward.js'
import type {SshSession} from './session.js'

/**
 * A SOCKS5 proxy on 127.0.0.1 whose connections go out through the host's SSH connection (like `ssh -D`), to the
 * addresses in `allowed` only: clients that dial many private addresses (Hadoop's, told by the NameNode which
 * DataNode to stream to) reach exactly the cluster's hosts. No authentication (loopback only); CONNECT only.
 */

/** What the client asked for in its CONNECT request, or why it cannot be served (a SOCKS5 reply code). */
export type SocksRequest = {ok: true; host: string; port: number; length: number} | {ok: false; reply: number} | {ok: false; incomplete: true}

const REPLY = {succeeded: 0, notAllowed: 2, hostUnreachable: 4, commandNotSupported: 7, addressNotSupported: 8} as const

/** Parses a CONNECT request (after the greeting) from `buf`: pure, for tests. */
export function parseSocksRequest(buf: Buffer): SocksRequest {
  if (buf.length < 5) return {ok: false, incomplete: true}
  if (buf[0] !== 5) return {ok: false, reply: REPLY.commandNotSupported}
  if (buf[1] !== 1) return {ok: false, reply: REPLY.commandNotSupported}
  const type = buf[3]
  let host: string
  let at: number
  if (type === 1) {
    if (buf.length < 10) return {ok: false, incomplete: true}
    host = [...buf.subarray(4, 8)].join('.')
    at = 8
  } else if (type === 3) {
    const n = buf[4]!
    if (buf.length < 5 + n + 2) return {ok: false, incomplete: true}
    host = buf.subarray(5, 5 + n).toString('latin1')
    at = 5 + n
  } else if (type === 4) {
    if (buf.length < 22) return {ok: false, incomplete: true}
    const parts: string[] = []
    for (let i = 0; i < 16; i += 2) parts.push(buf.readUInt16BE(4 + i).toString(16))
    host = parts.join(':')
    at = 20
  } else return {ok: false, reply: REPLY.addressNotSupported}
  return {ok: true, host, port: buf.readUInt16BE(at), length: at + 2}
}

function reply(code: number): Buffer {
  return Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0])
}

/** Normalizes an address for comparison (IPv6 in its shortest form). */
function canonical(address: string): string {
  if (isIP(address) !== 6) return address
  return new URL(`http://[${address}]/`).hostname.replace(/^\[|\]$/g, '')
}

export async function socksProxy(session: SshSession, allowed: string[], localPort = 0): Promise<LocalForward> {
  const permitted = new Set(allowed.map(canonical))
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    let buf = Buffer.alloc(0)
    let stage: 'greeting' | 'request' = 'greeting'
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      if (stage === 'greeting') {
        if (buf.length < 2 || buf.length < 2 + buf[1]!) return
        const methods = buf.subarray(2, 2 + buf[1]!)
        if (buf[0] !== 5 || !methods.includes(0)) {
          socket.end(Buffer.from([5, 0xff]))
          return
        }
        socket.write(Buffer.from([5, 0]))
        buf = buf.subarray(2 + buf[1]!)
        stage = 'request'
      }
      const request = parseSocksRequest(buf)
      if (!request.ok) {
        if ('reply' in request) socket.end(reply(request.reply))
        return
      }
      socket.off('data', onData)
      socket.pause()
      if (!permitted.has(canonical(request.host))) {
        socket.end(reply(REPLY.notAllowed))
        return
      }
      const rest = buf.subarray(request.length)
      session.forward(request.host, request.port).then(
        (channel) => {
          socket.write(reply(REPLY.succeeded))
          if (rest.length > 0) channel.write(rest)
          socket.pipe(channel).pipe(socket)
          channel.on('error', () => socket.destroy())
          socket.on('close', () => channel.destroy())
          channel.on('close', () => socket.destroy())
          socket.resume()
        },
        () => socket.end(reply(REPLY.hostUnreachable)),
      )
    }
    socket.on('data', onData)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(localPort, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  return {
    port: typeof address === 'object' && address ? address.port : localPort,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
