import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'
import type {Duplex, Readable} from 'node:stream'
import {StringDecoder} from 'node:string_decoder'
import ssh2 from 'ssh2'
import type {AnyAuthMethod, ClientChannel, ConnectConfig, ParsedKey, SFTPWrapper} from 'ssh2'
import {ConnectError, HostKeyChangedError, RemoteCommandError, UnknownHostKeyError} from './errors.js'
import {isHostTimeoutExit, KILL_GRACE_SECONDS, withHostTimeout} from './host-timeout.js'
import {fingerprint, type KnownHosts, keyTypeOfBlob} from './known-hosts.js'
import type {SshTarget} from './target.js'
import {targetLabel} from './target.js'

const {Client, utils} = ssh2

export interface ConnectOptions {
  knownHosts: KnownHosts
  /** A private key (PEM/OpenSSH text or buffer), tried before the agent and identity files. */
  privateKey?: Buffer | string
  /** Default: true when SSH_AUTH_SOCK is set. */
  useAgent?: boolean
  /** Connection attempts for hosts still booting. Default 8. */
  attempts?: number
  /** Total retry budget in ms. Default 60000. */
  deadlineMs?: number
  /** Per-attempt handshake timeout. Default 20000 (bounded by what is left of deadlineMs). */
  readyTimeoutMs?: number
  onRetry?: (attempt: number, err: Error) => void
  /** Progress/diagnostic lines (to stderr); never receives secrets. */
  log?: (line: string) => void
  /**
   * A host key with no record: 'record' it on first use (ssh hosts, default), or 'refuse' it (providers that
   * record every host's key before the first connection, like aws).
   */
  unknownHostKeys?: 'record' | 'refuse'
}

export interface ExecOptions {
  stdin?: string | Buffer | NodeJS.ReadableStream
  onStdout?: (chunk: string) => void
  onStderr?: (chunk: string) => void
  /** Short description used in errors instead of the command (which may contain secrets). */
  label?: string
  /**
   * Stop the command after this long; exec then returns code null with timedOut. The host ends it itself
   * (timeout(1): TERM, then KILL a grace later) and cms also asks sshd to KILL it and closes the channel.
   */
  timeoutMs?: number
}

export interface ExecResult {
  code: number | null
  stdout: string
  stderr: string
  /** Set when the command was stopped by timeoutMs (or ended by a signal, named here). */
  signal?: string
  timedOut?: boolean
}

const PREFERRED_CIPHERS = [
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'chacha20-poly1305@openssh.com',
  'aes128-ctr',
  'aes256-ctr',
]

const sshConstants = (() => {
  try {
    const require = createRequire(import.meta.url)
    return require('ssh2/lib/protocol/constants.js') as {SUPPORTED_CIPHER: string[]; DEFAULT_SERVER_HOST_KEY: string[]}
  } catch {
    return undefined
  }
})()

function cipherList(): string[] {
  const supported = sshConstants?.SUPPORTED_CIPHER
  return supported ? PREFERRED_CIPHERS.filter((c) => supported.includes(c)) : PREFERRED_CIPHERS.filter((c) => c !== 'chacha20-poly1305@openssh.com')
}

/** Host key algorithms with those matching already-recorded key types first (OpenSSH does the same). */
function hostKeyAlgorithms(knownTypes: string[]): string[] {
  const all = sshConstants?.DEFAULT_SERVER_HOST_KEY ?? [
    'ssh-ed25519',
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521',
    'rsa-sha2-512',
    'rsa-sha2-256',
    'ssh-rsa',
  ]
  const algsFor = (type: string) => (type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type])
  const first = knownTypes.flatMap(algsFor).filter((a) => all.includes(a))
  return [...new Set([...first, ...all])]
}

const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'EAI_AGAIN', 'ECONNABORTED'])

