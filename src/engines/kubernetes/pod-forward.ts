import {createServer, type Socket} from 'node:net'
import type {KubeConfig} from '@kubernetes/client-node'
import type {LocalForward} from '../../remote/local-forward.js'

/**
 * Like `kubectl port-forward`: listens on 127.0.0.1 (loopback only) and carries every connection to the pod's port
 * through the API server's portforward subresource (a WebSocket per connection, with the kubeconfig's credentials and
 * TLS settings). For clusters cms reaches only through their API (attached): no host to open an SSH tunnel through.
 */
export async function forwardToPod(kc: KubeConfig, namespace: string, pod: string, port: number): Promise<LocalForward> {
  const {PortForward} = await import('@kubernetes/client-node')
  const forwarder = new PortForward(kc, true)
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    forwarder.portForward(namespace, pod, [port], socket, null, socket).then(
      (opened) => {
        const ws = typeof opened === 'function' ? opened() : opened
        if (!ws) return socket.destroy()
        ws.on('close', () => socket.destroy())
        ws.on('error', () => socket.destroy())
        socket.on('close', () => ws.close())
      },
      () => socket.destroy(),
    )
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('the local end of the pod forward has no port')
  return {
    port: address.port,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
