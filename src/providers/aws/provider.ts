import type {Instance, KeyPairInfo, SecurityGroup} from '@aws-sdk/client-ec2'
import {mapLimit} from '../../remote/fanout.js'
import type {KnownHosts} from '../../remote/known-hosts.js'
import {type CloudInstances, nextMembers} from '../cloud-clusters.js'
import {CloudProvider} from '../cloud-provider.js'
import type {Host, HostRole, Provider, ProvisionRequest} from '../provider.js'
import {generateEd25519} from '../ssh-keys.js'
import {AwsError, AwsInputError, Ec2Api} from './client.js'
import {DEFAULT_SSH_USER, ec2Instances, hostFromInstance, sortInstances} from './hosts.js'
import {type Architecture, DEFAULT_INSTANCE_TYPE, defaultImage, instanceTypeArchitectures, namedImage} from './images.js'
import {describeInstances, launchInstance, startInstances, tagResources, terminateInstances, waitForState, type LaunchSpec} from './instances.js'
import {publishedKeyLine, readLocalPublicKey, removeLocalKey} from '../cluster-key.js'
import {deleteKeyPair, ensureKeyPair, findKeyPairs} from './key-pair.js'
import {keyPairName, launchToken} from './names.js'
import {findPlacement, publicAddressCidr} from './network.js'
import {deleteSecurityGroup, ensureSecurityGroup, findSecurityGroups, lastIndex, recordLastIndex} from './security-group.js'
import type {AwsSettings} from './settings.js'
import {instanceFilters, instanceTags, TAG, tagMap} from './tags.js'
import {cloudConfig} from '../cloud-config.js'

const RUNNING_TIMEOUT_MS = 10 * 60_000
const TERMINATED_TIMEOUT_MS = 10 * 60_000
const CLOUD_INIT_TIMEOUT_MS = 20 * 60_000

/** How new hosts are launched: from the flags (create) or from what the cluster's hosts were launched with. */
interface LaunchPlan {
  workerType: string
  headType: string
  images: Map<string, {id: string; rootDevice?: string}>
  vpcId: string
  subnetId?: string
  /** Undefined: the security group exists and `add` leaves its rules alone. */
  sshCidr?: string
  sshUser: string
  spot: boolean
  volumeSizeGb?: number
  maxAge?: string
}

/**
 * EC2 instances. Clusters are found by tags (no local state); each has its own key pair and security group.
 * cms makes every host's SSH key and hands it to cloud-init, and trusts exactly that key for the host's address.
 */
export class AwsProvider extends CloudProvider<Instance> implements Provider {
  readonly name = 'aws' as const
  readonly releasedDetail = 'instance terminated'
  readonly api: Ec2Api
  protected readonly cloud: CloudInstances<Instance>
  protected readonly cloudInitTimeoutMs = CLOUD_INIT_TIMEOUT_MS

  constructor(
    readonly settings: AwsSettings,
    knownHosts: KnownHosts,
    private readonly log: (line: string) => void = () => {},
  ) {
    super(knownHosts)
    this.api = new Ec2Api(settings, log)
    this.cloud = ec2Instances(settings.connect)
  }

  protected async instances(cluster?: string): Promise<Instance[]> {
    return sortInstances(await describeInstances(this.api, {Filters: instanceFilters(cluster)}))
  }

  protected hostFrom(instance: Instance, keyFile: string): Host {
    return hostFromInstance(instance, this.settings.connect, keyFile)
  }

  /** The instance's tag, read through the EC2 API. */
  protected publishedHostKey(instance: Instance): string | undefined {
    return tagMap(instance.Tags)[TAG.hostKey]
  }

  /**
   * Whether anything of the cluster exists in the region (instances, or a security group or key pair left behind),
   * and the engine its instances are tagged with.
   */
  async find(cluster: string): Promise<{engine?: string} | undefined> {
    if ((await this.observe(cluster)).length > 0) return {engine: tagMap(this.observed.get(cluster)?.[0]?.Tags)[TAG.engine]}
    const [groups, pairs] = await Promise.all([findSecurityGroups(this.api, cluster), findKeyPairs(this.api, cluster)])
    return groups.length > 0 || pairs.length > 0 ? {} : undefined
  }

  accessDetails(): Record<string, unknown> {
    const {region, profile, connect} = this.settings
    return {aws: {region, ...(profile ? {profile} : {}), connect}}
  }