function isRetryable(err: Error & {code?: unknown; level?: unknown}): boolean {
  if (err instanceof HostKeyChangedError || err instanceof UnknownHostKeyError) return false
  if (err.level === 'client-authentication') return false
  if (typeof err.code === 'string' && RETRYABLE_CODES.has(err.code)) return true
  return /Connection lost before handshake|Timed out while waiting for handshake|ECONNRESET|socket hang up|kex_exchange_identification|Connection reset|No response from server/i.test(
    err.message,
  )
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Identity {
  description: string
  method: (username: string) => AnyAuthMethod
}

function parsePrivate(data: Buffer | string): ParsedKey | Error {
  const parsed = utils.parseKey(data)
  if (parsed instanceof Error) return parsed
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed
  if (!key) return new Error('no key found')
  if (!key.isPrivateKey()) return new Error('not a private key')
  return key
}

/** The identities to offer, in order, and notes on the ones skipped. Never includes key contents in text. */
function collectIdentities(target: SshTarget, opts: ConnectOptions): {ids: Identity[]; notes: string[]} {
  const ids: Identity[] = []
  const notes: string[] = []
  if (opts.privateKey !== undefined) {
    const key = parsePrivate(opts.privateKey)
    if (key instanceof Error) notes.push(`the supplied private key was skipped (${key.message})`)
    else ids.push({description: `supplied ${key.type} key`, method: (username) => ({type: 'publickey', username, key})})
  }
  const agentSock = process.env.SSH_AUTH_SOCK
  if ((opts.useAgent ?? Boolean(agentSock)) && agentSock) {
    ids.push({description: 'ssh-agent', method: (username) => ({type: 'agent', username, agent: agentSock})})
  }
  for (const file of target.identityFiles) {
    if (!existsSync(file)) {
      notes.push(`${file} does not exist`)
      continue
    }
    let key: ParsedKey | Error
    try {
      key = parsePrivate(readFileSync(file))
    } catch (error) {
      key = error as Error
    }
    if (key instanceof Error) {
      notes.push(/encrypted/i.test(key.message) ? `${file} skipped: it is passphrase-protected (load it into ssh-agent instead)` : `${file} skipped: ${key.message}`)
      continue
    }
    const parsed = key
    ids.push({description: file, method: (username) => ({type: 'publickey', username, key: parsed})})
  }
  return {ids, notes}
}

/**
 * Session channels cms keeps open on one connection. sshd refuses more than MaxSessions (default 10) per
 * connection; it counts exec and subsystem (sftp) sessions, not direct-tcpip tunnels (OpenSSH's sshd_config(5),
 * and verified against OpenSSH 9.2 in test/unit/remote/session.sshd.test.ts: tunnels open while every session is
 * taken), so forward() takes no slot. A session counts until sshd closes its channel, which it does only once the
 * command has exited. One below the default as a margin; a host set lower is learnt from its refusals.
 */
const MAX_SESSIONS = 9

/** A refused session open is tried this many times in all, 100 ms, 200 ms, ... apart (3.1 s of backoff at most). */
const OPEN_ATTEMPTS = 6

/** A channel open the host refused (sshd says "open failed" at MaxSessions), as opposed to a broken connection. */
function isRefusedOpen(err: Error & {reason?: unknown}): boolean {
  return typeof err.reason === 'number' && err.reason !== 3 // 3: unknown channel type, which no retry changes
}

class Semaphore {
  private active = 0
  private readonly waiting: Array<() => void> = []
  /** Called when an acquire has to wait: a holder that can give its slot up (an idle SFTP channel) does. */
  onWait: () => void = () => undefined
  constructor(private limitValue: number) {}
  get waiters(): number {
    return this.waiting.length
  }
  get limit(): number {
    return this.limitValue
  }
  /** Lower the limit (never below 1); slots already taken stay taken. */
  lower(limit: number): void {
    this.limitValue = Math.max(1, Math.min(this.limitValue, limit))
  }
  async acquire(): Promise<() => void> {
    while (this.active >= this.limitValue) {
      const turn = new Promise<void>((r) => this.waiting.push(r))
      this.onWait()
      await turn
    }
    this.active++
    let released = false
    return () => {
      if (released) return
      released = true
      this.active--
      if (this.active < this.limitValue) this.waiting.shift()?.()
    }
  }
}

type Client = InstanceType<typeof Client>

/** One SSH connection to one host, reused for every command, transfer and tunnel. */
export class SshSession {
  readonly target: SshTarget
  private readonly client: Client
  private readonly label: string
  private readonly sessions = new Semaphore(MAX_SESSIONS)
  /** Session channels the host has opened and not yet closed. */
  private openSessions = 0
  private sftpPromise: Promise<SFTPWrapper> | undefined
  /** The open SFTP channel (it holds a session slot while open) and how many transfers use it right now. */
  private sftpChannel: SFTPWrapper | undefined
  private sftpUsers = 0
  /** Our open sessions at the last refused open: a refusal is taken as the host's MaxSessions only when it repeats. */
  private refusedWith: number | undefined
  private closedError: Error | undefined
  private readonly log: (line: string) => void

  private constructor(target: SshTarget, client: Client, log: (line: string) => void) {
    this.target = target
    this.client = client
    this.label = targetLabel(target)
    this.log = log
    this.sessions.onWait = () => this.releaseIdleSftp()
    client.on('error', (err: Error) => {
      this.closedError ??= err
      log(`${this.label}: connection error: ${err.message}`)
    })
    client.on('close', () => {
      this.closedError ??= new Error('connection closed')
      this.sftpPromise = undefined
    })
  }

  static async connect(target: SshTarget, opts: ConnectOptions): Promise<SshSession> {
    const label = targetLabel(target)
    const log = opts.log ?? (() => undefined)
    const attempts = Math.max(1, opts.attempts ?? 8)
    const deadline = Date.now() + (opts.deadlineMs ?? 60_000)
    const {ids, notes} = collectIdentities(target, opts)
    for (const note of notes) log(`${label}: ${note}`)
    if (ids.length === 0) {
      throw new ConnectError(label, `${label}: no usable SSH identity (${notes.join('; ') || 'no key given, no ssh-agent, no ~/.ssh/id_* files'})`)
    }
    let delay = 250
    for (let attempt = 1; ; attempt++) {
      try {
        const remaining = deadline - Date.now()
        const client = await connectOnce(target, opts, ids, Math.max(1000, Math.min(opts.readyTimeoutMs ?? 20_000, remaining)), log)
        return new SshSession(target, client, log)
      } catch (error) {
        const err = error as Error & {level?: string}
        if (err instanceof HostKeyChangedError || err instanceof UnknownHostKeyError) throw err
        if (err.level === 'client-authentication') {
          const tried = ids.map((i) => i.description).join(', ')
          throw new ConnectError(
            label,
            `${label}: authentication failed as ${target.user} (tried: ${tried}${notes.length > 0 ? `; ${notes.join('; ')}` : ''})`,
            {cause: err},
          )
        }
        const retryable = isRetryable(err)
        if (!retryable || attempt >= attempts || Date.now() + delay > deadline) {
          const why = retryable ? ` (gave up after ${attempt} attempt${attempt === 1 ? '' : 's'})` : ''
          throw new ConnectError(label, `${label}: cannot connect: ${err.message}${why}`, {cause: err})
        }
        opts.onRetry?.(attempt, err)
        await sleep(delay)
        delay = Math.min(delay * 2, 4000)
      }
    }
  }

  private ensureOpen(): void {
    if (this.closedError) throw new RemoteCommandError(this.label, 'ssh connection', null, '', `is closed (${this.closedError.message})`)
  }

  /**
   * Open a session channel (exec or sftp) in one of the connection's session slots, held until the host closes
   * the channel. `open` must pass its channel to `cb` synchronously from ssh2's callback. A refusal while n of
   * our sessions are open means the host allows no more than n (sshd MaxSessions): the limit drops to n, and the
   * retry waits for one of them to close. A refusal with none open is retried with a backoff, then an error.
   */
  private async openSession<T extends NodeJS.EventEmitter>(what: string, open: (cb: (err: Error | undefined, ch: T) => void) => void): Promise<T> {
    let delay = 100
    for (let attempt = 1; ; attempt++) {
      const release = await this.sessions.acquire()
      try {
        this.ensureOpen()
        return await new Promise<T>((resolve, reject) => {
          open((err, ch) => {
            if (err) return reject(err)
            this.openSessions++
            this.refusedWith = undefined
            ch.once('close', () => {
              this.openSessions--
              release()
            })
            resolve(ch)
          })
        })
      } catch (error) {
        release()
        const err = error as Error
        if (err instanceof RemoteCommandError) throw err
        if (!isRefusedOpen(err)) throw new RemoteCommandError(this.label, what, null, '', `could not start (${err.message})`)
        // sshd counts a session a little longer than the client does (until its child is reaped), so one refusal
        // right after sessions closed says little; the same refusal with the same sessions open says MaxSessions.
        if (this.openSessions > 0 && this.openSessions < this.sessions.limit) {
          if (this.refusedWith === this.openSessions) {
            this.sessions.lower(this.openSessions)
            this.log(`${this.label}: the host refuses more than ${this.openSessions} sessions per connection (sshd MaxSessions): running at most ${this.openSessions} at a time`)
          }
          this.refusedWith = this.openSessions
        }
        if (attempt >= OPEN_ATTEMPTS) {
          throw new RemoteCommandError(
            this.label,
            what,
            null,
            '',
            `could not start: the host refused a new session ${attempt} times with ${this.openSessions} open: too many sessions open on one connection: sshd MaxSessions (${err.message})`,
          )
        }
        await sleep(delay)
        delay *= 2
      }
    }
  }

  /** Run a command; resolves with its exit code and output, never rejects on a non-zero exit. */
  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.ensureOpen()
    const timeoutMs = opts.timeoutMs !== undefined && opts.timeoutMs > 0 ? opts.timeoutMs : undefined
    const remoteCommand = timeoutMs === undefined ? command : withHostTimeout(command, timeoutMs)
    // The exit status can arrive in the same packet as the exec's success reply, before any await resumes:
    // listen for it inside the callback or it is lost. The session's slot stays taken until the host closes the
    // channel, which for a command that outlived its timeout is after exec() stopped waiting for it.
    const exit: {code?: number | null; signal?: string} = {}
    let sentAt = 0
    const stream = await this.openSession<ClientChannel>(opts.label ?? 'command', (cb) => {
      sentAt = Date.now()
      this.client.exec(remoteCommand, (err, ch) => {
        if (!err) {
          ch.on('exit', (c: number | null, sig?: string) => {
            if (typeof c === 'number') exit.code = c
            else if (sig) exit.signal = sig
          })
        }
        cb(err, ch)
      })
    })
    return await new Promise<ExecResult>((resolve) => {
      const out: string[] = []
      const err: string[] = []
      const outDec = new StringDecoder('utf8')
      const errDec = new StringDecoder('utf8')
      let code: number | null = null
      let signal: string | undefined
      let timedOut = false
      let timer: NodeJS.Timeout | undefined
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          timedOut = true
          killChannel(stream)
          // sshd only closes the channel once the process is gone: do not wait past timeout(1)'s kill grace
          setTimeout(finish, KILL_GRACE_SECONDS * 1000).unref()
        }, timeoutMs)
      }
      const onOut = (s: string) => {
        if (s === '') return
        out.push(s)
        opts.onStdout?.(s)
      }
      const onErr = (s: string) => {
        if (s === '') return
        err.push(s)
        opts.onStderr?.(s)
      }
      stream.on('data', (b: Buffer) => onOut(outDec.write(b)))
      stream.stderr.on('data', (b: Buffer) => onErr(errDec.write(b)))
      stream.on('error', () => undefined)
      let done = false
      const finish = () => {
        if (done) return
        done = true
        if (timer) clearTimeout(timer)
        onOut(outDec.end())
        onErr(errDec.end())
        code = exit.code ?? null
        signal = exit.signal
        // timeout(1) on the host may end the command just before our own timer fires; its host timer started
        // after sentAt, so a command's own 124 that early is told apart
        if (timeoutMs !== undefined && isHostTimeoutExit(code) && Date.now() - sentAt >= timeoutMs) timedOut = true
        const result: ExecResult = {code: timedOut ? null : code, stdout: out.join(''), stderr: err.join('')}
        if (signal) result.signal = signal
        if (timedOut) result.timedOut = true
        // CMS_DEBUG: the command's label (never the command, which may hold secrets), outcome and duration.
        if (process.env.CMS_DEBUG) process.stderr.write(`debug: ${this.label}: ${opts.label ?? 'command'}: ${timedOut ? 'timed out' : signal ? `SIG${signal}` : `exit ${code}`} after ${Date.now() - sentAt} ms\n`)
        resolve(result)
      }
      stream.on('close', finish)
      const stdin = opts.stdin
      if (stdin === undefined) stream.end()
      else if (typeof stdin === 'string' || Buffer.isBuffer(stdin)) stream.end(stdin)
      else (stdin as Readable).pipe(stream)
    })
  }

  /** Run a command; returns stdout, throws RemoteCommandError (with the label, never the command) on failure. */
  async run(command: string, opts: ExecOptions = {}): Promise<string> {
    const r = await this.exec(command, opts)
    if (r.code !== 0) {
      const detail = r.timedOut
        ? `timed out after ${Math.round((opts.timeoutMs ?? 0) / 1000)}s`
        : r.signal
          ? `was killed by SIG${r.signal}`
          : r.code === null && this.closedError
            ? `lost its SSH connection (${this.closedError.message})`
            : undefined
      throw new RemoteCommandError(this.label, opts.label ?? 'command', r.code, r.stderr, detail)
    }
    return r.stdout
  }

  /**
   * Runs `fn` with the connection's SFTP channel, opened on first use and kept for the next transfer, but given up
   * when idle and a command waits for its session slot (a host with a low MaxSessions would otherwise starve).
   */
  private async withSftp<T>(fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    this.sftpUsers++
    try {
      return await fn(await this.sftp())
    } finally {
      this.sftpUsers--
      if (this.sessions.waiters > 0) this.releaseIdleSftp()
    }
  }

  private releaseIdleSftp(): void {
    if (this.sftpUsers > 0 || !this.sftpChannel) return
    const idle = this.sftpChannel
    this.sftpChannel = undefined
    this.sftpPromise = undefined
    idle.end()
  }

  private sftp(): Promise<SFTPWrapper> {
    this.ensureOpen()
    if (!this.sftpPromise) {
      const p = this.openSession<SFTPWrapper>('sftp', (cb) => this.client.sftp(cb)).then((sftp) => {
        this.sftpChannel = sftp
        sftp.on('close', () => {
          if (this.sftpPromise === p) this.sftpPromise = undefined
          if (this.sftpChannel === sftp) this.sftpChannel = undefined
        })
        return sftp
      })
      p.catch(() => {
        if (this.sftpPromise === p) this.sftpPromise = undefined
      })
      this.sftpPromise = p
    }
    return this.sftpPromise
  }

  /** Atomically move `from` over `to` (posix-rename@openssh.com when offered, else unlink + rename). */
  private async renameOver(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const fallback = () =>
        sftp.unlink(to, () => sftp.rename(from, to, (e) => (e ? reject(sftpError(this.label, `rename ${to}`, e)) : resolve())))
      try {
        sftp.ext_openssh_rename(from, to, (e) => (e ? fallback() : resolve()))
      } catch {
        fallback()
      }
    })
  }

  /**
   * Upload a local file over SFTP to a temporary name beside remotePath, then rename it into place. Returns the bytes sent.
   * Uses fastPut (parallel pipelined writes), which measured faster than a write stream (CMS_SSH_BENCH=1 in
   * test/unit/remote/session.sshd.test.ts compares them).
   */
  async upload(localPath: string, remotePath: string, opts: {onProgress?: (sentBytes: number, total: number) => void} = {}): Promise<number> {
    const total = statSync(localPath).size
    const part = partName(remotePath)
    await this.withSftp(async (sftp) => {
      await new Promise<void>((resolve, reject) => {
        sftp.fastPut(
        localPath,
        part,
        {
          // measured against OpenSSH 9.2 on loopback: 256 KiB x 32 in flight ~115-175 MiB/s, the default
          // 32 KiB x 64 ~45-120 MiB/s, a write stream (1-4 MiB chunks) ~75-130 MiB/s
          concurrency: 32,
          chunkSize: 256 * 1024,
          mode: 0o644,
          step: (sent) => opts.onProgress?.(sent, total),
        },
        (e) => (e ? reject(sftpError(this.label, `upload ${remotePath}`, e)) : resolve()),
        )
      })
      await this.renameOver(sftp, part, remotePath)
    })
    return total
  }

  /** Write a file over SFTP (created with `mode`, default 0644; written to a .part file and renamed into place). */
  async writeFile(remotePath: string, content: string | Buffer, mode = 0o644): Promise<void> {
    const part = partName(remotePath)
    await this.withSftp(async (sftp) => {
      await new Promise<void>((resolve, reject) => {
        sftp.writeFile(part, content, {mode}, (e) => (e ? reject(sftpError(this.label, `write ${remotePath}`, e)) : resolve()))
      })
      await new Promise<void>((resolve, reject) => {
        sftp.chmod(part, mode, (e) => (e ? reject(sftpError(this.label, `chmod ${remotePath}`, e)) : resolve()))
      })
      await this.renameOver(sftp, part, remotePath)
    })
  }

  /** Read a whole file over SFTP; undefined when it does not exist. */
  async readFile(remotePath: string): Promise<Buffer | undefined> {
    return this.withSftp(
      (sftp) =>
        new Promise<Buffer | undefined>((resolve, reject) => {
          sftp.readFile(remotePath, (e: (Error & {code?: number}) | null | undefined, data: Buffer) => {
            if (!e) return resolve(data)
            if (e.code === 2) return resolve(undefined) // SSH_FX_NO_SUCH_FILE
            reject(sftpError(this.label, `read ${remotePath}`, e))
          })
        }),
    )
  }

  /** A TCP stream to toHost:toPort opened from the remote host (direct-tcpip), e.g. to a private engine API. */
  async forward(toHost: string, toPort: number): Promise<Duplex> {
    this.ensureOpen()
    return new Promise<Duplex>((resolve, reject) => {
      try {
        this.client.forwardOut('127.0.0.1', 0, toHost, toPort, (err, ch) =>
          err ? reject(new RemoteCommandError(this.label, `tunnel to ${toHost}:${toPort}`, null, '', `failed (${err.message})`)) : resolve(ch),
        )
      } catch (error) {
        reject(error)
      }
    })
  }

  close(): void {
    this.closedError ??= new Error('closed by cms')
    this.client.end()
  }
}

