import {createHash, createHmac, timingSafeEqual} from 'node:crypto'
import {appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, join} from 'node:path'

/** 'SHA256:<base64 without padding>' of an SSH public key blob, exactly as `ssh-keygen -lf` prints it. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`
}

/** The key type string at the start of an SSH public key blob ('ssh-ed25519', 'ssh-rsa', ...). */
export function keyTypeOfBlob(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return ''
  const len = keyBlob.readUInt32BE(0)
  if (len > keyBlob.length - 4 || len > 64) return ''
  return keyBlob.subarray(4, 4 + len).toString('latin1')
}

/** The name known_hosts files use for a host: 'host' on port 22, '[host]:port' otherwise (OpenSSH put_host_port). */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase()
  return port === 22 ? h : `[${h}]:${port}`
}

export type HostKeyStatus = {status: 'match'} | {status: 'unknown'} | {status: 'changed'; expected: string[]; source: string}

interface Entry {
  file: string
  line: number
  marker?: 'revoked'
  patterns: string
  keyType: string
  blob: Buffer
}

/**
 * Host keys cms trusts: its own file (read+write) plus the user's OpenSSH known_hosts files (read-only).
 *
 * Strictness choice: a host is 'changed' when any entry matches its name but none holds the presented key,
 * EVEN IF the recorded entries are of other key types only. A lenient client would call that 'unknown' and
 * silently record the new key, which is exactly what an attacker offering a different key type would exploit.
 * To avoid false alarms, SshSession asks the server for the key types already recorded first (as OpenSSH
 * does with its HostKeyAlgorithms ordering), so a host with a known key type is always verified against it.
 */
export class KnownHosts {
  readonly ownFile: string
  readonly userFiles: string[]

  constructor(opts: {ownFile: string; userFiles?: string[]}) {
    this.ownFile = opts.ownFile
    this.userFiles = opts.userFiles ?? [join(homedir(), '.ssh', 'known_hosts')]
  }

  check(host: string, port: number, keyType: string, keyBlob: Buffer): HostKeyStatus {
    const entries = this.entriesFor(host, port)
    const revoked = entries.find((e) => e.marker === 'revoked' && e.blob.equals(keyBlob))
    if (revoked) return {status: 'changed', expected: [], source: `${revoked.file}:${revoked.line}`}
    const live = entries.filter((e) => e.marker === undefined)
    if (live.some((e) => e.keyType === keyType && e.blob.equals(keyBlob))) return {status: 'match'}
    if (live.length === 0) return {status: 'unknown'}
    const sameType = live.filter((e) => e.keyType === keyType)
    const relevant = sameType.length > 0 ? sameType : live
    return {
      status: 'changed',
      expected: [...new Set(relevant.map((e) => fingerprint(e.blob)))],
      source: `${relevant[0]!.file}:${relevant[0]!.line}`,
    }
  }

  /** Key types recorded for this host (e.g. ['ssh-ed25519']), for ordering the host key algorithms offered. */
  knownKeyTypes(host: string, port: number): string[] {
    return [...new Set(this.entriesFor(host, port).filter((e) => e.marker === undefined).map((e) => e.keyType))]
  }

  /**
   * The host's recorded keys as known_hosts lines under its own name (revoked ones marked), for a client that
   * trusts exactly what cms verified: OpenSSH with UserKnownHostsFile pointing at them.
   */
  linesFor(host: string, port: number): string[] {
    const name = knownHostsName(host, port)
    const lines = this.entriesFor(host, port).map((e) => `${e.marker === 'revoked' ? '@revoked ' : ''}${name} ${e.keyType} ${e.blob.toString('base64')}`)
    return [...new Set(lines)]
  }

  add(host: string, port: number, keyType: string, keyBlob: Buffer): void {
    this.ensureDir()
    appendFileSync(this.ownFile, `${knownHostsName(host, port)} ${keyType} ${keyBlob.toString('base64')}\n`, {mode: 0o600})
    chmodSync(this.ownFile, 0o600)
  }

  replace(host: string, port: number, keyType: string, keyBlob: Buffer): void {
    this.forget(host, port)
    this.add(host, port, keyType, keyBlob)
  }

