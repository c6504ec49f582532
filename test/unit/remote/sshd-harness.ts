/** Test helper: a throwaway OpenSSH sshd on 127.0.0.1, run as a child process. Not a test file itself. */
import {type ChildProcess, execFileSync, spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'

export const SSHD = '/usr/sbin/sshd'

/** Find sshd, installing Debian's openssh-server when we are root and apt-get exists. Returns a skip reason or undefined. */
export function ensureSshd(): string | undefined {
  if (existsSync(SSHD)) return undefined
  const root = process.getuid?.() === 0
  if (root && existsSync('/usr/bin/apt-get')) {
    spawnSync('apt-get', ['install', '-y', 'openssh-server'], {stdio: 'ignore', env: {...process.env, DEBIAN_FRONTEND: 'noninteractive'}})
    if (!existsSync(SSHD)) {
      spawnSync('apt-get', ['update'], {stdio: 'ignore'})
      spawnSync('apt-get', ['install', '-y', 'openssh-server'], {stdio: 'ignore', env: {...process.env, DEBIAN_FRONTEND: 'noninteractive'}})
    }
  }
  return existsSync(SSHD) ? undefined : `${SSHD} not found and openssh-server could not be installed (need root + apt-get)`
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as {port: number}).port
      s.close(() => resolve(port))
    })
  })
}

/** Pids of the processes on this machine (where the test sshd runs its sessions) whose argv is exactly `argv`. */
export function pidsRunning(argv: string[]): number[] {
  const want = `${argv.join('\0')}\0`
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8') === want) pids.push(Number(entry))
    } catch {
      // the process ended while we looked
    }
  }
  return pids
}

export function keygen(path: string, type = 'ed25519', passphrase = ''): void {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', 'cms-test', '-f', path], {stdio: 'ignore'})
}

export class TestSshd {
  readonly dir = mkdtempSync(join(tmpdir(), 'cms-sshd-'))
  private readonly sessionHome = join(this.dir, 'home')
  readonly clientKey = join(this.dir, 'id_client')
  readonly authorizedKeys = join(this.dir, 'authorized_keys')
  readonly user = userInfo().username
  private proc: ChildProcess | undefined
  stderr = ''

  constructor(readonly port: number) {
    keygen(this.clientKey)
    writeFileSync(this.authorizedKeys, readFileSync(`${this.clientKey}.pub`))
    if (process.getuid?.() === 0) mkdirSync('/run/sshd', {recursive: true, mode: 0o755}) // privilege separation dir
  }

  /** Generate a fresh host key named `name` (an ed25519 key) and return its path. */
  hostKey(name: string): string {
    const p = join(this.dir, name)
    if (!existsSync(p)) keygen(p)
    return p
  }

  /** Start sshd with the host key at `hostKeyPath`; `extraConfig` lines (e.g. 'MaxSessions 1') go after the defaults. */
  async start(hostKeyPath: string, extraConfig: string[] = []): Promise<void> {
    mkdirSync(this.sessionHome, {recursive: true})
    const config = join(this.dir, 'sshd_config')
    writeFileSync(
      config,
      [
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKeyPath}`,
        `AuthorizedKeysFile ${this.authorizedKeys}`,
        'PidFile none',
        'StrictModes no',
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'AllowTcpForwarding yes',
        'Subsystem sftp internal-sftp',
        // Sessions get an empty HOME of their own: bash started by sshd sources ~/.bashrc, and the machine's
        // (pyenv init) takes a lock that a session killed mid-way leaves behind, stalling every later login 60 s.
        `SetEnv HOME=${this.sessionHome}`,
        'LogLevel ERROR',
        ...extraConfig,
        '',
      ].join('\n'),
    )
    const proc = spawn(SSHD, ['-D', '-e', '-f', config, '-p', String(this.port)], {stdio: ['ignore', 'ignore', 'pipe']})
    proc.stderr!.on('data', (b: Buffer) => (this.stderr += b.toString()))
    this.proc = proc
    // wait until it accepts TCP connections
    const until = Date.now() + 10_000
    while (Date.now() < until) {
      if (proc.exitCode !== null) throw new Error(`sshd exited ${proc.exitCode}: ${this.stderr}`)
      if (await canConnect(this.port)) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`sshd did not start: ${this.stderr}`)
  }

  async stop(): Promise<void> {
    const proc = this.proc
    this.proc = undefined
    if (!proc || proc.exitCode !== null) return
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve())
      proc.kill('SIGTERM')
    })
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    import('node:net').then(({connect}) => {
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
  })
}
