import {isIP} from 'node:net'
import {hclInt, hclList, hclString} from './hcl.js'

/**
 * The Nomad agent configuration cms writes on a host (one file, HCL): a server and a client on server hosts,
 * a client elsewhere. Locked down: ACLs on, gossip encrypted, mutual TLS for HTTP and RPC with hostname checks,
 * every listener on the host's private address only, no update check, no cloud metadata probes.
 */

/** Nomad's default ports; every agent of a cluster uses the same ones. */
export const NOMAD_PORTS = {http: 4646, rpc: 4647, serf: 4648} as const

export type NomadPorts = {http: number; rpc: number; serf: number}

/** Task drivers cms can turn on (`exec` needs a CGO build and cgroups; `docker` a Docker engine on the host). */
export type NomadDriver = 'raw_exec' | 'exec' | 'docker'

export interface NomadAgentTlsFiles {
  caFile: string
  certFile: string
  keyFile: string
}

export interface NomadAgentConfigInput {
  /** Nomad's `name` and the client's node name. */
  nodeName: string
  region: string
  datacenter: string
  dataDir: string
  /** Folder for external task driver plugins (optional). */
  pluginDir?: string
  /** The host's private address: every listener binds here and every peer is told to use it. */
  privateAddress: string
  /** More addresses the HTTP API listens on besides the private one (e.g. 127.0.0.1 for a CLI on the host). */
  extraHttpAddresses?: string[]
  ports?: NomadPorts
  tls: NomadAgentTlsFiles
  /** Present on server hosts. */
  server?: {
    /** 1 or 3: the servers wait for this many before electing a leader. */
    bootstrapExpect: number
    /** Base64 gossip key (`nomad operator gossip keyring generate`: 32 random bytes). */
    gossipKey: string
    /** Private addresses of the other servers (Serf port added); empty for a single server. */
    join: string[]
  }
  /** Present on every host (servers run a client too). */
  client?: {
    /** Private addresses of the servers (RPC port added). */
    servers: string[]
    drivers: NomadDriver[]
    /** Node metadata (`meta` block), e.g. the cms host name. */
    meta?: Record<string, string>
  }
  logLevel?: 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE'
}

/**
 * Cloud environment fingerprinters probe 169.254.169.254 (unreachable on most hosts, and the AWS one crashes the
 * agent when AWS_CA_BUNDLE is set): a cms node's environment is the host itself. The consul one polls
 * 127.0.0.1:8500, and cms clusters have no Consul.
 */
export const FINGERPRINT_DENYLIST = ['env_aws', 'env_gce', 'env_azure', 'env_digitalocean', 'consul'] as const

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/
const GOSSIP_KEY = /^[A-Za-z0-9+/]{43}=$|^[A-Za-z0-9+/]{22}==$|^[A-Za-z0-9+/]{32}$/