  async provision(cluster: string, request: ProvisionRequest): Promise<Host[]> {
    const existing = this.observed.get(cluster) ?? (await this.instances(cluster))
    const missing = Math.max(0, (request.total ?? existing.length) - existing.length)
    const stopped = existing.filter((i) => i.State?.Name === 'stopped')
    const maxAge = request.launch?.maxAge
    const retag = maxAge ? existing.filter((i) => tagMap(i.Tags)[TAG.maxAge] !== maxAge) : []
    const [groups, pairs] = await Promise.all([findSecurityGroups(this.api, cluster), findKeyPairs(this.api, cluster)])
    let group = groups[0]

    // create always (a rerun re-allows SSH from where it runs now), add only when it has hosts to launch.
    if (missing > 0 || groups.length === 0 || pairs.length === 0 || request.launch) {
      // Everything that can be wrong in what the user asked for is checked before anything is made.
      const plan = await this.plan(cluster, request, existing, group)
      await ensureKeyPair(this.api, cluster, pairs, existing.length, this.log)
      if (plan.sshCidr) group = await ensureSecurityGroup(this.api, cluster, plan.vpcId, plan.sshCidr, this.log, group)
      if (!group) throw new AwsError(`cluster ${cluster} has no security group`)
      if (missing > 0) await this.launch(cluster, request, existing, group, plan, missing)
    }
    if (stopped.length > 0) {
      this.log(`Starting stopped hosts ${stopped.map((i) => i.InstanceId).join(', ')}`)
      await startInstances(this.api, stopped.map((i) => i.InstanceId!))
    }
    if (retag.length > 0) {
      await tagResources(this.api, retag.map((i) => i.InstanceId!), [{Key: TAG.maxAge, Value: maxAge!}])
      this.log(`Cluster ${cluster}: max age is now ${maxAge}`)
    }
    const hosts = await this.observe(cluster)
    const notRunning = (this.observed.get(cluster) ?? []).filter((i) => i.State?.Name !== 'running').map((i) => i.InstanceId!)
    if (notRunning.length === 0) return hosts
    this.log(`Waiting for ${notRunning.length} instances to run`)
    await waitForState(this.api, notRunning, 'running', RUNNING_TIMEOUT_MS)
    return this.observe(cluster)
  }

  private async plan(cluster: string, request: ProvisionRequest, existing: Instance[], group: SecurityGroup | undefined): Promise<LaunchPlan> {
    const opts = request.launch ?? {}
    const head = existing.find((i) => tagMap(i.Tags)[TAG.role] === 'head')
    const model = existing.find((i) => tagMap(i.Tags)[TAG.role] === 'worker') ?? head
    const modelTags = tagMap(model?.Tags)
    const workerType = opts.instanceType ?? model?.InstanceType ?? DEFAULT_INSTANCE_TYPE
    const headType = opts.headInstanceType ?? opts.instanceType ?? head?.InstanceType ?? DEFAULT_INSTANCE_TYPE
    const volumeSizeGb = opts.volumeSizeGb ?? (Number(modelTags[TAG.volumeSize]) || undefined)

    const images = new Map<string, {id: string; rootDevice?: string}>()
    if (!opts.image && model?.ImageId && !opts.instanceType) {
      // add: new hosts run what the cluster's hosts run.
      images.set(workerType, {id: model.ImageId, rootDevice: model.RootDeviceName})
      images.set(headType, {id: head?.ImageId ?? model.ImageId, rootDevice: head?.RootDeviceName ?? model.RootDeviceName})
    } else {
      const archs = await instanceTypeArchitectures(this.api, [workerType, headType])
      if (opts.image) {
        const image = await namedImage(this.api, opts.image)
        for (const [type, arch] of archs) {
          if (image.Architecture && image.Architecture !== arch) {
            throw new AwsInputError(`AMI ${opts.image} is for ${image.Architecture}, but ${type} runs ${arch}`, 'ArchitectureMismatch')
          }
          images.set(type, {id: opts.image, rootDevice: image.RootDeviceName})
        }
      } else {
        const byArch = new Map<Architecture, {id: string; rootDevice?: string; name?: string}>()
        for (const arch of new Set(archs.values())) {
          const image = await defaultImage(this.api, arch)
          byArch.set(arch, {id: image.ImageId!, rootDevice: image.RootDeviceName, name: image.Name})
          this.log(`Image: ${image.Name} (${image.ImageId}), the newest Debian 12 for ${arch}`)
        }
        for (const [type, arch] of archs) images.set(type, byArch.get(arch)!)
      }
    }

    const subnetId = opts.subnet ?? head?.SubnetId
    const placement = opts.subnet || !head ? await findPlacement(this.api, opts.subnet) : {vpcId: head.VpcId!, vpcCidr: undefined, subnetId}
    if (group && group.VpcId !== placement.vpcId) {
      throw new AwsInputError(`cluster ${cluster}'s security group ${group.GroupId} is in ${group.VpcId}, not in ${placement.vpcId}: pass the --subnet it was created with, or kill the cluster`, 'VpcMismatch')
    }
    // SSH rules: on a new group, and on every create (the client's address may have changed); add leaves them.
    let sshCidr = opts.sshCidr
    if (!sshCidr && (!group || request.launch)) {
      if (this.settings.connect === 'private') {
        const vpcCidr = placement.vpcCidr ?? (await findPlacement(this.api, subnetId)).vpcCidr
        if (!vpcCidr) throw new AwsError(`cannot tell the CIDR of ${placement.vpcId}: pass --ssh-cidr`)
        sshCidr = vpcCidr
      } else {
        sshCidr = await publicAddressCidr()
      }
    }
    return {
      workerType,
      headType,
      images,
      vpcId: placement.vpcId,
      subnetId,
      sshCidr,
      sshUser: opts.sshUser ?? (modelTags[TAG.sshUser] || DEFAULT_SSH_USER),
      spot: opts.spot ?? model?.InstanceLifecycle === 'spot',
      volumeSizeGb,
      maxAge: opts.maxAge ?? (modelTags[TAG.maxAge] || undefined),
    }
  }