/**
 * Ask sshd to SIGKILL the command's process group, then close the channel. ssh2's channel.signal() is a silent
 * no-op once stdin has been ended (it checks `writable`), which is always the case here, so the request is sent
 * through the protocol object directly. OpenSSH >= 7.9 honours 'signal' requests (killpg of the session), but
 * NOT for root logins ('session signalling requires privilege separation'): there only the timeout(1) wrapper
 * (withHostTimeout) ends the command, and exec() returns after timeout(1)'s kill grace at the latest.
 */
function killChannel(stream: ClientChannel): void {
  const ch = stream as unknown as {outgoing?: {id: number; state: string}; _client?: {_protocol?: {signal(id: number, sig: string): void}}}
  try {
    if (ch.outgoing?.state === 'open') ch._client?._protocol?.signal(ch.outgoing.id, 'KILL')
  } catch {
    // signals unsupported: closing the channel is all we can do
  }
  try {
    stream.close()
  } catch {
    // already closed
  }
}

function sftpError(host: string, what: string, e: Error): RemoteCommandError {
  return new RemoteCommandError(host, what, null, '', `failed (${e.message})`)
}

function connectOnce(target: SshTarget, opts: ConnectOptions, ids: Identity[], readyTimeout: number, log: (line: string) => void): Promise<Client> {
  const label = targetLabel(target)
  return new Promise<Client>((resolve, reject) => {
    const client = new Client()
    let hostKeyError: HostKeyChangedError | UnknownHostKeyError | undefined
    let settled = false
    const fail = (err: Error) => {
      if (settled) return
      settled = true
      client.removeAllListeners('ready')
      client.on('error', () => undefined) // late errors from a dead attempt must not crash the process
      client.end()
      reject(hostKeyError ?? err)
    }
    let next = 0
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout,
      keepaliveInterval: 10_000,
      keepaliveCountMax: 3,
      algorithms: {
        cipher: cipherList() as NonNullable<ConnectConfig['algorithms']>['cipher'],
        serverHostKey: hostKeyAlgorithms(opts.knownHosts.knownKeyTypes(target.host, target.port)) as NonNullable<
          ConnectConfig['algorithms']
        >['serverHostKey'],
      },
      hostVerifier: (key: Buffer) => {
        const keyType = keyTypeOfBlob(key)
        const fp = fingerprint(key)
        const res = opts.knownHosts.check(target.host, target.port, keyType, key)
        if (res.status === 'match') return true
        if (res.status === 'unknown' && opts.unknownHostKeys === 'refuse') {
          hostKeyError = new UnknownHostKeyError(label, fp)
          return false
        }
        if (res.status === 'unknown') {
          opts.knownHosts.add(target.host, target.port, keyType, key)
          log(`Recorded host key for ${label} (${fp})`)
          return true
        }
        hostKeyError = new HostKeyChangedError(label, res.expected, fp, res.source)
        return false
      },
      authHandler: (_methodsLeft, _partial, cb) => {
        const id = ids[next++]
        if (!id) return cb(false as unknown as AnyAuthMethod)
        cb(id.method(target.user))
      },
    }
    client.once('ready', () => {
      if (settled) return
      settled = true
      client.removeAllListeners('error')
      client.removeAllListeners('close')
      // Without TCP_NODELAY each channel open/request round trip waits on delayed ACKs (~200 ms per exec).
      client.setNoDelay(true)
      resolve(client)
    })
    client.on('error', fail)
    client.on('close', () => fail(new Error('Connection lost before handshake')))
    try {
      client.connect(config)
    } catch (error) {
      fail(error as Error)
    }
  })
}

/**
 * A temporary name beside `remotePath` that no other writer uses: two uploads of the same content to the same
 * content-addressed path (two submissions at once, two processes) each rename their own whole file into place.
 */
function partName(remotePath: string): string {
  return `${remotePath}.part-${randomBytes(4).toString('hex')}`
}
