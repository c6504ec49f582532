import {mapLimit} from '../../remote/fanout.js'
import type {KnownHosts} from '../../remote/known-hosts.js'
import type {SshSession} from '../../remote/session.js'
import {UsageError} from '../../remote/errors.js'
import {shJoin} from '../../remote/shell.js'
import {cloudConfig} from '../cloud-config.js'
import {nextMembers} from '../cloud-clusters.js'
import {CloudProvider} from '../cloud-provider.js'
import {hasLocalKey, localKeyFile, makeLocalKey, publishedKeyLine, readLocalPublicKey, removeLocalKey} from '../cluster-key.js'
import type {Host, Provider, ProvisionRequest} from '../provider.js'
import {generateEd25519} from '../ssh-keys.js'
import {LxdApi, LxdError} from './client.js'
import {
  DEFAULT_SSH_USER,
  hostFromInstance,
  instanceAddress,
  instanceRequest,
  instancesPath,
  isVm,
  KEY,
  LXD_INSTANCES,
  type LxdInstance,
  sortInstances,
} from './instances.js'
import {DEFAULT_IMAGE_ALIAS, DEFAULT_VM_IMAGE_ALIAS} from './launch-options.js'
import {lxdContainerSetup, type LxdContainerSetup} from './container-needs.js'
import {describeEndpoint, endpointAccess, type LxdEndpoint} from './settings.js'
import {type LxdServerInfo, vmSupportProblem} from './vm-support.js'

const CREATE_TIMEOUT_MS = 5 * 60_000
const STATE_TIMEOUT_MS = 2 * 60_000
const ADDRESS_TIMEOUT_MS = 2 * 60_000
/** A VM boots firmware, a kernel and an initramfs before it asks for an address. */
const VM_ADDRESS_TIMEOUT_MS = 5 * 60_000
const CLOUD_INIT_TIMEOUT_MS = 10 * 60_000
/** Instances made at once: each unpacks the image and boots systemd. */
const LAUNCH_PARALLEL = 4

/** What new hosts are made with: from the flags (create) or from the cluster's hosts (add). */
interface LaunchPlan {
  image: string
  cpus?: number
  memoryMb?: number
  vm: boolean
  /** What a container gets for the engine (none for a VM: it has its own kernel). */
  setup?: LxdContainerSetup
  /** Who cms logs in as: cloud-init's default user, or root for engines whose daemons need it. */
  sshUser: string
}

/**
 * LXD instances (containers, or virtual machines with --vm) on a local or remote daemon. Clusters are found by `user.cms.*` config keys (no local
 * state). cms makes every host's SSH key and hands it to cloud-init in `user.user-data`, and trusts exactly that key
 * for the instance's address; the cluster's login key is made here and never leaves this machine.
 */
export class LxdProvider extends CloudProvider<LxdInstance> implements Provider {
  readonly name = 'lxd' as const
  readonly releasedDetail = 'instance deleted'
  readonly api: LxdApi
  protected readonly cloud = LXD_INSTANCES
  protected readonly cloudInitTimeoutMs = CLOUD_INIT_TIMEOUT_MS
  /** The engine's Debian packages, installed on a host that lacks them once cloud-init is done. */
  private packages: string[] = []

  constructor(
    readonly endpoint: LxdEndpoint,
    knownHosts: KnownHosts,
    private readonly log: (line: string) => void = () => {},
    timeouts?: {connectTimeoutMs?: number; requestTimeoutMs?: number},
  ) {
    super(knownHosts)
    this.api = new LxdApi(endpoint, timeouts)
  }

  protected async instances(cluster?: string): Promise<LxdInstance[]> {
    const all = await this.api.get<LxdInstance[]>(instancesPath(cluster))
    // The server-side filter selects; the exact name is checked here.
    return sortInstances(cluster === undefined ? all : all.filter((i) => i.config[KEY.cluster] === cluster))
  }

  protected hostFrom(instance: LxdInstance, keyFile: string): Host {
    return hostFromInstance(instance, keyFile)
  }

  /** The instance's config key, read through the LXD API. */
  protected publishedHostKey(instance: LxdInstance): string | undefined {
    return instance.config[KEY.hostKey]
  }

  /** The engine the cluster's instances are tagged with, if it has any. */
  async find(cluster: string): Promise<{engine?: string} | undefined> {
    const instances = await this.instances(cluster)
    return instances.length > 0 ? {engine: instances[0]!.config[KEY.engine]} : undefined
  }

