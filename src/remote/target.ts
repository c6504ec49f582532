import {existsSync, readFileSync} from 'node:fs'
import {isIPv6} from 'node:net'
import {homedir, userInfo} from 'node:os'
import {join} from 'node:path'
import SSHConfig from 'ssh-config'
import {UsageError} from './errors.js'

/** Everything needed to open an SSH connection to one host. */
export interface SshTarget {
  host: string
  port: number
  user: string
  /** Private key files to try, in order (paths only; they are read at connect time). */
  identityFiles: string[]
  /** The name the user typed when ~/.ssh/config mapped it to another HostName. */
  alias?: string
}

const USER_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/
// DNS names, IPv4 and ssh_config aliases: letters, digits, dot, dash, underscore; never a leading dash.
const HOST_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/
const IPV6_RE = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/

function validHost(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false
  if (host.includes(':')) return IPV6_RE.test(host) && isIPv6(host.split('%')[0]!)
  return HOST_RE.test(host)
}

function parsePort(raw: string, spec: string): number {
  if (!/^[0-9]{1,5}$/.test(raw)) throw new UsageError(`invalid port in host ${JSON.stringify(spec)}`)
  const port = Number(raw)
  if (port < 1 || port > 65535) throw new UsageError(`port out of range in host ${JSON.stringify(spec)}`)
  return port
}

/**
 * Parse 'user@host[:port]', 'host', '[::1]:2222', 'user@[fe80::1]:22' or a bare IPv6 address.
 * Anything with whitespace, shell metacharacters or a leading dash is refused: host specs end up in
 * log lines, known_hosts files and sometimes remote commands.
 */
export function parseHostSpec(spec: string): {user?: string; host: string; port?: number} {
  if (typeof spec !== 'string' || spec.trim() === '') throw new UsageError('empty host')
  const show = JSON.stringify(spec)
  if (spec.length > 512 || /[\s'"`$;&|<>()\\{}*?!#~^\0]/.test(spec)) {
    throw new UsageError(`invalid host ${show}: expected [user@]host[:port]`)
  }
  let rest = spec
  let user: string | undefined
  const at = rest.lastIndexOf('@')
  if (at >= 0) {
    user = rest.slice(0, at)
    rest = rest.slice(at + 1)
    if (!USER_RE.test(user)) throw new UsageError(`invalid user in host ${show}`)
  }
  let host: string
  let port: number | undefined
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']')
    if (close < 0) throw new UsageError(`invalid host ${show}: missing ']'`)
    host = rest.slice(1, close)
    const after = rest.slice(close + 1)
    if (after !== '') {
      if (!after.startsWith(':')) throw new UsageError(`invalid host ${show}`)
      port = parsePort(after.slice(1), spec)
    }
    if (!host.includes(':') || !validHost(host)) throw new UsageError(`invalid IPv6 address in host ${show}`)
  } else {
    const colons = rest.split(':').length - 1
    if (colons > 1) {
      host = rest // a bare IPv6 address, no port
    } else if (colons === 1) {
      const c = rest.indexOf(':')
      host = rest.slice(0, c)
      port = parsePort(rest.slice(c + 1), spec)
    } else {
      host = rest
    }
    if (!validHost(host)) throw new UsageError(`invalid host ${show}: expected [user@]host[:port]`)
  }
  return {...(user === undefined ? {} : {user}), host, ...(port === undefined ? {} : {port})}
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

/** Minimal ssh_config token expansion: leading ~, %d %u %h %r %%. */
function expandPath(p: string, tokens: {h: string; r: string}): string {
  const home = homedir()
  let out = p.replace(/%([%duhr])/g, (_, t: string) => {
    switch (t) {
      case '%':
        return '%'
      case 'd':
        return home
      case 'u':
        return localUser()
      case 'h':
        return tokens.h
      default:
        return tokens.r
    }
  })
  if (out === '~') out = home
  else if (out.startsWith('~/')) out = join(home, out.slice(2))
  return out
}

function localUser(): string {
  try {
    return userInfo().username
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'root'
  }
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa']

/**
 * Resolve a host spec into a full target, honouring ~/.ssh/config (HostName, User, Port, IdentityFile).
 * Precedence: explicit values in the spec > ssh config > defaults (opts.defaultUser ?? local user, port 22).
 * Identity files: opts.identityFile (-i) first, then IdentityFile entries from the config; like OpenSSH, the
 * default ~/.ssh/id_{ed25519,ecdsa,rsa} are used only when neither gave any (and only those that exist).
 * `Match exec` lines are NOT evaluated (resolving a target never runs commands).
 */
export function resolveTarget(
  spec: string,
  opts: {identityFile?: string; sshConfigPath?: string; defaultUser?: string} = {},
): SshTarget {
  const parsed = parseHostSpec(spec)
  const configPath = opts.sshConfigPath ?? join(homedir(), '.ssh', 'config')
  let cfg: Record<string, string | string[]> = {}
  if (existsSync(configPath)) {
    let text: string
    try {
      text = readFileSync(configPath, 'utf8')
    } catch (error) {
      throw new UsageError(`cannot read ssh config ${configPath}: ${(error as Error).message}`)
    }
    const parsedConfig = SSHConfig.parse(text)
    cfg = parsedConfig.compute(
      parsed.user === undefined ? {Host: parsed.host} : {Host: parsed.host, User: parsed.user},
      {ignoreCase: true, matchExec: false},
    )
  }

  const rawHostName = first(cfg.hostname)
  const host = rawHostName ? rawHostName.replace(/%h/g, parsed.host).replace(/%%/g, '%') : parsed.host
  if (!validHost(host)) throw new UsageError(`invalid HostName ${JSON.stringify(host)} for ${parsed.host} in ${configPath}`)

  const user = parsed.user ?? first(cfg.user) ?? opts.defaultUser ?? localUser()
  if (!USER_RE.test(user)) throw new UsageError(`invalid user ${JSON.stringify(user)} for ${parsed.host}`)

  const cfgPort = first(cfg.port)
  const port = parsed.port ?? (cfgPort === undefined ? 22 : parsePort(cfgPort, `${parsed.host} (Port in ${configPath})`))

  const tokens = {h: host, r: user}
  const files: string[] = []
  if (opts.identityFile) files.push(expandPath(opts.identityFile, tokens))
  const cfgIds = cfg.identityfile
  for (const f of Array.isArray(cfgIds) ? cfgIds : cfgIds ? [cfgIds] : []) {
    if (f.toLowerCase() === 'none') continue
    const p = expandPath(f, tokens)
    if (existsSync(p)) files.push(p)
  }
  if (files.length === 0) {
    for (const name of DEFAULT_IDENTITIES) {
      const p = join(homedir(), '.ssh', name)
      if (existsSync(p)) files.push(p)
    }
  }
  const identityFiles = [...new Set(files)]

  const target: SshTarget = {host, port, user, identityFiles}
  if (host !== parsed.host) target.alias = parsed.host
  return target
}

/** 'user@host:port', with the host in brackets when it is an IPv6 address. */
export function targetLabel(t: SshTarget): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host
  return `${t.user}@${host}:${t.port}`
}
