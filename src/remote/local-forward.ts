import {createServer, type Server, type Socket} from 'node:net'
import type {SshSession} from './session.js'

export interface LocalForward {
  /** The local port on 127.0.0.1. */
  port: number
  close(): Promise<void>
}

/**
 * Listens on 127.0.0.1 (loopback only: nobody else on the user's machine network reaches the engine) and carries
 * every connection to remoteAddress:remotePort through the host's SSH connection, like `ssh -L`.
 */
export async function forwardLocal(session: SshSession, remoteAddress: string, remotePort: number, localPort = 0): Promise<LocalForward> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.pause()
    session.forward(remoteAddress, remotePort).then(
      (channel) => {
        socket.pipe(channel).pipe(socket)
        channel.on('error', () => socket.destroy())
        socket.on('error', () => channel.destroy())
        socket.on('close', () => channel.destroy())
        channel.on('close', () => socket.destroy())
        socket.resume()
      },
      () => socket.destroy(),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(localPort, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : localPort
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
