/**
 * Integration test of the SSH transport against a real OpenSSH sshd started on 127.0.0.1 (random port).
 * Installs openssh-server with apt-get when /usr/sbin/sshd is missing and we are root; otherwise skipped.
 * Set CMS_SSH_BENCH=1 to also compare SFTP upload strategies (fastPut vs write stream).
 */
import {createHash, randomBytes} from 'node:crypto'
import {createReadStream, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ConnectError, HostKeyChangedError, RemoteCommandError} from '../../../src/remote/errors.js'
import {fingerprint, KnownHosts} from '../../../src/remote/known-hosts.js'
import {SessionPool} from '../../../src/remote/pool.js'
import {SshSession} from '../../../src/remote/session.js'
import {shq} from '../../../src/remote/shell.js'
import type {SshTarget} from '../../../src/remote/target.js'
import {ensureSshd, freePort, keygen, pidsRunning, TestSshd} from './sshd-harness.js'

const skipReason = ensureSshd()
if (skipReason) console.warn(`session.sshd.test.ts skipped: ${skipReason}`)

function blobOfPub(pubPath: string): Buffer {
  return Buffer.from(readFileSync(pubPath, 'utf8').trim().split(/\s+/)[1]!, 'base64')
}

/** Waits (bounded) until no process runs `argv`; returns the pids still running at the deadline. */
async function goneWithin(argv: string[], ms: number): Promise<number[]> {
  const until = Date.now() + ms
  let pids = pidsRunning(argv)
  while (pids.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100))
    pids = pidsRunning(argv)
  }
  return pids
}

const range = (n: number) => Array.from({length: n}, (_, i) => i)

