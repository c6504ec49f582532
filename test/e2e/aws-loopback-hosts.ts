import type {EC2Client} from '@aws-sdk/client-ec2'
import {InstanceHosts} from './aws-instance-hosts.js'
import {buildHostImage, docker} from './helpers.js'

const SUBNET_PREFIX = '127.0.7.'
/** Instance addresses this harness can serve: 127.0.7.4 (moto's first) to 127.0.7.19. */
const FIRST = 4
const LAST = 19

/**
 * The emulator's instances on loopback addresses, in a private "VPC": one network namespace (held by a small
 * container) shared by one container per instance, where every 127.0.7.x address is local, so the instances reach
 * each other on exactly the private addresses EC2 reports, as in a real VPC. Each instance's sshd is published on
 * the machine at that same address, port 22 (127.0.7.N:22 only, never 0.0.0.0). Only loopback and these containers
 * are ever contacted. Engines that refuse loopback node addresses (Kubernetes) run on VpcHosts instead.
 */
export class LoopbackHosts extends InstanceHosts {
  private readonly vpc: string
  private hostImage = ''

  constructor(ec2: EC2Client, prefix: string) {
    super(ec2, prefix)
    this.vpc = `${prefix}-vpc`
  }

  protected serves(ip: string): boolean {
    const n = Number(ip.slice(SUBNET_PREFIX.length))
    return ip.startsWith(SUBNET_PREFIX) && n >= FIRST && n <= LAST
  }

  protected image(): string {
    return this.hostImage
  }

  /** Builds the host image (cached by Docker) and starts the VPC's namespace. */
  protected async prepare(): Promise<void> {
    this.hostImage = await buildHostImage(`${this.prefix}-host`)
    const publish: string[] = []
    for (let n = FIRST; n <= LAST; n++) publish.push('-p', `${SUBNET_PREFIX}${n}:22:${2200 + n}`)
    await docker('run', '-d', '--name', this.vpc, '--label', this.prefix, ...publish, '--entrypoint', 'sleep', this.hostImage, 'infinity')
  }

  protected containerArgs(): string[] {
    return ['--network', `container:${this.vpc}`]
  }

  /** sshd on the instance's own address, and on the port the machine's 127.0.7.N:22 is published to. */
  protected startCommand(ip: string): string {
    const n = Number(ip.slice(SUBNET_PREFIX.length))
    return `/usr/sbin/sshd -D -e -o ListenAddress=${ip}:22 -o ListenAddress=0.0.0.0:${2200 + n} -o PidFile=/run/sshd-${n}.pid`
  }

  /** The namespace's container goes with the others (same label). */
  protected async dispose(): Promise<void> {}
}
