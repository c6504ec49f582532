import {existsSync, readFileSync, statSync} from 'node:fs'
import {resolve} from 'node:path'
import type {AttachedEntry} from '../../config/attached.js'
import type {ClusterInfo} from '../../output/results.js'
import type {Host} from '../../providers/provider.js'
import {UsageError} from '../../remote/errors.js'
import type {AttachedEngine} from '../engine.js'
import {NomadApi, type NodeListStub} from './api.js'
import {nomadClusterInfo} from './describe.js'
import {nomadHttp, type NomadHttp} from './http-transport.js'
import {NomadJobService} from './jobs.js'

/**
 * A Nomad cluster cms did not make: its HTTP API at the address given, as the nomad CLI reaches it (NOMAD_TOKEN,
 * NOMAD_CACERT, NOMAD_CLIENT_CERT/KEY, NOMAD_TLS_SERVER_NAME). The TLS files are named by path and read at each use;
 * the ACL token is kept in the access file (0600). Its hosts are its client nodes.
 */
type NomadAccess = NonNullable<AttachedEntry['nomad']>

function checkFile(what: string, path: string | undefined): string | undefined {
  if (!path) return undefined
  const file = resolve(path)
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`${what} not found: ${file}`)
  return file
}

/** The access part from --nomad-addr and the nomad CLI's environment; UsageError on a bad address or a missing file. */
export function nomadAccess(address: string, env: Record<string, string | undefined>): NomadAccess {
  let url: URL
  try {
    url = new URL(address)
  } catch {
    throw new UsageError(`--nomad-addr must be a URL like https://10.0.0.5:4646, not ${JSON.stringify(address)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--nomad-addr must be an http or https URL, not ${JSON.stringify(address)}`)
  if (url.pathname !== '/' || url.search || url.username) throw new UsageError(`--nomad-addr is the agent's address only (scheme, host, port), not ${JSON.stringify(address)}`)
  const https = url.protocol === 'https:'
  const tls = {caCert: checkFile('NOMAD_CACERT', env.NOMAD_CACERT), clientCert: checkFile('NOMAD_CLIENT_CERT', env.NOMAD_CLIENT_CERT), clientKey: checkFile('NOMAD_CLIENT_KEY', env.NOMAD_CLIENT_KEY)}
  if (!https && (tls.caCert || tls.clientCert)) throw new UsageError('NOMAD_CACERT and NOMAD_CLIENT_CERT are for an https address: --nomad-addr names http')
  if (Boolean(tls.clientCert) !== Boolean(tls.clientKey)) throw new UsageError('NOMAD_CLIENT_CERT and NOMAD_CLIENT_KEY go together')
  const entry: NomadAccess = {address: url.origin}
  if (env.NOMAD_TOKEN) entry.token = env.NOMAD_TOKEN
  if (https) Object.assign(entry, Object.fromEntries(Object.entries(tls).filter(([, v]) => v)))
  if (https && env.NOMAD_TLS_SERVER_NAME) entry.tlsServerName = env.NOMAD_TLS_SERVER_NAME
  return entry
}

function openApi(entry: AttachedEntry): {api: NomadApi; http: NomadHttp; url: string} {
  const n = entry.nomad
  if (!n) throw new Error(`the access file of ${entry.name} names no Nomad address: attach it again`)
  const url = new URL(n.address)
  const read = (path?: string) => (path ? readFileSync(path, 'utf8') : undefined)
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const http = nomadHttp({
    host,
    port,
    // No CA file: the system's CAs verify the agent.
    ...(url.protocol === 'https:' ? {tls: {ca: read(n.caCert), cert: read(n.clientCert), key: read(n.clientKey), servername: n.tlsServerName ?? host}} : {}),
  })
  return {api: new NomadApi({transport: http.transport, stream: http.stream, token: n.token}), http, url: n.address}
}

/** Client nodes as hosts: a node that also serves is a head. */
export function nodesAsHosts(nodes: NodeListStub[], servers: string[]): Host[] {
  const serving = new Set(servers.map((p) => p.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')))
  return nodes.map((n) => ({id: n.Name, role: serving.has(n.Address) ? 'head' : 'worker', target: {host: n.Address, port: 22, user: '', identityFiles: []}, privateAddress: n.Address, state: 'running'}))
}

export const nomadAttached: AttachedEngine = {
  access(options) {
    if (options.kubeconfig !== undefined || options.context !== undefined) throw new UsageError('--kubeconfig and --context are for Kubernetes clusters: pass --kubeconfig or --nomad-addr, not both')
    if (!options.nomadAddr) throw new UsageError('pass --kubeconfig FILE (a Kubernetes cluster) or --nomad-addr URL (a Nomad cluster)')
    return nomadAccess(options.nomadAddr, options.env)
  },

  async check(entry) {
    const {api, http, url} = openApi(entry)
    try {
      const leader = await api.leader()
      if (!leader) throw new Error(`the Nomad servers at ${url} have no leader`)
      const nodes = (await api.nodes()).value
      return `Nomad API at ${url}, leader ${leader}, ${nodes.length} client node${nodes.length === 1 ? '' : 's'}`
    } finally {
      http.close()
    }
  },

  async describe(entry): Promise<ClusterInfo> {
    let http: NomadHttp | undefined
    try {
      const opened = openApi(entry)
      http = opened.http
      const [leader, peers, nodes] = await Promise.all([opened.api.leader(), opened.api.peers(), opened.api.nodes({resources: true}).then((r) => r.value)])
      return nomadClusterInfo(entry.name, entry.provider, nodesAsHosts(nodes, peers), {leader, peers, nodes, apiUrl: opened.url})
    } catch (error) {
      return nomadClusterInfo(entry.name, entry.provider, [], undefined, (error as Error).message)
    } finally {
      http?.close()
    }
  },

  async openJobs(entry, input) {
    const {api, http} = openApi(entry)
    return new NomadJobService(api, {cluster: entry.name, log: input.log, parallel: input.parallel}, () => http.close())
  },
}