  accessDetails(): Record<string, unknown> {
    return {lxd: endpointAccess(this.endpoint)}
  }

  /** cloud-init done, then the engine's packages the image lacks (none on cms's image; apt-get needs a mirror). */
  override async hostReady(session: SshSession): Promise<void> {
    await super.hostReady(session)
    if (this.packages.length === 0) return
    const script = [
      `missing=; for p in ${shJoin(this.packages)}; do dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"; done`,
      '[ -z "$missing" ] && exit 0',
      'sudo -n env DEBIAN_FRONTEND=noninteractive apt-get update -q && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing',
    ].join('\n')
    await session.run(script, {label: 'install packages', timeoutMs: CLOUD_INIT_TIMEOUT_MS})
  }

  async provision(cluster: string, request: ProvisionRequest): Promise<Host[]> {
    this.packages = request.packages ?? []
    const existing = this.observed.get(cluster) ?? (await this.instances(cluster))
    const missing = Math.max(0, (request.total ?? existing.length) - existing.length)
    if (missing > 0) {
      // Everything that can be wrong (no image, no key for the hosts there are) is found before anything is made.
      const plan = await this.plan(request, existing)
      if (!hasLocalKey(cluster)) {
        if (existing.length > 0) {
          throw new LxdError(`cluster ${cluster} has ${existing.length} instances but its access key is not on this machine (${localKeyFile(cluster)}): run cms where the cluster was created, or kill it`)
        }
        makeLocalKey(cluster)
        this.log(`Made the cluster's key ${localKeyFile(cluster)}`)
      }
      await this.launch(cluster, request, existing, plan, missing)
    }
    const stopped = (await this.instances(cluster)).filter((i) => i.status !== 'Running')
    if (stopped.length > 0) {
      this.log(`Starting ${stopped.map((i) => i.name).join(', ')}`)
      await mapLimit(stopped, LAUNCH_PARALLEL, (i) => this.setState(i.name, 'start'))
    }
    await this.waitForAddresses(cluster)
    return this.observe(cluster)
  }

  private async plan(request: ProvisionRequest, existing: LxdInstance[]): Promise<LaunchPlan> {
    const opts = request.launch ?? {}
    // add: new hosts are what the cluster's workers (else its head) are: VM or container, the same login user.
    const model = existing.find((i) => i.config[KEY.role] === 'worker') ?? existing[0]
    const vm = opts.vm ?? (model ? isVm(model) : false)
    if (model && !isVm(model) && vm) throw new UsageError(`--vm: cluster ${model.config[KEY.cluster]} is made of containers, and its new hosts are too`)
    if (vm) {
      const problem = vmSupportProblem(await this.api.get<LxdServerInfo>('/1.0'), describeEndpoint(this.endpoint))
      if (problem) throw new UsageError(problem)
    }
    const setup = vm ? undefined : lxdContainerSetup(request.containerNeeds)
    const variant = setup?.imageVariant
    const image = opts.image ?? (vm ? DEFAULT_VM_IMAGE_ALIAS : variant ? `${DEFAULT_IMAGE_ALIAS}-${variant}` : DEFAULT_IMAGE_ALIAS)
    try {
      await this.api.get(`/1.0/images/aliases/${encodeURIComponent(image)}`)
    } catch (error) {
      if ((error as LxdError).status !== 404) throw error
      const script = vm ? 'scripts/lxd-vm-image.sh' : variant ? `scripts/lxd-image.sh --variant ${variant}` : 'scripts/lxd-image.sh'
      throw new LxdError(`image ${image} is not on the LXD daemon at ${describeEndpoint(this.endpoint)}: build and import cms's image with ${script} (see README), or pass --lxd-image`)
    }
    const modelCpus = Number(model?.config['limits.cpu']) || undefined
    const modelMemory = /^(\d+)MiB$/.exec(model?.config['limits.memory'] ?? '')
    return {
      image,
      vm,
      ...(setup ? {setup} : {}),
      sshUser: opts.sshUser ?? (model?.config[KEY.sshUser] || DEFAULT_SSH_USER),
      cpus: opts.cpus ?? modelCpus,
      memoryMb: opts.memoryMb ?? (modelMemory ? Number(modelMemory[1]) : undefined),
    }
  }