export function renderAgentConfig(input: NomadAgentConfigInput): string {
  validate(input)
  const ports = input.ports ?? NOMAD_PORTS
  const addr = input.privateAddress
  const httpAddresses = [addr, ...(input.extraHttpAddresses ?? []).filter((a) => a !== addr)].join(' ')
  const lines: string[] = [
    '# Written by cms: edits are replaced on the next converge.',
    `name       = ${hclString(input.nodeName)}`,
    `region     = ${hclString(input.region)}`,
    `datacenter = ${hclString(input.datacenter)}`,
    `data_dir   = ${hclString(input.dataDir)}`,
  ]
  if (input.pluginDir) lines.push(`plugin_dir = ${hclString(input.pluginDir)}`)
  lines.push(
    `bind_addr  = ${hclString(addr)}`,
    `log_level  = ${hclString(input.logLevel ?? 'INFO')}`,
    'disable_update_check = true',
    'leave_on_interrupt   = true',
    'leave_on_terminate   = true',
    '',
    'addresses {',
    `  http = ${hclString(httpAddresses)}`,
    `  rpc  = ${hclString(addr)}`,
    `  serf = ${hclString(addr)}`,
    '}',
    '',
    'advertise {',
    `  http = ${hclString(hostPort(addr, ports.http))}`,
    `  rpc  = ${hclString(hostPort(addr, ports.rpc))}`,
    `  serf = ${hclString(hostPort(addr, ports.serf))}`,
    '}',
    '',
    'ports {',
    `  http = ${hclInt(ports.http)}`,
    `  rpc  = ${hclInt(ports.rpc)}`,
    `  serf = ${hclInt(ports.serf)}`,
    '}',
    '',
    'acl {',
    '  enabled = true',
    '}',
    '',
    'tls {',
    '  http = true',
    '  rpc  = true',
    `  ca_file   = ${hclString(input.tls.caFile)}`,
    `  cert_file = ${hclString(input.tls.certFile)}`,
    `  key_file  = ${hclString(input.tls.keyFile)}`,
    '  verify_server_hostname = true',
    '  verify_https_client    = true',
    '}',
    '',
    // No Consul on cms clusters: without this, servers look for peers and advertise themselves at
    // 127.0.0.1:8500 (errors in the log while they wait for bootstrap_expect).
    'consul {',
    '  auto_advertise   = false',
    '  server_auto_join = false',
    '  client_auto_join = false',
    '}',
  )
  if (input.server) {
    lines.push(
      '',
      'server {',
      '  enabled          = true',
      `  bootstrap_expect = ${hclInt(input.server.bootstrapExpect)}`,
      `  encrypt          = ${hclString(input.server.gossipKey)}`,
    )
    const peers = input.server.join.filter((a) => a !== addr)
    if (peers.length > 0) {
      lines.push('  server_join {', `    retry_join = ${hclList(peers.map((a) => hostPort(a, ports.serf)))}`, '  }')
    }
    lines.push('}')
  }
  if (input.client) {
    const c = input.client
    lines.push(
      '',
      'client {',
      '  enabled = true',
      `  servers = ${hclList(c.servers.map((a) => hostPort(a, ports.rpc)))}`,
      '  options {',
      `    ${hclString('fingerprint.denylist')} = ${hclString(FINGERPRINT_DENYLIST.join(','))}`,
      // Only the drivers asked for are loaded and fingerprinted (docker's would poke at /var/run/docker.sock,
      // java's and qemu's run binaries).
      `    ${hclString('driver.allowlist')}     = ${hclString(c.drivers.join(','))}`,
      '  }',
    )
    const meta = Object.entries(c.meta ?? {})
    if (meta.length > 0) {
      lines.push('  meta {', ...meta.map(([k, v]) => `    ${hclString(k)} = ${hclString(v)}`), '  }')
    }
    lines.push('}')
    // raw_exec runs tasks as the agent's user with no isolation: off in Nomad unless enabled here.
    if (c.drivers.includes('raw_exec')) lines.push('', 'plugin "raw_exec" {', '  config {', '    enabled = true', '  }', '}')
  }
  return lines.join('\n') + '\n'
}

function hostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`
}

function validate(input: NomadAgentConfigInput): void {
  for (const [what, v] of [
    ['node name', input.nodeName],
    ['region', input.region],
    ['datacenter', input.datacenter],
  ] as const) {
    if (!NAME.test(v)) throw new Error(`invalid Nomad ${what}: ${JSON.stringify(v)}`)
  }
  for (const p of [input.dataDir, input.pluginDir, input.tls.caFile, input.tls.certFile, input.tls.keyFile]) {
    if (p !== undefined && !p.startsWith('/')) throw new Error(`Nomad agent paths must be absolute: ${JSON.stringify(p)}`)
  }
  const addresses = [
    input.privateAddress,
    ...(input.extraHttpAddresses ?? []),
    ...(input.server?.join ?? []),
    ...(input.client?.servers ?? []),
  ]
  for (const a of addresses) if (!isIP(a)) throw new Error(`not an IP address: ${JSON.stringify(a)}`)
  if (['0.0.0.0', '::'].includes(input.privateAddress)) throw new Error('a Nomad agent must bind a private address, not a wildcard')
  if (!input.server && !input.client) throw new Error('a Nomad agent needs a server or a client (or both)')
  if (input.server) {
    if (![1, 3, 5].includes(input.server.bootstrapExpect)) throw new Error(`bootstrap_expect must be 1, 3 or 5, not ${input.server.bootstrapExpect}`)
    if (!GOSSIP_KEY.test(input.server.gossipKey)) throw new Error('the gossip key must be 16 or 32 bytes, base64')
  }
  if (input.client && input.client.servers.length === 0) throw new Error('a Nomad client needs at least one server address')
  if (input.client && input.client.drivers.length === 0) throw new Error('a Nomad client needs at least one task driver')
  const ports = input.ports ?? NOMAD_PORTS
  for (const p of [ports.http, ports.rpc, ports.serf]) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`invalid port ${p}`)
  }
}
