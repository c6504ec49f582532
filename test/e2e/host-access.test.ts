import {execFile} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {existsSync, readdirSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROOT, cms, docker, labelledContainers, makeCmsHome, removeClusterContainers} from './helpers.js'

// cms cluster ssh / run / copy on one 2-host docker cluster (Spark standalone: the fastest engine to create); the
// ssh provider's case runs on the cluster of ssh-provider.test.ts. Asserts on what the hosts themselves hold (docker
// inspect, docker exec), not on what cms printed.
const CLUSTER = 'ha-docker'

const keysIn = (home: string) => (existsSync(join(home, 'keys')) ? readdirSync(join(home, 'keys')).sort() : [])
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex')

describe('host access: cluster ssh, run and copy', () => {
  const {home, cleanup} = makeCmsHome()
  const env = {CMS_HOME: home}
  let hosts: Array<{name: string; role: string; ip: string}> = []
  /** Each container's own hostname, as Docker set it. */
  const hostname: Record<string, string> = {}

  beforeAll(async () => {
    await removeClusterContainers(CLUSTER)
    const r = await cms(['cluster', 'create', '-n', CLUSTER, '--hosts', '2'], env)
    expect(r.code, r.stderr).toBe(0)
    hosts = (await labelledContainers(CLUSTER)).sort((a, b) => a.name.localeCompare(b.name))
    for (const h of hosts) hostname[h.name] = await docker('inspect', '-f', '{{.Config.Hostname}}', h.name)
  })

  afterAll(async () => {
    await cms(['cluster', 'kill', '-n', CLUSTER, '--yes'], env, {timeoutMs: 300_000})
    await removeClusterContainers(CLUSTER)
    cleanup()
  })

  it("ssh runs a command on the head with the system ssh: the host's own output, the remote exit code", async () => {
    const head = hosts.find((h) => h.role === 'head')!
    const r = await cms(['cluster', 'ssh', '-n', CLUSTER, '--', 'cat /etc/hostname; exit 7'], env)
    expect(r.code, r.stderr).toBe(7)
    expect(r.stdout.trim()).toBe(hostname[head.name])
  })

  it('ssh reaches a worker by its name and by its address', async () => {
    const worker = hosts.find((h) => h.role === 'worker')!
    const results = await Promise.all([worker.name, worker.ip].map((which) => cms(['cluster', 'ssh', '-n', CLUSTER, which, '--', 'cat', '/etc/hostname'], env)))
    for (const r of results) {
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout.trim()).toBe(hostname[worker.name])
    }
  })

  it('ssh from a terminal logs in with a terminal of its own', async () => {
    // `script` gives cms a pseudo-terminal; the login shell reads the lines typed into it.
    const bin = join(ROOT, 'bin', 'run.js')
    const child = execFile('script', ['-qec', `${process.execPath} ${bin} cluster ssh -n ${CLUSTER}`, '/dev/null'], {env: {...process.env, ...env}, timeout: 60_000})
    child.stdin!.end('tty; exit 4\n')
    let out = ''
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()))
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code, out).toBe(4)
    expect(out).toMatch(/^\/dev\/pts\/\d+/m)
  })

  it('an unknown host is bad input: one line, exit 2', async () => {
    const commands = [
      ['cluster', 'ssh', '-n', CLUSTER, 'no-such-host', '--', 'true'],
      ['cluster', 'run', '-n', CLUSTER, '--hosts', 'no-such-host', '--', 'true'],
      ['cluster', 'copy', '-n', CLUSTER, join(ROOT, 'package.json'), '/tmp/', '--hosts', 'no-such-host'],
    ]
    for (const r of await Promise.all(commands.map((args) => cms(args, env)))) {
      expect(r.code, r.stderr).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr.trim().split('\n')).toEqual([`Error: host "no-such-host" is not in the cluster (hosts: ${hosts.map((h) => h.name).join(', ')})`])
    }
  })

  it("run gives each host's own output under its name; --json per host", async () => {
    const r = await cms(['cluster', 'run', '-n', CLUSTER, '--json', '--', 'cat', '/etc/hostname'], env)
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout) as {hosts: Array<{host: string; role: string; exitCode: number; stdout: string; stderr: string}>}
    expect(report.hosts.map((h) => [h.host, h.role, h.exitCode, h.stdout.trim()])).toEqual(hosts.map((h) => [h.name, h.role, 0, hostname[h.name]]))
    const text = await cms(['cluster', 'run', '-n', CLUSTER, '--', 'cat', '/etc/hostname'], env)
    expect(text.code, text.stderr).toBe(0)
    for (const h of hosts) expect(text.stdout).toContain(`== ${h.name} (${h.role}): exit 0\n${hostname[h.name]}\n`)
  })

  it('run exits 1 when the command fails on one host, and names it', async () => {
    const worker = hosts.find((h) => h.role === 'worker')!
    const r = await cms(['cluster', 'run', '-n', CLUSTER, '--json', '--', `[ "$(cat /etc/hostname)" != ${hostname[worker.name]} ] || exit 3`], env)
    expect(r.code).toBe(1)
    const report = JSON.parse(r.stdout) as {hosts: Array<{host: string; exitCode: number}>}
    expect(report.hosts.map((h) => [h.host, h.exitCode])).toEqual(hosts.map((h) => [h.name, h.role === 'worker' ? 3 : 0]))
    const only = await cms(['cluster', 'run', '-n', CLUSTER, '--hosts', 'worker', '--', 'exit 3'], env)
    expect(only.code).toBe(1)
    expect(only.stderr).toContain(`1 of 1 hosts failed: ${worker.name} (exit 3)`)
  })

  it('copy puts the file with the same sha256 on every host: one upload, the worker fetched it from the head', async () => {
    const data = randomBytes(2 << 20)
    const local = join(home, 'payload.bin')
    writeFileSync(local, data, {mode: 0o640})
    const r = await cms(['cluster', 'copy', '-n', CLUSTER, local, '/tmp/ha-payload.bin', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout) as {uploadedBytes: number; hosts: Array<{host: string; ok: boolean; detail: string}>}
    expect(report.uploadedBytes).toBe(data.length)
    expect(report.hosts.find((h) => h.host === hosts.find((x) => x.role === 'worker')!.name)?.detail).toBe('/tmp/ha-payload.bin (from the head)')
    for (const h of hosts) {
      expect((await docker('exec', h.name, 'sha256sum', '/tmp/ha-payload.bin')).split(' ')[0]).toBe(sha256(data))
      expect(await docker('exec', h.name, 'stat', '-c', '%a', '/tmp/ha-payload.bin')).toBe('640')
      // Nothing left behind: no staged copy, no file server.
      expect(await docker('exec', h.name, 'sh', '-c', "ls -d /root/.cms/dist/copy-* 2>/dev/null; pgrep -f 'http[.]server' || true")).toBe('')
    }
  })

  it('list makes no key and installs none, for a cluster whose key is not on this machine', async () => {
    const key = join(home, 'keys', CLUSTER)
    const authorized = async () => Promise.all(hosts.map((h) => docker('exec', h.name, 'cat', '/root/.ssh/authorized_keys')))
    const keysBefore = await authorized()
    renameSync(key, `${key}.away`)
    renameSync(`${key}.pub`, `${key}.pub.away`)
    try {
      const before = keysIn(home)
      const r = await cms(['cluster', 'list', '--json'], env)
      expect(r.code, r.stderr).toBe(0)
      const entry = (JSON.parse(r.stdout) as {clusters: Array<{name: string; error?: string}>}).clusters.find((c) => c.name === CLUSTER)
      expect(entry?.error).toContain(`no access key for cluster ${CLUSTER} on this machine`)
      // No key file for this cluster, nor for any other docker cluster on this machine list looked at.
      expect(keysIn(home)).toEqual(before)
      expect(await authorized()).toEqual(keysBefore)
    } finally {
      renameSync(`${key}.away`, key)
      renameSync(`${key}.pub.away`, `${key}.pub`)
    }
  })

  it('ssh refuses a host whose key is not the one cms verified', async () => {
    const worker = hosts.find((h) => h.role === 'worker')!
    await docker('exec', worker.name, 'sh', '-c', "rm -f /etc/ssh/ssh_host_ed25519_key* && ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key && kill -HUP 1")
    await new Promise((r) => setTimeout(r, 1000))
    const r = await cms(['cluster', 'ssh', '-n', CLUSTER, worker.name, '--', 'touch /tmp/ha-should-not-exist'], env)
    expect(r.code).toBe(255)
    expect(r.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/)
    expect(await docker('exec', worker.name, 'sh', '-c', 'test -e /tmp/ha-should-not-exist && echo made || echo none')).toBe('none')
  })
})
