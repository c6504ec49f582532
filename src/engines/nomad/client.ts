import type {SshSession} from '../../remote/session.js'
import {NOMAD_PORTS} from './agent-config.js'
import {NomadApi} from './api.js'
import {nomadServerName} from './certificates.js'
import {nomadHttp} from './http-transport.js'
import {nomadLayout, secretFiles} from './layout.js'

export const REGION = 'global'

/**
 * Nomad's HTTP API on the head, reached through the head's SSH connection (a direct-tcpip channel per request)
 * with mutual TLS and, once ACLs are bootstrapped, the management token, all read from the head over SSH: nothing
 * is kept on the client.
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
  const http = nomadHttp({
    host: head.address,
    port: NOMAD_PORTS.http,
    tls: {ca: ca.toString('utf8'), cert: cert.toString('utf8'), key: key.toString('utf8'), servername: nomadServerName(REGION)},
    connect: () => head.session.forward(head.address, NOMAD_PORTS.http),
  })
  return new NomadApi({transport: http.transport, stream: http.stream, token: token?.toString('utf8').trim() || undefined})
}
