import type {SshSession} from '../../remote/session.js'
import {httpViaSsh, openHttpViaSsh} from '../../remote/tunnel-http.js'
import {NomadApi, type NomadTransport} from './api.js'
import {NOMAD_PORTS} from './agent-config.js'
import {nomadLayout, secretFiles} from './layout.js'

/** The name every server certificate carries (Nomad's own convention); clients verify it. */
export const SERVER_NAME = 'server.global.nomad'

/**
 * Nomad's HTTP API on the head, reached through the head's SSH connection with TLS (the cluster's CA) and, once
 * ACLs are bootstrapped, the management token, both read from the head over SSH: nothing is kept on the client.
 */
export async function headApi(head: {session: SshSession; address: string; home: string}, cluster: string, opts: {withToken?: boolean} = {}): Promise<NomadApi> {
  const layout = nomadLayout(head.home, cluster)
  const files = secretFiles(layout)
  const [ca, cert, key, token] = await Promise.all([
    head.session.readFile(layout.caFile),
    head.session.readFile(files.cliCert),
    head.session.readFile(files.cliKey),
    opts.withToken === false ? Promise.resolve(undefined) : head.session.readFile(files.token),
  ])
  if (!ca || !cert || !key) throw new Error(`the Nomad CA or cms's client certificate is missing on the head of ${cluster}: rerun 'cms cluster create -n ${cluster}'`)
  const tls = {ca: ca.toString('utf8'), servername: SERVER_NAME, cert: cert.toString('utf8'), key: key.toString('utf8')}
  const transport: NomadTransport = {
    request: async (req) => {
      const res = await httpViaSsh(head.session, head.address, NOMAD_PORTS.http, pathWithQuery(req.path, req.query), {
        method: req.method,
        body: req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body),
        headers: req.headers,
        timeoutMs: req.timeoutMs,
        tls,
      })
      return {status: res.status, headers: res.headers, body: res.body}
    },
    stream: async (req) => {
      const res = await openHttpViaSsh(head.session, head.address, NOMAD_PORTS.http, pathWithQuery(req.path, req.query), {
        method: req.method,
        headers: req.headers,
        timeoutMs: req.timeoutMs,
        tls,
      })
      return {status: res.statusCode ?? 0, headers: res.headers, body: res}
    },
  }
  return new NomadApi(transport, token?.toString('utf8').trim())
}

function pathWithQuery(path: string, query?: Record<string, string | number | boolean | undefined>): string {
  const entries = Object.entries(query ?? {}).filter(([, v]) => v !== undefined) as Array<[string, string | number | boolean]>
  if (entries.length === 0) return path
  return `${path}?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}`
}
