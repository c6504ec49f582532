import {request} from 'node:http'
import type {SshSession} from './session.js'

/**
 * An HTTP request to an address only the remote host can reach, carried over the host's SSH connection
 * (direct-tcpip), so engine APIs never need to listen on a public address.
 */
export async function httpViaSsh(
  session: SshSession,
  address: string,
  port: number,
  path: string,
  opts: {method?: string; body?: string; timeoutMs?: number} = {},
): Promise<{status: number; body: string}> {
  const stream = await session.forward(address, port)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: address,
        port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.body === undefined ? {} : {'content-type': 'application/json', 'content-length': Buffer.byteLength(opts.body)},
        createConnection: () => stream as unknown as import('node:net').Socket,
        timeout: opts.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8')}))
        res.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(new Error(`http://${address}:${port}${path} via ${session.target.host}: timed out`)))
    req.on('error', reject)
    req.end(opts.body)
  })
}
