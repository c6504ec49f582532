import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {cidrContains, cidrsOverlap, DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR} from '../../src/engines/kubernetes/network.js'
import {nodeContainerRunArgs} from '../../src/engines/kubernetes/node-container.js'
import {InstanceHosts, type MachineSource} from './instance-hosts.js'
import {buildHostImage, docker} from './helpers.js'

/** Private ranges this harness may take for its VPC, in order: none is Docker's, LXD's testbed's or Kubernetes'. */
const CANDIDATES = ['10.203.7.0/24', '10.203.8.0/24', '10.207.7.0/24', '10.209.7.0/24']

/** The first candidate that overlaps nothing this machine routes or Docker has given out (undefined: none is free). */
export function freeRange(taken: string[], candidates: readonly string[] = CANDIDATES): string | undefined {
  return candidates.find((c) => !taken.some((t) => cidrsOverlap(c, t)))
}

/** Destinations of `ip -4 route show` as CIDRs (a bare address is a /32; `default` is left out). */
export function routedRanges(routes: string): string[] {
  return routes
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((dest) => /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/.test(dest))
    .map((dest) => (dest.includes('/') ? dest : `${dest}/32`))
}

/**
 * A cloud's machines (moto's EC2 instances, the fake hypervisor's Nova servers) on ordinary private addresses: the
 * test's own Docker network with a private range of its own (its `range`, the CIDR to give the cloud's VPC and
 * subnet, or Neutron network's subnet), one container per machine on it with `--ip` = the machine's private address,
 * so the machines reach each other, and this machine reaches them, on exactly the addresses the cloud reports. Every container is a Kubernetes-capable host: images/k8s-host with the options
 * the docker provider gives Kubernetes nodes (src/engines/kubernetes/node-container.ts, never --privileged), so
 * every engine runs on them. The network is not routed off the machine; only these containers are contacted.
 */
export class VpcHosts extends InstanceHosts {
  private readonly network: string
  private nodeImage = ''
  private cidr = ''

  constructor(source: MachineSource, prefix: string) {
    super(source, prefix)
    this.network = `${prefix}-vpc`
  }

  /** The VPC's range (known once started). */
  get range(): string {
    if (!this.cidr) throw new Error('VpcHosts has not started')
    return this.cidr
  }

  protected serves(ip: string): boolean {
    return this.cidr !== '' && /^\d{1,3}(\.\d{1,3}){3}$/.test(ip) && cidrContains(this.cidr, `${ip}/32`)
  }

  protected image(): string {
    return this.nodeImage
  }

  /** Builds the node image (cached by Docker) and makes the network on a range nothing here uses. */
  protected async prepare(): Promise<void> {
    this.nodeImage = await buildHostImage(`${this.prefix}-host`, 'k8s-host')
    const ids = (await docker('network', 'ls', '-q')).split('\n').filter(Boolean)
    const subnets = (await docker('network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}', ...ids)).split(/\s+/).filter((s) => s.includes('.'))
    const taken = [...subnets, ...routedRanges((await promisify(execFile)('ip', ['-4', 'route', 'show'])).stdout), DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR]
    const range = freeRange(taken)
    if (!range) throw new Error(`every range this harness may use (${CANDIDATES.join(', ')}) is taken on this machine`)
    await docker('network', 'create', '--label', this.prefix, '--subnet', range, this.network)
    this.cidr = range
  }

  protected containerArgs(ip: string): string[] {
    return ['--network', this.network, '--ip', ip, '--hostname', `ip-${ip.replaceAll('.', '-')}`, ...nodeContainerRunArgs()]
  }

  /** The node image's own entrypoint (kernel settings shadowed, cgroups writable), which ends in sshd. */
  protected startCommand(): string {
    return '/usr/local/sbin/cms-k8s-entrypoint'
  }

  protected async dispose(): Promise<void> {
    await docker('network', 'rm', this.network).catch(() => undefined)
  }
}
