import {InstanceHosts, type MachineSource} from './instance-hosts.js'
import {buildHostImage, docker} from './helpers.js'

/** Machine addresses this harness can serve: SUBNET.4 (the first a cloud hands out) to SUBNET.19. */
const FIRST = 4
const LAST = 19

/**
 * A cloud's machines on loopback addresses, in a private "VPC": one network namespace (held by a small container)
 * shared by one container per machine, where every loopback address of the subnet (127.0.7.x for aws, 127.0.8.x for
 * openstack) is local, so the machines reach each other on exactly the private addresses the cloud reports, as in a
 * real VPC. Each machine's sshd is published on the machine running the tests at that same address, port 22 (never
 * 0.0.0.0). Only loopback and these containers are ever contacted. Engines that refuse loopback node addresses
 * (Kubernetes) run on VpcHosts instead.
 */
export class LoopbackHosts extends InstanceHosts {
  private readonly vpc: string
  private hostImage = ''

  /** `subnet`: the first three octets with their dot, like '127.0.7.'. */
  constructor(
    source: MachineSource,
    prefix: string,
    private readonly subnet: string,
  ) {
    super(source, prefix)
    this.vpc = `${prefix}-vpc`
  }

  protected serves(ip: string): boolean {
    const n = Number(ip.slice(this.subnet.length))
    return ip.startsWith(this.subnet) && n >= FIRST && n <= LAST
  }

  protected image(): string {
    return this.hostImage
  }

  /** Builds the host image (cached by Docker) and starts the VPC's namespace. */
  protected async prepare(): Promise<void> {
    this.hostImage = await buildHostImage(`${this.prefix}-host`)
    const publish: string[] = []
    for (let n = FIRST; n <= LAST; n++) publish.push('-p', `${this.subnet}${n}:22:${2200 + n}`)
    await docker('run', '-d', '--name', this.vpc, '--label', this.prefix, ...publish, '--entrypoint', 'sleep', this.hostImage, 'infinity')
  }

  protected containerArgs(): string[] {
    return ['--network', `container:${this.vpc}`]
  }

  /** sshd on the machine's own address, and on the port the published SUBNET.N:22 leads to. */
  protected startCommand(ip: string): string {
    const n = Number(ip.slice(this.subnet.length))
    return `/usr/sbin/sshd -D -e -o ListenAddress=${ip}:22 -o ListenAddress=0.0.0.0:${2200 + n} -o PidFile=/run/sshd-${n}.pid`
  }

  /** The namespace's container goes with the others (same label). */
  protected async dispose(): Promise<void> {}
}
