import {isIP} from 'node:net'
import {UsageError} from '../remote/errors.js'

/** `HOST:PORT`, `[v6]:PORT` or `:PORT` (loopback) -> host and port; bad input names the flag. */
export function parseListen(text: string): {host: string; port: number} {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim())
  const port = m ? Number(m[3]) : NaN
  if (!m || port > 65535) throw new UsageError(`invalid --listen ${JSON.stringify(text)}: expected HOST:PORT, e.g. 127.0.0.1:8082 or 0.0.0.0:8443`)
  const host = m[1] ?? (m[2] || '127.0.0.1')
  if (m[1] && isIP(m[1]) !== 6) throw new UsageError(`invalid --listen ${JSON.stringify(text)}: ${m[1]} is not an IPv6 address`)
  return {host, port}
}

/** Whether only this machine can reach the address (no TLS needed there). */
export function isLoopback(host: string): boolean {
  // 127.x.y.z only as an address: a host name like 127.example.com may resolve to any address.
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && /^127\./.test(host))
}

/** `512m`, `2g`, `100k` or bytes -> bytes. */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+)([kmg]?)b?$/i.exec(text.trim())
  if (!m) throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: expected a size like 256m or 1g`)
  const mult = {'': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3}[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g']
  const bytes = Number(m[1]) * mult
  if (bytes < 1) throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: must be at least 1 byte`)
  return bytes
}