  /**
   * One RunInstances per host, each with its own ClientToken, so a retried create never makes two instances for
   * one index. Indexes continue from the highest ever used (on the security group), never reusing one.
   */
  private async launch(cluster: string, request: ProvisionRequest, existing: Instance[], group: SecurityGroup, plan: LaunchPlan, count: number): Promise<void> {
    const authorizedKey = readLocalPublicKey(cluster)
    const plans = nextMembers(existing, this.cloud, count, lastIndex(group))
    const spec = (p: {index: number; role: HostRole}, subnetId: string | undefined): LaunchSpec => {
      const instanceType = p.role === 'head' ? plan.headType : plan.workerType
      const image = plan.images.get(instanceType)!
      const hostKey = generateEd25519(`cms-${cluster}-${p.index}`)
      const publicLine = publishedKeyLine(hostKey.public)
      return {
        imageId: image.id,
        rootDeviceName: image.rootDevice,
        instanceType,
        keyName: keyPairName(cluster),
        securityGroupId: group.GroupId!,
        subnetId,
        userData: cloudConfig({sshUser: plan.sshUser, hostKey, authorizedKey, packages: request.packages ?? []}),
        tags: instanceTags({cluster, role: p.role, engine: request.engine, index: p.index, sshUser: plan.sshUser, hostKey: publicLine, maxAge: plan.maxAge, volumeSize: plan.volumeSizeGb}),
        cluster,
        clientToken: launchToken(cluster, p.index, group.GroupId!),
        spot: plan.spot,
        volumeSizeGb: plan.volumeSizeGb,
      }
    }
    const describe = (i: Instance, role: string) =>
      this.log(`Launched ${role} ${i.InstanceId} (${i.InstanceType}${plan.spot ? ', spot' : ''}) in ${i.SubnetId ?? 'a default subnet'}`)
    let subnetId = plan.subnetId
    let rest = plans
    if (plans[0]?.role === 'head') {
      // The head goes first: where EC2 places it (without --subnet) is where its workers go, in the same zone.
      const head = await launchInstance(this.api, spec(plans[0], subnetId))
      describe(head, 'head')
      subnetId ??= head.SubnetId
      rest = plans.slice(1)
    }
    try {
      await mapLimit(rest, 8, async (p) => describe(await launchInstance(this.api, spec(p, subnetId)), p.role))
    } finally {
      await recordLastIndex(this.api, group, plans.at(-1)!.index)
    }
  }

  /** Terminates the hosts (no wait: they leave the cluster at once; kill waits before deleting the group). */
  async release(cluster: string, hosts: Host[]): Promise<void> {
    const ids = hosts.map((h) => h.id).filter((id) => id.startsWith('i-'))
    if (ids.length > 0) await terminateInstances(this.api, ids)
    for (const h of hosts) if (h.target.host) this.knownHosts.forget(h.target.host, h.target.port)
    this.observed.delete(cluster)
  }

  /**
   * Terminates every instance (one call per 1000), waits until they are terminated, then deletes the security
   * group and the key pair, and the local key. Works on a half-made cluster; returns what it removed.
   */
  async destroy(cluster: string, known?: Host[]): Promise<string[]> {
    const hosts = known ?? (await this.observe(cluster))
    const ids = hosts.map((h) => h.id).filter((id) => id.startsWith('i-'))
    const removed: string[] = []
    if (ids.length > 0) {
      await terminateInstances(this.api, ids)
      this.log(`Terminating ${ids.length} instances; waiting until they are gone`)
      await waitForState(this.api, ids, 'terminated', TERMINATED_TIMEOUT_MS)
      removed.push(...ids.map((id) => `instance ${id}`))
    }
    for (const h of hosts) if (h.target.host) this.knownHosts.forget(h.target.host, h.target.port)
    const [groups, pairs]: [SecurityGroup[], KeyPairInfo[]] = await Promise.all([findSecurityGroups(this.api, cluster), findKeyPairs(this.api, cluster)])
    for (const g of groups) {
      await deleteSecurityGroup(this.api, g.GroupId!)
      removed.push(`security group ${g.GroupId}`)
    }
    for (const p of pairs) {
      await deleteKeyPair(this.api, p)
      removed.push(`key pair ${p.KeyName}`)
    }
    removeLocalKey(cluster)
    this.observed.delete(cluster)
    return removed
  }
}