  /** Makes and starts `count` instances at once (bounded); indexes continue from the highest in use. */
  private async launch(cluster: string, request: ProvisionRequest, existing: LxdInstance[], plan: LaunchPlan, count: number): Promise<void> {
    const authorizedKey = readLocalPublicKey(cluster)
    await mapLimit(nextMembers(existing, this.cloud, count), LAUNCH_PARALLEL, async ({index, role}) => {
      const hostKey = generateEd25519(`cms-${cluster}-${index}`)
      const body = instanceRequest(
        {
          cluster,
          index,
          role,
          engine: request.engine,
          sshUser: plan.sshUser,
          hostKey: publishedKeyLine(hostKey.public),
          // Packages are not cloud-init's: cms's image has them and the hosts may have no mirror (see hostReady).
          userData: cloudConfig({sshUser: plan.sshUser, hostKey, authorizedKey, packages: []}),
          cpus: plan.cpus,
          memoryMb: plan.memoryMb,
          vm: plan.vm,
          ...(plan.setup ? {setup: plan.setup} : {}),
        },
        plan.image,
      )
      await this.api.run('POST', '/1.0/instances', body, CREATE_TIMEOUT_MS)
      await this.setState(body.name as string, 'start')
      this.log(`Launched ${role} ${body.name as string} from ${plan.image}${plan.vm ? ' (virtual machine)' : plan.setup?.config['security.privileged'] ? ' (privileged container)' : ''}`)
    })
  }

  private async setState(name: string, action: 'start' | 'stop'): Promise<void> {
    const body = action === 'stop' ? {action, force: true, timeout: 30} : {action, timeout: 30}
    await this.api.run('PUT', `/1.0/instances/${encodeURIComponent(name)}/state`, body, STATE_TIMEOUT_MS)
  }

  /** Polls (one call per round for the whole cluster) until every instance runs and has an address. */
  private async waitForAddresses(cluster: string): Promise<void> {
    const started = Date.now()
    let timeoutMs = ADDRESS_TIMEOUT_MS
    let pending: string[] = []
    for (let round = 0; round < 600; round++) {
      const instances = await this.instances(cluster)
      if (instances.some(isVm)) timeoutMs = VM_ADDRESS_TIMEOUT_MS
      pending = instances.filter((i) => i.status !== 'Running' || !instanceAddress(i)).map((i) => `${i.name} (${i.status})`)
      if (pending.length === 0) return
      if (Date.now() - started > timeoutMs) break
      await new Promise((r) => setTimeout(r, 1000))
    }
    throw new LxdError(`instances without an address after ${Math.round((Date.now() - started) / 1000)} s: ${pending.join(', ')}`)
  }

  /** Stops (forced: the engine has drained them) and deletes the hosts' instances. */
  async release(cluster: string, hosts: Host[]): Promise<void> {
    await mapLimit(hosts, LAUNCH_PARALLEL, async (h) => {
      try {
        await this.setState(h.id, 'stop')
      } catch (error) {
        // Already stopped is fine; gone is handled by the delete.
        if (!/already stopped|not running|not found/i.test((error as Error).message)) throw error
      }
      try {
        await this.api.run('DELETE', `/1.0/instances/${encodeURIComponent(h.id)}`, undefined, STATE_TIMEOUT_MS)
      } catch (error) {
        if ((error as LxdError).status !== 404) throw error
      }
    })
    for (const h of hosts) if (h.target.host) this.knownHosts.forget(h.target.host, h.target.port)
    this.observed.delete(cluster)
  }

  /** Deletes every instance of the cluster, then the local key. Works on a half-made cluster; returns what it removed. */
  async destroy(cluster: string, known?: Host[]): Promise<string[]> {
    const hosts = known ?? (await this.observe(cluster))
    await this.release(cluster, hosts)
    // Whatever a failed create left that observe did not see as a host (none expected: each instance carries its tags).
    const left = await this.instances(cluster)
    if (left.length > 0) await this.release(cluster, left.map((i) => hostFromInstance(i, localKeyFile(cluster))))
    const removed = hosts.map((h) => `instance ${h.id}`)
    if (hasLocalKey(cluster)) removed.push(`key ${localKeyFile(cluster)}`)
    removeLocalKey(cluster)
    return removed
  }
}