describe.skipIf(Boolean(skipReason))('SshSession against a real sshd', () => {
  let sshd: TestSshd
  let target: SshTarget
  let work: string
  let knownHosts: KnownHosts
  let session: SshSession
  const logs: string[] = []
  let echo: Server

  beforeAll(async () => {
    sshd = new TestSshd(await freePort())
    await sshd.start(sshd.hostKey('host_a'))
    work = mkdtempSync(join(tmpdir(), 'cms-sess-'))
    knownHosts = new KnownHosts({ownFile: join(work, 'cms', 'known_hosts'), userFiles: []})
    target = {host: '127.0.0.1', port: sshd.port, user: sshd.user, identityFiles: [sshd.clientKey]}
    echo = createServer((sock) => sock.pipe(sock))
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()))
  })

  afterAll(async () => {
    session?.close()
    echo?.close()
    await sshd?.stop()
  })

  it('connects, records the host key on first contact, and matches it next time', async () => {
    session = await SshSession.connect(target, {knownHosts, useAgent: false, log: (l) => logs.push(l)})
    const fp = fingerprint(blobOfPub(`${sshd.hostKey('host_a')}.pub`))
    expect(logs.some((l) => l.includes('Recorded host key for') && l.includes(fp))).toBe(true)
    const recorded = readFileSync(knownHosts.ownFile, 'utf8')
    expect(recorded).toContain(`[127.0.0.1]:${sshd.port} ssh-ed25519 `)
    const again = await SshSession.connect(target, {knownHosts, useAgent: false, log: (l) => logs.push(l)})
    again.close()
    expect(logs.filter((l) => l.includes('Recorded host key')).length).toBe(1)
  })

  it('exec returns exit codes without throwing; run throws RemoteCommandError with the label only', async () => {
    const ok = await session.exec('echo out; echo err >&2; exit 0')
    expect(ok).toMatchObject({code: 0, stdout: 'out\n', stderr: 'err\n'})
    const bad = await session.exec('echo oops >&2; exit 3')
    expect(bad.code).toBe(3)
    expect(await session.run('printf %s "$((6*7))"')).toBe('42')
    const err = await session.run('SECRET=hunter2; echo failed-here >&2; exit 5', {label: 'do thing'}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RemoteCommandError)
    expect((err as RemoteCommandError).code).toBe(5)
    expect((err as Error).message).toContain('do thing')
    expect((err as Error).message).toContain('failed-here')
    expect((err as Error).message).not.toContain('hunter2')
  })

  it('CMS_DEBUG traces each command by its label, outcome and duration, never the command itself', async () => {
    const lines: string[] = []
    const write = process.stderr.write.bind(process.stderr)
    process.env.CMS_DEBUG = '1'
    process.stderr.write = ((chunk: string | Uint8Array) => (lines.push(String(chunk)), true)) as typeof process.stderr.write
    try {
      await session.exec('echo secret-token-value >/dev/null; exit 4', {label: 'write the token'})
      await session.exec('true')
    } finally {
      process.stderr.write = write
      delete process.env.CMS_DEBUG
    }
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(new RegExp(`^debug: .*127\\.0\\.0\\.1.*: write the token: exit 4 after \\d+ ms\\n$`))
    expect(lines[1]).toMatch(/: command: exit 0 after \d+ ms\n$/)
    expect(lines.join('')).not.toContain('secret-token-value')
    await session.exec('true')
    expect(lines).toHaveLength(2)
  })

  it('streams output, takes stdin, times out, and runs many commands concurrently on one connection', async () => {
    const chunks: string[] = []
    const r = await session.exec('for i in 1 2 3; do echo line$i; sleep 0.1; done', {onStdout: (c) => chunks.push(c)})
    expect(r.stdout).toBe('line1\nline2\nline3\n')
    expect(chunks.length).toBeGreaterThanOrEqual(2)
    expect(await session.run('cat', {stdin: 'from stdin ✓'})).toBe('from stdin ✓')
    const t0 = Date.now()
    const slow = await session.exec('sleep 30', {timeoutMs: 300})
    expect(slow.code).toBeNull()
    expect(slow.timedOut).toBe(true)
    expect(Date.now() - t0).toBeLessThan(5000)
    const many = await Promise.all(Array.from({length: 25}, (_, i) => session.run(`echo ${i}`)))
    expect(many.map((s) => Number(s.trim()))).toEqual(Array.from({length: 25}, (_, i) => i))
  })

  // Issue 11: as root, sshd ignores the KILL signal request, so a timed-out command used to run on and hold its
  // session (MaxSessions 10) while cms already reused its slot: the burst after it was refused a channel.
  it('timed-out commands end on the host and free their sessions: a burst of commands right after them all run', async () => {
    const s = await SshSession.connect(target, {knownHosts, useAgent: false})
    const secs = `30.${process.pid}` // an argv no other process has
    try {
      const t0 = Date.now()
      const slow = await Promise.all(range(6).map(() => s.exec(`sleep ${secs}`, {timeoutMs: 300})))
      for (const r of slow) expect(r).toMatchObject({code: null, timedOut: true})
      expect(Date.now() - t0).toBeLessThan(5000)
      const many = await Promise.all(range(25).map((i) => s.run(`echo ${i}`)))
      expect(many.map((x) => Number(x.trim()))).toEqual(range(25))
      expect(await goneWithin(['sleep', secs], 5000)).toEqual([])
    } finally {
      s.close()
    }
  })

  it('a timed-out command that ignores SIGTERM is killed after a grace; its session counts until the host closes it', async () => {
    const s = await SshSession.connect(target, {knownHosts, useAgent: false})
    const secs = `31.${process.pid}`
    try {
      const slow = await Promise.all(range(6).map(() => s.exec(`trap '' TERM; sleep ${secs}; echo not-reached`, {timeoutMs: 300})))
      for (const r of slow) expect(r).toMatchObject({code: null, timedOut: true, stdout: ''})
      const many = await Promise.all(range(25).map((i) => s.run(`echo ${i}`)))
      expect(many.map((x) => Number(x.trim()))).toEqual(range(25))
      expect(await goneWithin(['sleep', secs], 5000)).toEqual([])
    } finally {
      s.close()
    }
  })

  it('with a timeout, a command keeps its own exit code and stdin, even 124', async () => {
    expect(await session.exec('exit 124', {timeoutMs: 10_000})).toMatchObject({code: 124})
    expect((await session.exec('exit 124', {timeoutMs: 10_000})).timedOut).toBeUndefined()
    expect(await session.exec('cat; exit 7', {timeoutMs: 10_000, stdin: "it's ✓"})).toMatchObject({code: 7, stdout: "it's ✓"})
  })

  it('writeFile / readFile round-trip with mode; readFile of a missing file is undefined', async () => {
    const dir = (await session.run('mktemp -d')).trim()
    const path = `${dir}/secret file`
    await session.writeFile(path, 'token=abc\n', 0o600)
    expect((await session.readFile(path))?.toString()).toBe('token=abc\n')
    expect((await session.run(`stat -c %a ${shq(path)}`)).trim()).toBe('600')
    await session.writeFile(path, Buffer.from('v2'), 0o644) // overwrite in place
    expect((await session.readFile(path))?.toString()).toBe('v2')
    expect((await session.run(`stat -c %a ${shq(path)}`)).trim()).toBe('644')
    expect(await session.readFile(`${dir}/missing`)).toBeUndefined()
  })

  it('uploads a ~20 MB file intact via a temporary file + rename', async () => {
    const local = join(work, 'blob.bin')
    const data = randomBytes(20 * 1024 * 1024)
    writeFileSync(local, data)
    const dir = (await session.run('mktemp -d')).trim()
    const remote = `${dir}/blob.bin`
    let last = 0
    const t0 = performance.now()
    const sent = await session.upload(local, remote, {onProgress: (s, total) => (last = s === total ? s : last)})
    const secs = (performance.now() - t0) / 1000
    console.log(`upload() 20 MiB: ${(20 / secs).toFixed(0)} MiB/s`)
    expect(sent).toBe(data.length)
    expect(last).toBe(data.length)
    const remoteSum = (await session.run(`sha256sum ${shq(remote)}`)).split(' ')[0]
    expect(remoteSum).toBe(createHash('sha256').update(data).digest('hex'))
    // Nothing is left beside it: the temporary file was renamed into place.
    expect((await session.run(`ls -A ${shq(dir)}`)).trim()).toBe('blob.bin')
  })

  it.skipIf(!process.env.CMS_SSH_BENCH)('benchmark: fastPut vs write stream', async () => {
    const local = join(work, 'bench.bin')
    writeFileSync(local, randomBytes(64 * 1024 * 1024))
    const dir = (await session.run('mktemp -d')).trim()
    const sftp = await (session as unknown as {sftp(): Promise<import('ssh2').SFTPWrapper>}).sftp()
    const time = async (name: string, fn: () => Promise<void>) => {
      const t0 = performance.now()
      await fn()
      console.log(`${name}: ${(64 / ((performance.now() - t0) / 1000)).toFixed(0)} MiB/s`)
    }
    for (let round = 0; round < 2; round++) {
      for (const [conc, chunk] of [[64, 32768], [8, 262144], [16, 262144], [64, 262144], [16, 1048576]] as const) {
        await time(`fastPut c=${conc} chunk=${chunk}`, () => new Promise<void>((res, rej) => sftp.fastPut(local, `${dir}/a`, {concurrency: conc, chunkSize: chunk}, (e) => (e ? rej(e) : res()))))
      }
      for (const hwm of [262144, 1048576, 4194304]) {
        await time(`stream hwm=${hwm}`, () => pipeline(createReadStream(local, {highWaterMark: hwm}), sftp.createWriteStream(`${dir}/b`, {highWaterMark: hwm})))
      }
    }
  })

  it('forward() opens a direct-tcpip stream to a local echo server', async () => {
    const port = (echo.address() as {port: number}).port
    const stream = await session.forward('127.0.0.1', port)
    const got = await new Promise<string>((resolve) => {
      let buf = ''
      stream.on('data', (b: Buffer) => {
        buf += b.toString()
        if (buf.length >= 11) resolve(buf)
      })
      stream.write('hello tunnel')
    })
    expect(got).toBe('hello tunnel')
    stream.end()
  })

  it('a pool shares one connection per target and connects once for concurrent callers', async () => {
    const pool = new SessionPool({knownHosts, useAgent: false})
    const [a, b] = await Promise.all([pool.get(target), pool.get({...target})])
    expect(a).toBe(b)
    pool.closeAll()
  })

  it('auth failure is a ConnectError naming the identity files tried, never retried', async () => {
    const other = join(work, 'id_other')
    const locked = join(work, 'id_locked')
    keygen(other)
    keygen(locked, 'ed25519', 'passphrase')
    let retries = 0
    const err = await SshSession.connect({...target, identityFiles: [locked, other]}, {knownHosts, useAgent: false, onRetry: () => retries++}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectError)
    expect((err as Error).message).toContain(other)
    expect((err as Error).message).toMatch(/id_locked skipped: it is passphrase-protected/)
    expect(retries).toBe(0)
  })

  it('retries while the port is not yet listening, then connects', async () => {
    const port = await freePort()
    const late = new TestSshd(port)
    const hostKey = late.hostKey('late_host')
    const timer = setTimeout(() => late.start(hostKey).catch((e: unknown) => console.error('late sshd failed', e)), 1000)
    const attempts: number[] = []
    try {
      const s = await SshSession.connect(
        {host: '127.0.0.1', port, user: late.user, identityFiles: [late.clientKey]},
        {knownHosts, useAgent: false, onRetry: (n) => attempts.push(n)},
      )
      expect((await s.run('echo up')).trim()).toBe('up')
      s.close()
      expect(attempts.length).toBeGreaterThanOrEqual(1)
    } finally {
      clearTimeout(timer)
      await late.stop()
    }
  })

  it('gives up within the deadline on a port that never listens', async () => {
    const port = await freePort()
    const t0 = Date.now()
    const err = await SshSession.connect({...target, port}, {knownHosts, useAgent: false, deadlineMs: 1500}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectError)
    expect((err as Error).message).toMatch(/ECONNREFUSED.*gave up after \d+ attempts/)
    expect(Date.now() - t0).toBeLessThan(3000)
  })

  it('a changed host key throws HostKeyChangedError naming both fingerprints and the known_hosts line', async () => {
    session.close()
    await sshd.stop()
    await sshd.start(sshd.hostKey('host_b'))
    const oldFp = fingerprint(blobOfPub(`${sshd.hostKey('host_a')}.pub`))
    const newFp = fingerprint(blobOfPub(`${sshd.hostKey('host_b')}.pub`))
    let retries = 0
    const err = await SshSession.connect(target, {knownHosts, useAgent: false, onRetry: () => retries++}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HostKeyChangedError)
    const e = err as HostKeyChangedError
    expect(e.expected).toEqual([oldFp])
    expect(e.presented).toBe(newFp)
    expect(e.message).toContain(oldFp)
    expect(e.message).toContain(newFp)
    expect(e.message).toContain(`${knownHosts.ownFile}:1`)
    expect(retries).toBe(0)
    // the provider-knows-the-key path: replace, then connect succeeds
    knownHosts.replace('127.0.0.1', sshd.port, 'ssh-ed25519', blobOfPub(`${sshd.hostKey('host_b')}.pub`))
    session = await SshSession.connect(target, {knownHosts, useAgent: false})
    expect((await session.run('echo ok')).trim()).toBe('ok')
  })
})

