import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {DescribeInstanceAttributeCommand, DescribeInstancesCommand, type EC2Client} from '@aws-sdk/client-ec2'
import {readCloudConfig} from '../../src/providers/aws/user-data.js'
import {docker, ROOT} from './helpers.js'

const SUBNET_PREFIX = '127.0.7.'
const USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/

/**
 * Plays the part of EC2's machines for the emulator's instances: for each instance with a 127.0.7.x private
 * address it starts a container from the cms host image whose sshd is published on exactly that address,
 * set up from the instance's own user data (read back through the EC2 API: the default user, its authorized key,
 * the host key cms made). Terminated instances lose their container. Only loopback and these containers are
 * ever contacted.
 */
export class LoopbackHosts {
  readonly network: string
  private readonly image: string
  private readonly started = new Map<string, string>()
  private timer?: NodeJS.Timeout
  private busy = false
  private stopped = false
  readonly errors: string[] = []

  constructor(
    private readonly ec2: EC2Client,
    private readonly prefix: string,
  ) {
    this.network = `${prefix}-net`
    this.image = `${prefix}-host:latest`
  }

  /** Builds the host image (cached by Docker), makes the network, and starts watching the emulator. */
  async start(): Promise<void> {
    await this.removeAll()
    await docker('build', '-q', '-t', this.image, join(ROOT, 'images', 'host'))
    await docker('network', 'create', '--label', this.prefix, this.network)
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

  /** Containers started so far: instance id -> container name. */
  containers(): Map<string, string> {
    return new Map(this.started)
  }

  private async sync(): Promise<void> {
    const out = await this.ec2.send(new DescribeInstancesCommand({}))
    const instances = (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])
    for (const i of instances) {
      const id = i.InstanceId!
      const state = i.State?.Name ?? ''
      const ip = i.PrivateIpAddress ?? ''
      if (['pending', 'running'].includes(state) && ip.startsWith(SUBNET_PREFIX) && !this.started.has(id)) {
        this.started.set(id, await this.boot(id, ip))
      }
      if (['shutting-down', 'terminated', 'stopping', 'stopped'].includes(state) && this.started.has(id)) {
        await docker('rm', '-f', this.started.get(id)!)
        this.started.delete(id)
      }
    }
  }

  private async boot(instanceId: string, ip: string): Promise<string> {
    const attr = await this.ec2.send(new DescribeInstanceAttributeCommand({InstanceId: instanceId, Attribute: 'userData'}))
    const boot = readCloudConfig(Buffer.from(attr.UserData?.Value ?? '', 'base64').toString('utf8'))
    if (!USER_RE.test(boot.sshUser)) throw new Error(`unexpected user ${boot.sshUser}`)
    const name = `${this.prefix}-${instanceId}`
    const dir = mkdtempSync(join(tmpdir(), `${this.prefix}-boot-`))
    try {
      writeFileSync(join(dir, 'ssh_host_ed25519_key'), boot.hostKey.private, {mode: 0o600})
      writeFileSync(join(dir, 'ssh_host_ed25519_key.pub'), `${boot.hostKey.public}\n`)
      writeFileSync(join(dir, 'authorized_keys'), `${boot.authorizedKey}\n`)
      writeFileSync(join(dir, 'user'), boot.sshUser)
      // What cloud-init does on a real instance: the default user with the key, the host key cms made, sshd.
      const script = [
        'set -e',
        'user=$(cat /cms-boot/user)',
        'id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"',
        'install -d -m 700 -o "$user" -g "$user" "/home/$user/.ssh"',
        'install -m 600 -o "$user" -g "$user" /cms-boot/authorized_keys "/home/$user/.ssh/authorized_keys"',
        'install -m 600 /cms-boot/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key',
        'install -m 644 /cms-boot/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ed25519_key.pub',
        'mkdir -p /run/sshd',
        'exec /usr/sbin/sshd -D -e',
      ].join('\n')
      await docker(
        'create',
        '--name', name,
        '--label', this.prefix,
        '--hostname', `ip-${ip.replaceAll('.', '-')}`,
        '--network', this.network,
        '-p', `${ip}:22:22`,
        '--entrypoint', 'sh',
        this.image,
        '-c', script,
      )
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
    await docker('network', 'rm', this.network).catch(() => undefined)
    this.started.clear()
  }
}