  /**
   * Remove this host from cms's own file: plain names are taken out of comma lists (the line goes when its list
   * becomes empty), hashed entries for it are dropped. Wildcard patterns are left alone: they are not this host's.
   */
  forget(host: string, port: number): void {
    if (!existsSync(this.ownFile)) return
    const name = knownHostsName(host, port)
    const lines = readFileSync(this.ownFile, 'utf8').split('\n')
    if (lines.at(-1) === '') lines.pop()
    const kept: string[] = []
    let changed = false
    for (const line of lines) {
      const fields = splitFields(line)
      if (!fields) {
        kept.push(line)
        continue
      }
      const hasMarker = fields[0]!.startsWith('@')
      const patIdx = hasMarker ? 1 : 0
      const patterns = fields[patIdx]
      if (patterns === undefined) {
        kept.push(line)
        continue
      }
      const list = patterns.split(',')
      const remaining = list.filter((p) => !(p.startsWith('|1|') ? hashedMatches(p, name) : p.toLowerCase() === name))
      if (remaining.length === list.length) {
        kept.push(line)
        continue
      }
      changed = true
      if (remaining.length === 0) continue
      fields[patIdx] = remaining.join(',')
      kept.push(fields.join(' '))
    }
    if (!changed) return
    const tmp = `${this.ownFile}.${process.pid}.tmp`
    writeFileSync(tmp, kept.length > 0 ? `${kept.join('\n')}\n` : '', {mode: 0o600})
    renameSync(tmp, this.ownFile)
  }

  private ensureDir(): void {
    mkdirSync(dirname(this.ownFile), {recursive: true, mode: 0o700})
  }

  private entriesFor(host: string, port: number): Entry[] {
    const name = knownHostsName(host, port)
    const out: Entry[] = []
    for (const file of [this.ownFile, ...this.userFiles]) {
      let text: string
      try {
        text = readFileSync(file, 'utf8')
      } catch {
        continue
      }
      const lines = text.split('\n')
      for (let i = 0; i < lines.length; i++) {
        const e = parseLine(lines[i]!, file, i + 1)
        if (e && hostMatches(e.patterns, name)) out.push(e)
      }
    }
    return out
  }
}

function splitFields(line: string): string[] | undefined {
  const t = line.trim()
  if (t === '' || t.startsWith('#')) return undefined
  return t.split(/\s+/)
}

function parseLine(line: string, file: string, lineNo: number): Entry | undefined {
  const f = splitFields(line)
  if (!f) return undefined
  let marker: Entry['marker']
  let i = 0
  if (f[0]!.startsWith('@')) {
    if (f[0] === '@revoked') marker = 'revoked'
    else return undefined // @cert-authority (cms does not do host certificates) or unknown marker: ignored
    i = 1
  }
  const [patterns, keyType, b64] = [f[i], f[i + 1], f[i + 2]]
  if (!patterns || !keyType || !b64) return undefined
  const blob = Buffer.from(b64, 'base64')
  if (blob.length === 0 || keyTypeOfBlob(blob) !== keyType) return undefined
  return {file, line: lineNo, ...(marker ? {marker} : {}), patterns, keyType, blob}
}

function hashedMatches(pattern: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
  const parts = pattern.split('|')
  if (parts.length !== 4 || parts[1] !== '1') return false
  const salt = Buffer.from(parts[2]!, 'base64')
  const want = Buffer.from(parts[3]!, 'base64')
  const got = createHmac('sha1', salt).update(name).digest()
  return want.length === got.length && timingSafeEqual(want, got)
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${body}$`, 'i')
}

/**
 * OpenSSH match_hostname: a comma list of patterns; a matching negated pattern ('!pat') vetoes the whole line,
 * otherwise any matching positive pattern matches. Hashed entries are single exact names.
 */
export function hostMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) return hashedMatches(patterns, name)
  let positive = false
  for (const raw of patterns.split(',')) {
    const neg = raw.startsWith('!')
    const pat = neg ? raw.slice(1) : raw
    if (pat === '') continue
    if (globToRegExp(pat).test(name)) {
      if (neg) return false
      positive = true
    }
  }
  return positive
}
