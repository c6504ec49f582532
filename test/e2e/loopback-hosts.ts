import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {readCloudConfig} from '../../src/providers/cloud-config.js'
import {docker, type MasterJson, ROOT} from './helpers.js'

/** Instance addresses this harness can serve: SUBNET.4 (the first a cloud hands out) to SUBNET.19. */
const FIRST = 4
const LAST = 19
const USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/

/** One machine as a cloud's API reports it: `up` (pending or running), `gone` (terminated, deleted), or neither. */
export interface CloudMachine {
  id: string
  up: boolean
  gone: boolean
  privateIp: string
}

/** What the harness asks the cloud (an emulator, or real services whose hypervisor starts nothing). */
export interface MachineSource {
  machines(): Promise<CloudMachine[]>
  /** The user data the machine was launched with, decoded (cms's cloud-config). */
  userData(id: string): Promise<string>
}

/**
 * Plays the part of a cloud's machines for the records its API keeps (moto's instances, the fake hypervisor's Nova
 * servers), in a private "VPC": one network namespace (held by a small container) shared by one container per
 * machine, where every loopback address of the subnet (127.0.7.x for aws, 127.0.8.x for openstack) is local, so the
 * machines reach each other on exactly the private addresses the cloud reports, as in a real VPC. Each machine's sshd
 * is published on the host at that same address, port 22 (never 0.0.0.0), and set up from the machine's own user
 * data read back through the cloud's API (default user, authorized key, the host key cms made). Machines that are
 * gone lose their container. Only loopback and these containers are ever contacted.
 */
export class LoopbackHosts {
  private readonly image: string
  private readonly vpc: string
  private readonly started = new Map<string, {name: string; ip: string}>()
  private timer?: NodeJS.Timeout
  private busy = false
  private stopped = false
  readonly errors: string[] = []

  /** `subnet`: the first three octets with their dot, like '127.0.7.'. */
  constructor(
    private readonly source: MachineSource,
    private readonly prefix: string,
    private readonly subnet: string,
  ) {
    this.image = `${prefix}-host:latest`
    this.vpc = `${prefix}-vpc`
  }

  /** Builds the host image (cached by Docker), starts the VPC's namespace, and starts watching the emulator. */
  async start(): Promise<void> {
    await this.removeAll()
    await docker('build', '-q', '-t', this.image, join(ROOT, 'images', 'host'))
    const publish: string[] = []
    for (let n = FIRST; n <= LAST; n++) publish.push('-p', `${this.subnet}${n}:22:${2200 + n}`)
    await docker('run', '-d', '--name', this.vpc, '--label', this.prefix, ...publish, '--entrypoint', 'sleep', this.image, 'infinity')
    const tick = async () => {
      if (this.busy || this.stopped) return
      this.busy = true
      try {
        await this.sync()
      } catch (error) {
        this.errors.push((error as Error).message)
      } finally {
        this.busy = false
      }
    }
    this.timer = setInterval(() => void tick(), 500)
  }

  /** The container that stands in for an instance. */
  container(instanceId: string): string {
    const c = this.started.get(instanceId)
    if (!c) throw new Error(`no container for ${instanceId}`)
    return c.name
  }

  /** A URL fetched inside the VPC (the engine's APIs listen on private addresses only), from a host's container. */
  async fetchInside(instanceId: string, url: string): Promise<string> {
    return docker('exec', this.container(instanceId), 'curl', '-fsS', '--max-time', '10', url)
  }

  /**
   * The Spark master's own status page, read inside the VPC (it listens on the head's private address only), until it
   * reports `count` alive workers (90 s at most). `head` finds the head machine's id and address anew each round.
   */
  async waitForAliveWorkers(head: () => Promise<{id: string; ip: string}>, count: number): Promise<MasterJson> {
    let last: MasterJson | undefined
    for (let i = 0; i < 90; i++) {
      last = await head()
        .then(async (h) => JSON.parse(await this.fetchInside(h.id, `http://${h.ip}:8080/json/`)) as MasterJson)
        .catch(() => undefined)
      if (last?.aliveworkers === count) return last
      await new Promise((r) => setTimeout(r, 1000))
    }
    throw new Error(`the master reports ${last?.aliveworkers} alive workers, expected ${count}`)
  }

  private async sync(): Promise<void> {
    const machines = await this.source.machines()
    for (const m of machines) {
      if (m.up && m.privateIp.startsWith(this.subnet) && !this.started.has(m.id)) {
        this.started.set(m.id, {name: await this.boot(m.id, m.privateIp), ip: m.privateIp})
      }
    }
    // Gone, or no longer listed at all (a deleted server).
    for (const [id, c] of [...this.started]) {
      const m = machines.find((x) => x.id === id)
      if (!m || m.gone) {
        await docker('rm', '-f', c.name)
        this.started.delete(id)
      }
    }
  }

  private async boot(instanceId: string, ip: string): Promise<string> {
    const n = Number(ip.slice(this.subnet.length))
    if (!(n >= FIRST && n <= LAST)) throw new Error(`instance ${instanceId} has ${ip}, outside the addresses this harness serves`)
    const boot = readCloudConfig(await this.source.userData(instanceId))
    if (!USER_RE.test(boot.sshUser)) throw new Error(`unexpected user ${boot.sshUser}`)
    const name = `${this.prefix}-${instanceId}`
    const dir = mkdtempSync(join(tmpdir(), `${this.prefix}-boot-`))
    try {
      writeFileSync(join(dir, 'ssh_host_ed25519_key'), boot.hostKey.private, {mode: 0o600})
      writeFileSync(join(dir, 'ssh_host_ed25519_key.pub'), `${boot.hostKey.public}\n`)
      writeFileSync(join(dir, 'authorized_keys'), `${boot.authorizedKey}\n`)
      writeFileSync(join(dir, 'user'), boot.sshUser)
      // What cloud-init does on a real instance: the default user with the key, the host key cms made, sshd on the
      // instance's own address (and on the port the machine's 127.0.7.N:22 is published to).
      const script = [
        'set -e',
        'user=$(cat /cms-boot/user)',
        'id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"',
        'install -d -m 700 -o "$user" -g "$user" "/home/$user/.ssh"',
        'install -m 600 -o "$user" -g "$user" /cms-boot/authorized_keys "/home/$user/.ssh/authorized_keys"',
        'install -m 600 /cms-boot/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key',
        'install -m 644 /cms-boot/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ed25519_key.pub',
        'mkdir -p /run/sshd',
        `exec /usr/sbin/sshd -D -e -o ListenAddress=${ip}:22 -o ListenAddress=0.0.0.0:${2200 + n} -o PidFile=/run/sshd-${n}.pid`,
      ].join('\n')
      await docker('create', '--name', name, '--label', this.prefix, '--network', `container:${this.vpc}`, '--entrypoint', 'sh', this.image, '-c', script)
      await docker('cp', `${dir}/.`, `${name}:/cms-boot`)
      await docker('start', name)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
    return name
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    for (let i = 0; i < 100 && this.busy; i++) await new Promise((r) => setTimeout(r, 100))
    await this.removeAll()
  }

  private async removeAll(): Promise<void> {
    const ids = (await docker('ps', '-aq', '--filter', `label=${this.prefix}`)).split('\n').filter(Boolean)
    if (ids.length > 0) await docker('rm', '-f', ...ids)
    this.started.clear()
  }
}
