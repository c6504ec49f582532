import {createHash, randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {aliveWorkers, cms, docker, makeCmsHome, masterJson, startPlainHosts} from './helpers.js'

// Container hosts that cms did not make, addressed as plain SSH hosts with the test's own key.
const PREFIX = 'cms-e2e-ssh'

describe('ssh provider on plain SSH hosts', () => {
  const {home, cleanup} = makeCmsHome()
  const key = join(home, 'id_ed25519')
  const env = {CMS_HOME: home}
  let ips: string[] = []
  let names: string[] = []
  let removeHosts = async () => {}

  beforeAll(async () => {
    ;({names, ips, cleanup: removeHosts} = await startPlainHosts(PREFIX, 2, key))
  })

  afterAll(async () => {
    await removeHosts()
    cleanup()
  })

  it('creates a Spark cluster on the hosts; the master reports both workers', async () => {
    const r = await cms(['cluster', 'create', '-n', 'e2e-ssh', '-p', 'ssh', '-i', key, ...ips.map((ip) => `root@${ip}`), '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const master = await masterJson(ips[0])
    expect(master.status).toBe('ALIVE')
    expect(aliveWorkers(master)).toEqual([...ips].sort())
    expect(r.stderr).toContain('Recorded host key')
    const info = await cms(['cluster', 'info', '-n', 'e2e-ssh', '--json'], env)
    expect(info.code, info.stderr).toBe(0)
    expect(JSON.parse(info.stdout).hosts.map((h: {privateAddress: string}) => h.privateAddress)).toEqual(ips)
  })

  it("ssh logs in with the user's key and the host key cms recorded; run and copy reach every host", async () => {
    const own = await Promise.all(names.map((n) => docker('inspect', '-f', '{{.Config.Hostname}}', n)))
    const r = await cms(['cluster', 'ssh', '-n', 'e2e-ssh', `root@${ips[1]}`, '--', 'cat /etc/hostname; exit 5'], env)
    expect(r.code, r.stderr).toBe(5)
    expect(r.stdout.trim()).toBe(own[1])
    const run = await cms(['cluster', 'run', '-n', 'e2e-ssh', '--json', '--', 'cat', '/etc/hostname'], env)
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout).hosts.map((h: {stdout: string}) => h.stdout.trim())).toEqual(own)
    const data = randomBytes(4096)
    writeFileSync(join(home, 'small.bin'), data)
    const copy = await cms(['cluster', 'copy', '-n', 'e2e-ssh', join(home, 'small.bin'), '~/'], env)
    expect(copy.code, copy.stderr).toBe(0)
    for (const name of names) {
      expect((await docker('exec', name, 'sha256sum', '/root/small.bin')).split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'))
      await docker('exec', name, 'rm', '/root/small.bin')
    }
  })

  it('kill stops every process and removes every file cms installed', async () => {
    const r = await cms(['cluster', 'kill', '-n', 'e2e-ssh', '--yes'], env)
    expect(r.code, r.stderr).toBe(0)
    for (const name of names) {
      expect(await docker('exec', name, 'sh', '-c', 'pgrep -c java || true')).toBe('0')
      expect(await docker('exec', name, 'sh', '-c', 'test -e /root/.cms && echo left || echo clean')).toBe('clean')
    }
    expect((await cms(['cluster', 'info', '-n', 'e2e-ssh'], env)).code).toBe(2)
  })

  it('refuses a host whose key changed, naming both fingerprints, and installs nothing', async () => {
    // cms has recorded this host's key above; now the host presents another one.
    await docker('exec', names[1], 'sh', '-c', "rm -f /etc/ssh/ssh_host_ed25519_key* && ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key && kill -HUP 1")
    await new Promise((r) => setTimeout(r, 1000))
    const r = await cms(['cluster', 'create', '-n', 'e2e-key', '-p', 'ssh', '-i', key, `root@${ips[1]}`, '--connect-timeout', '10'], env)
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain(ips[1])
    expect(r.stderr.match(/SHA256:[A-Za-z0-9+/]{43}/g)?.length ?? 0).toBeGreaterThanOrEqual(2)
    expect(await docker('exec', names[1], 'sh', '-c', 'test -e /root/.cms && echo left || echo clean')).toBe('clean')
  })
})
