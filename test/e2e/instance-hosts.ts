import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse} from 'yaml'
import {readCloudConfig} from '../../src/providers/cloud-config.js'
import {docker, type MasterJson} from './helpers.js'

const USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/

/**
 * cloud-init's entry for root's key when `disable_root` is on (its default disable_root_opts): root's copy of the key
 * only says whom to log in as. When the login user is root itself, this is what locks it out.
 */
export function rootKeyLine(authorizedKey: string, sshUser: string, disableRoot: boolean): string {
  if (!disableRoot) return authorizedKey
  const message = `Please login as the user \\"${sshUser}\\" rather than the user \\"root\\".`
  return `no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command="echo '${message}';echo;sleep 10;exit 142" ${authorizedKey}`
}

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
 * servers): one container per machine the cloud reports up (at an address this harness serves), set up from the
 * machine's own user data read back through the cloud's API as cloud-init would (the default user and its authorized
 * key, root's key as disable_root leaves it, the host key cms made), then started with the subclass's command.
 * Machines that are gone, or no longer listed, lose their container (and its anonymous volumes). Subclasses say where
 * the containers live and what they run; every container and network is labelled with the harness's prefix and
 * removed at stop.
 */
export abstract class InstanceHosts {
  private readonly started = new Map<string, {name: string; ip: string}>()
  private timer?: NodeJS.Timeout
  private busy = false
  private stopped = false
  readonly errors: string[] = []

  constructor(
    private readonly source: MachineSource,
    protected readonly prefix: string,
  ) {}

  /** Whether an instance's private address is one this harness can give a container. */
  protected abstract serves(ip: string): boolean
  /** Builds images and makes the network the containers join (after leftovers of an earlier run are removed). */
  protected abstract prepare(): Promise<void>
  /** `docker create` arguments before the image: the network, the address, the privileges. */
  protected abstract containerArgs(ip: string): string[]
  /** The image the containers run. */
  protected abstract image(): string
  /** The shell command that becomes the container's main process once the user and keys are in place. */
  protected abstract startCommand(ip: string): string
  /** Removes what prepare made besides the containers. */
  protected abstract dispose(): Promise<void>

  /** Prepares, then watches the emulator (every 500 ms). */
  async start(): Promise<void> {
    await this.removeContainers()
    await this.dispose()
    await this.prepare()
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

  /** The containers this harness runs now (labelled with its prefix), by name. */
  async containers(): Promise<string[]> {
    return (await docker('ps', '-a', '--filter', `label=${this.prefix}`, '--format', '{{.Names}}')).split('\n').filter(Boolean)
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
      if (m.up && this.serves(m.privateIp) && !this.started.has(m.id)) {
        this.started.set(m.id, {name: await this.boot(m.id, m.privateIp), ip: m.privateIp})
      }
    }
    // Gone, or no longer listed at all (a deleted server).
    for (const [id, c] of [...this.started]) {
      const m = machines.find((x) => x.id === id)
      if (!m || m.gone) {
        await docker('rm', '-f', '-v', c.name)
        this.started.delete(id)
      }
    }
  }

  private async boot(instanceId: string, ip: string): Promise<string> {
    const userData = await this.source.userData(instanceId)
    const boot = readCloudConfig(userData)
    if (!USER_RE.test(boot.sshUser)) throw new Error(`unexpected user ${boot.sshUser}`)
    const disableRoot = (parse(userData) as {disable_root?: boolean}).disable_root !== false
    const name = `${this.prefix}-${instanceId}`
    const dir = mkdtempSync(join(tmpdir(), `${this.prefix}-boot-`))
    try {
      writeFileSync(join(dir, 'ssh_host_ed25519_key'), boot.hostKey.private, {mode: 0o600})
      writeFileSync(join(dir, 'ssh_host_ed25519_key.pub'), `${boot.hostKey.public}\n`)
      writeFileSync(join(dir, 'authorized_keys'), `${boot.authorizedKey}\n`)
      writeFileSync(join(dir, 'root_authorized_keys'), `${rootKeyLine(boot.authorizedKey, boot.sshUser, disableRoot)}\n`)
      writeFileSync(join(dir, 'user'), boot.sshUser)
      // What cloud-init does on a real instance: the default user with the key (root's copy as disable_root says;
      // for a root login user, root's is the one that counts), the host key cms made.
      const script = [
        'set -e',
        'user=$(cat /cms-boot/user)',
        'id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"',
        'install -d -m 700 /root/.ssh',
        'install -m 600 /cms-boot/root_authorized_keys /root/.ssh/authorized_keys',
        'if [ "$user" != root ]; then',
        '  home=$(getent passwd "$user" | cut -d: -f6)',
        '  install -d -m 700 -o "$user" -g "$user" "$home/.ssh"',
        '  install -m 600 -o "$user" -g "$user" /cms-boot/authorized_keys "$home/.ssh/authorized_keys"',
        'fi',
        'install -m 600 /cms-boot/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key',
        'install -m 644 /cms-boot/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ed25519_key.pub',
        'mkdir -p /run/sshd',
        `exec ${this.startCommand(ip)}`,
      ].join('\n')
      await docker('create', '--name', name, '--label', this.prefix, ...this.containerArgs(ip), '--entrypoint', 'sh', this.image(), '-c', script)
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
    await this.removeContainers()
    await this.dispose()
  }

  private async removeContainers(): Promise<void> {
    const ids = (await docker('ps', '-aq', '--filter', `label=${this.prefix}`)).split('\n').filter(Boolean)
    if (ids.length > 0) await docker('rm', '-f', '-v', ...ids)
    this.started.clear()
  }
}