describe.skipIf(Boolean(skipReason))('SshSession against an sshd with a low MaxSessions', () => {
  let sshd: TestSshd
  let target: SshTarget
  let knownHosts: KnownHosts
  let echo: Server

  beforeAll(async () => {
    sshd = new TestSshd(await freePort())
    const work = mkdtempSync(join(tmpdir(), 'cms-sess-max-'))
    knownHosts = new KnownHosts({ownFile: join(work, 'known_hosts'), userFiles: []})
    target = {host: '127.0.0.1', port: sshd.port, user: sshd.user, identityFiles: [sshd.clientKey]}
    echo = createServer((sock) => sock.pipe(sock))
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()))
  })

  afterAll(async () => {
    echo?.close()
    await sshd?.stop()
  })

  it('a refused session waits for one of the connection\'s own sessions to close; tunnels do not count against MaxSessions', async () => {
    await sshd.start(sshd.hostKey('host_max'), ['MaxSessions 2'])
    const logs: string[] = []
    const s = await SshSession.connect(target, {knownHosts, useAgent: false, log: (l) => logs.push(l)})
    try {
      const busy = Promise.all(range(2).map(() => s.run('sleep 2')))
      busy.catch(() => undefined) // awaited below; a failure before that must not be an unhandled rejection
      await new Promise((r) => setTimeout(r, 300))
      const port = (echo.address() as {port: number}).port
      const tunnels = await Promise.all(range(3).map(() => s.forward('127.0.0.1', port)))
      for (const t of tunnels) t.destroy()
      // refused at first (both sessions busy for longer than the backoff lasts), then run two at a time
      const many = await Promise.all(range(6).map((i) => s.run(`sleep 0.2; echo ${i}`)))
      expect(many.map((x) => Number(x.trim()))).toEqual(range(6))
      await busy
      expect(logs.filter((l) => l.includes('refuses more than 2 sessions per connection (sshd MaxSessions)'))).toHaveLength(1)
    } finally {
      s.close()
      await sshd.stop()
    }
  })

  it('with MaxSessions 1, file transfers and commands take turns: the idle SFTP channel gives its slot up', async () => {
    await sshd.start(sshd.hostKey('host_max'), ['MaxSessions 1'])
    const logs: string[] = []
    const s = await SshSession.connect(target, {knownHosts, useAgent: false, log: (l) => logs.push(l)})
    try {
      // Learns the limit from the host's refusals (a long command holds the one session), then keeps working.
      const busy = s.run('sleep 1')
      await new Promise((r) => setTimeout(r, 200))
      expect((await s.run('echo learnt')).trim()).toBe('learnt')
      await busy
      expect(logs.filter((l) => l.includes('refuses more than 1 sessions per connection'))).toHaveLength(1)
      const dir = (await s.run('mktemp -d')).trim()
      for (const i of range(3)) {
        await s.writeFile(`${dir}/f${i}`, `content ${i}`, 0o600)
        expect((await s.run(`cat ${shq(`${dir}/f${i}`)}`)).trim()).toBe(`content ${i}`)
        expect((await s.readFile(`${dir}/f${i}`))?.toString()).toBe(`content ${i}`)
      }
      const [written, listed] = await Promise.all([s.writeFile(`${dir}/together`, 'x'), s.run(`ls ${shq(dir)} | wc -l`)])
      expect(written).toBeUndefined()
      expect(Number(listed.trim())).toBeGreaterThanOrEqual(3)
    } finally {
      s.close()
      await sshd.stop()
    }
  })

  it('gives up on a refused session within a bounded time, naming the host and sshd MaxSessions', async () => {
    await sshd.start(sshd.hostKey('host_max'), ['MaxSessions 0']) // no sessions at all, tunnels only
    const s = await SshSession.connect(target, {knownHosts, useAgent: false})
    try {
      const t0 = Date.now()
      const err = await s.run('echo hi', {label: 'probe'}).catch((e: unknown) => e)
      const took = Date.now() - t0
      expect(err).toBeInstanceOf(RemoteCommandError)
      expect((err as Error).message).toContain(`${sshd.user}@127.0.0.1:${sshd.port}: probe could not start`)
      expect((err as Error).message).toMatch(/refused a new session 6 times.*too many sessions open on one connection: sshd MaxSessions/)
      expect(took).toBeGreaterThan(2500) // 100 + 200 + 400 + 800 + 1600 ms of backoff
      expect(took).toBeLessThan(8000)
      const port = (echo.address() as {port: number}).port
      const tunnel = await s.forward('127.0.0.1', port)
      tunnel.destroy()
    } finally {
      s.close()
      await sshd.stop()
    }
  })
})
