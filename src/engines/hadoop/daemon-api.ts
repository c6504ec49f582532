import type {SshSession} from '../../remote/session.js'
import {httpViaSsh, type TunnelRequest} from '../../remote/tunnel-http.js'
import {HADOOP_PORTS} from './site-config.js'

/**
 * The NameNode's and ResourceManager's HTTP APIs, reached over the head's SSH connection (they listen on the head's
 * private address only, without authentication).
 */

async function getJson<T>(head: SshSession, address: string, port: number, path: string, what: string, opts: TunnelRequest = {}): Promise<T> {
  const {status, body} = await httpViaSsh(head, address, port, path, opts)
  if (status < 200 || status >= 300) throw new Error(`the ${what} at ${address}:${port} answered HTTP ${status} to ${opts.method ?? 'GET'} ${path.split('?')[0]}: ${body.slice(0, 200).trim()}`)
  return (body ? JSON.parse(body) : {}) as T
}

/** A call to the ResourceManager's REST API (/ws/v1/cluster/...). */
export function rmRequest<T>(head: SshSession, headAddress: string, path: string, opts: TunnelRequest = {}): Promise<T> {
  return getJson<T>(head, headAddress, HADOOP_PORTS.rmHttp, path, 'ResourceManager', {...opts, headers: {accept: 'application/json', ...opts.headers}})
}

/** One bean of the NameNode's /jmx. */
export async function namenodeBean<T>(head: SshSession, headAddress: string, bean: string): Promise<T | undefined> {
  const out = await getJson<{beans?: T[]}>(head, headAddress, HADOOP_PORTS.namenodeHttp, `/jmx?qry=${encodeURIComponent(bean)}`, 'NameNode')
  return out.beans?.[0]
}
