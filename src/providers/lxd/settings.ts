import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {UsageError} from '../../remote/errors.js'

/** What the user asked for on the command line (every field optional). */
export interface LxdOptions {
  socket?: string
  remote?: string
  clientCert?: string
  clientKey?: string
  serverCert?: string
}

/** What a cluster's access file records, so later commands reach the same daemon without flags. */
export interface LxdAccess {
  socket?: string
  remote?: string
  /** A remote's certificate files (paths, not their contents). */
  clientCert?: string
  clientKey?: string
  serverCert?: string
}

/** The daemon cms talks to: a local one over its unix socket, or a remote one over HTTPS with a client certificate. */
export type LxdEndpoint =
  | {kind: 'socket'; socket: string}
  | {kind: 'remote'; url: string; clientCert: string; clientKey: string; serverCert: string}

type Env = Record<string, string | undefined>

export const DEFAULT_SOCKET = '/var/lib/lxd/unix.socket'

/** https://HOST[:PORT] and nothing else (no path, no user info): where LXD serves its API. */
export function checkRemoteUrl(value: string, source: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UsageError(`invalid ${source} ${JSON.stringify(value)}: expected https://HOST[:PORT]`)
  }
  if (url.protocol !== 'https:') throw new UsageError(`invalid ${source} ${JSON.stringify(value)}: LXD's remote API is HTTPS only (https://HOST[:PORT])`)
  if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new UsageError(`invalid ${source} ${JSON.stringify(value)}: expected https://HOST[:PORT] with no path or credentials`)
  }
  return url
}

function existingFile(path: string, what: string, flag: string): string {
  if (!existsSync(path)) throw new UsageError(`${what} ${path} not found: pass ${flag}`)
  return path
}

/**
 * Remote: --lxd-remote, the cluster's recorded remote, CMS_LXD_REMOTE; its client certificate and key (--lxd-client-cert,
 * --lxd-client-key, else the files recorded for that remote, else lxc's ~/.config/lxc/client.{crt,key}) and the
 * server's certificate, trusted exactly (--lxd-server-cert, the recorded one, else ~/.config/lxc/servercerts/HOST.crt). Otherwise the local socket: --lxd-socket, the recorded
 * one, CMS_LXD_SOCKET, $LXD_DIR/unix.socket, /var/lib/lxd/unix.socket. Files are checked here, before anything is made.
 */
export function lxdEndpoint(opts: LxdOptions, recorded?: LxdAccess, env: Env = process.env, home = homedir()): LxdEndpoint {
  if (opts.remote && opts.socket) throw new UsageError('--lxd-remote and --lxd-socket name two daemons: pass one')
  const remote = opts.remote ?? (opts.socket ? undefined : recorded?.remote ?? (recorded?.socket ? undefined : env.CMS_LXD_REMOTE || undefined))
  if (remote) {
    const url = checkRemoteUrl(remote, opts.remote ? '--lxd-remote' : recorded?.remote ? 'remote in the cluster access file' : 'CMS_LXD_REMOTE')
    const config = join(home, '.config', 'lxc')
    // The files recorded with the cluster, when it is the remote they were recorded for.
    const same = recorded?.remote === url.origin ? recorded : undefined
    return {
      kind: 'remote',
      url: url.origin,
      clientCert: existingFile(opts.clientCert ?? same?.clientCert ?? join(config, 'client.crt'), 'LXD client certificate', '--lxd-client-cert'),
      clientKey: existingFile(opts.clientKey ?? same?.clientKey ?? join(config, 'client.key'), 'LXD client key', '--lxd-client-key'),
      serverCert: existingFile(opts.serverCert ?? same?.serverCert ?? join(config, 'servercerts', `${url.hostname}.crt`), 'LXD server certificate', '--lxd-server-cert'),
    }
  }
  for (const flag of ['clientCert', 'clientKey', 'serverCert'] as const) {
    if (opts[flag]) throw new UsageError(`--lxd-${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is for a remote daemon: pass --lxd-remote too`)
  }
  const socket = opts.socket ?? recorded?.socket ?? (env.CMS_LXD_SOCKET || (env.LXD_DIR ? join(env.LXD_DIR, 'unix.socket') : DEFAULT_SOCKET))
  if (!socket.startsWith('/')) throw new UsageError(`invalid LXD socket ${JSON.stringify(socket)}: expected an absolute path`)
  return {kind: 'socket', socket}
}

/** A daemon is configured here: a remote is named, or the local socket exists. Listing asks nothing otherwise. */
export function lxdConfigured(endpoint: LxdEndpoint): boolean {
  return endpoint.kind === 'remote' || existsSync(endpoint.socket)
}

/** Only explicit choices (flags) make an LXD failure fatal for commands that also list other providers. */
export function lxdExplicit(opts: LxdOptions): boolean {
  return Boolean(opts.socket || opts.remote)
}

/** Where the endpoint is, for messages and access files. */
export function endpointAccess(endpoint: LxdEndpoint): LxdAccess {
  if (endpoint.kind === 'socket') return {socket: endpoint.socket}
  return {remote: endpoint.url, clientCert: endpoint.clientCert, clientKey: endpoint.clientKey, serverCert: endpoint.serverCert}
}

export function describeEndpoint(endpoint: LxdEndpoint): string {
  return endpoint.kind === 'remote' ? endpoint.url : endpoint.socket
}
