import {mapLimit} from '../../remote/fanout.js'
import type {KnownHosts} from '../../remote/known-hosts.js'
import {cloudConfig} from '../cloud-config.js'
import {nextMembers} from '../cloud-clusters.js'
import {CloudProvider} from '../cloud-provider.js'
import {hasLocalKey, publishedKeyLine, readLocalPublicKey, removeLocalKey} from '../cluster-key.js'
import type {Host, Provider, ProvisionRequest} from '../provider.js'
import {generateEd25519} from '../ssh-keys.js'
import {OpenStackApi, OpenStackError} from './client.js'
import {deleteKeyPair, ensureKeyPair, findKeyPair, keyPairName} from './key-pair.js'
import {deleteFloatingIps, ensureFloatingIps, floatingAddresses, floatingNetworkOf, listFloatingIps} from './floating-ips.js'
import {listFlavors, listImages, listNetworks, networkCidr, pickExternalNetwork, pickFlavor, pickImage, pickNetwork} from './resources.js'
import {deleteSecurityGroup, ensureSecurityGroup, findSecurityGroups, type SecurityGroup} from './security-group.js'
import {CMS_TAG, clusterTag, DEFAULT_SSH_USER, hostFromServer, isGone, NOVA_SERVERS, type NovaServer, serverRequest, sortServers, TAG} from './servers.js'
import type {OpenStackSettings} from './settings.js'

const ACTIVE_TIMEOUT_MS = 10 * 60_000
const DELETED_TIMEOUT_MS = 5 * 60_000
const CLOUD_INIT_TIMEOUT_MS = 20 * 60_000
/** Servers asked for at once. */
const LAUNCH_PARALLEL = 4
const POLL_MS = 1500

/** How new hosts are launched: from the flags (create) or from what the cluster's hosts were launched with (add). */
interface LaunchPlan {
  flavor: {id: string; name: string}
  image: {id: string; name?: string}
  network: {id: string; name: string}
  /** The external network every host gets a floating IP from (--floating-ip), by id. */
  floatingNetworkId?: string
  /** Undefined: the security group exists and `add` leaves its rules alone. */
  sshCidr?: string
  sshUser: string
  maxAge?: string
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * OpenStack servers (Nova), their network and security group (Neutron), their image (Glance), with credentials and
 * endpoints from Keystone. Clusters are found by server tags (no local state); each has its own key pair and security
 * group. cms makes every host's SSH key and hands it to cloud-init in the user data, and trusts exactly that key
 * (published in the server's metadata) for the host's address.
 */
export class OpenStackProvider extends CloudProvider<NovaServer> implements Provider {
  readonly name = 'openstack' as const
  readonly releasedDetail = 'server deleted'
  readonly api: OpenStackApi
  protected readonly cloud = NOVA_SERVERS
  protected readonly cloudInitTimeoutMs = CLOUD_INIT_TIMEOUT_MS

  constructor(
    readonly settings: OpenStackSettings,
    knownHosts: KnownHosts,
    private readonly log: (line: string) => void = () => {},
    timeouts?: {connectTimeoutMs?: number; requestTimeoutMs?: number},
  ) {
    super(knownHosts)
    this.api = new OpenStackApi(settings, timeouts)
  }

  /** The servers tagged with the cluster (or every cms server), gone ones left out. */
  protected async instances(cluster?: string): Promise<NovaServer[]> {
    const tag = cluster === undefined ? CMS_TAG : clusterTag(cluster)
    const {servers} = await this.api.get<{servers: NovaServer[]}>('compute', `/servers/detail?tags=${encodeURIComponent(tag)}`)
    return sortServers(servers.filter((s) => !isGone(s) && (cluster === undefined || s.metadata?.[TAG.cluster] === cluster)))
  }

  /** The floating addresses of servers made with --floating-ip, from Neutron (one call, only when some are). */
  protected override async connectAddresses(servers: NovaServer[]): Promise<Map<string, string>> {
    return servers.some(floatingNetworkOf) ? floatingAddresses(await listFloatingIps(this.api), servers) : new Map()
  }

  protected hostFrom(server: NovaServer, keyFile: string, floating: string | undefined): Host {
    return hostFromServer(server, keyFile, floating)
  }

  /** The server's metadata, read through Nova. */
  protected publishedHostKey(server: NovaServer): string | undefined {
    return server.metadata?.[TAG.hostKey]
  }

  /** Whether anything of the cluster exists (servers, or a security group or key pair left behind), and its engine. */
  async find(cluster: string): Promise<{engine?: string} | undefined> {
    const servers = await this.instances(cluster)
    if (servers.length > 0) return {engine: servers[0]!.metadata?.[TAG.engine]}
    const [groups, pair, fips] = await Promise.all([findSecurityGroups(this.api, cluster), findKeyPair(this.api, cluster), this.taggedFloatingIps(cluster)])
    return groups.length > 0 || pair || fips.length > 0 ? {} : undefined
  }

  accessDetails(): Record<string, unknown> {
    return {openstack: this.settings.cloud ? {cloud: this.settings.cloud} : {}}
  }

  async provision(cluster: string, request: ProvisionRequest): Promise<Host[]> {
    const existing = this.observed.get(cluster) ?? (await this.instances(cluster))
    const missing = Math.max(0, (request.total ?? existing.length) - existing.length)
    const [groups, pair] = await Promise.all([findSecurityGroups(this.api, cluster), findKeyPair(this.api, cluster)])
    // create always (a rerun re-allows SSH from where it runs now), add only when it has hosts to launch.
    if (missing > 0 || groups.length === 0 || !pair || request.launch) {
      // Everything that can be wrong in what the user asked for is found before anything is made.
      const plan = await this.plan(request, existing, groups[0])
      await ensureKeyPair(this.api, cluster, pair, existing.length, this.log)
      const group = plan.sshCidr ? await ensureSecurityGroup(this.api, cluster, plan.sshCidr, this.log, groups[0]) : groups[0]
      if (!group) throw new OpenStackError(`cluster ${cluster} has no security group`)
      if (missing > 0) await this.launch(cluster, request, existing, group, plan, missing)
    }
    const stopped = existing.filter((s) => s.status === 'SHUTOFF')
    if (stopped.length > 0) {
      this.log(`Starting stopped hosts ${stopped.map((s) => s.id).join(', ')}`)
      await mapLimit(stopped, LAUNCH_PARALLEL, (s) => this.api.call('compute', 'POST', `/servers/${s.id}/action`, {'os-start': null}))
    }
    const servers = await this.waitActive(cluster)
    // Every server of a --floating-ip cluster names the network (a rerun makes the ones a failure left out).
    const floatingNetwork = servers.map(floatingNetworkOf).find(Boolean)
    if (floatingNetwork) await ensureFloatingIps(this.api, cluster, servers, floatingNetwork, this.log)
    return this.hostsOf(cluster, servers, await this.connectAddresses(servers))
  }

  private async plan(request: ProvisionRequest, existing: NovaServer[], group: SecurityGroup | undefined): Promise<LaunchPlan> {
    const opts = request.launch ?? {}
    const model = existing.find((s) => s.metadata?.[TAG.role] === 'worker') ?? existing[0]
    const meta = model?.metadata ?? {}
    const [flavors, images, networks] = await Promise.all([listFlavors(this.api), listImages(this.api), listNetworks(this.api)])
    const modelImage = typeof model?.image === 'object' ? model.image.id : undefined
    const flavor = pickFlavor(flavors, opts.flavor ?? model?.flavor?.original_name ?? model?.flavor?.id)
    const image = pickImage(images, opts.image ?? modelImage)
    const network = pickNetwork(networks, opts.network ?? Object.keys(model?.addresses ?? {})[0])
    const floatingNetworkId = opts.floatingNetwork ? pickExternalNetwork(networks, opts.floatingNetwork).id : model && floatingNetworkOf(model)
    if (!opts.image && !modelImage) this.log(`Image: ${image.name ?? image.id} (${image.id}), the newest Debian 12 visible`)
    // SSH rules: on a new group, and on every create; add leaves them. cms reaches hosts on the network: its range.
    let sshCidr = opts.sshCidr
    if (!sshCidr && (!group || request.launch)) {
      sshCidr = await networkCidr(this.api, network)
      if (!sshCidr) throw new OpenStackError(`network ${network.name} has no IPv4 subnet: pass --ssh-cidr, or another --network`)
    }
    return {
      flavor,
      image,
      network,
      floatingNetworkId,
      sshCidr,
      sshUser: opts.sshUser ?? (meta[TAG.sshUser] || DEFAULT_SSH_USER),
      maxAge: opts.maxAge ?? (meta[TAG.maxAge] || undefined),
    }
  }

  /** One POST /servers per host; indexes continue after the highest the cluster has, the head first when it has none. */
  private async launch(cluster: string, request: ProvisionRequest, existing: NovaServer[], group: SecurityGroup, plan: LaunchPlan, count: number): Promise<void> {
    const authorizedKey = readLocalPublicKey(cluster)
    await mapLimit(nextMembers(existing, this.cloud, count), LAUNCH_PARALLEL, async ({index, role}) => {
      const hostKey = generateEd25519(`cms-${cluster}-${index}`)
      const body = serverRequest({
        cluster,
        index,
        role,
        engine: request.engine,
        sshUser: plan.sshUser,
        hostKey: publishedKeyLine(hostKey.public),
        userData: cloudConfig({sshUser: plan.sshUser, hostKey, authorizedKey, packages: request.packages ?? []}),
        maxAge: plan.maxAge,
        flavorId: plan.flavor.id,
        imageId: plan.image.id,
        networkId: plan.network.id,
        floatingNetworkId: plan.floatingNetworkId,
        keyName: keyPairName(cluster),
        securityGroup: group.id,
      })
      const made = await this.api.call<{server: {id: string}}>('compute', 'POST', '/servers', body)
      this.log(`Launched ${role} ${made!.server.id} (${plan.flavor.name}) on ${plan.network.name}`)
    })
  }

  /** Polls (one call per round for the whole cluster) until every server is ACTIVE; a server in ERROR fails with Nova's reason. */
  private async waitActive(cluster: string): Promise<NovaServer[]> {
    const deadline = Date.now() + ACTIVE_TIMEOUT_MS
    let pending: string[] = []
    for (let round = 0; round < 1000; round++) {
      const servers = await this.instances(cluster)
      const failed = servers.filter((s) => s.status === 'ERROR')
      if (failed.length > 0) {
        const reasons = await Promise.all(failed.map(async (s) => `${s.id}: ${(await this.api.get<{server: {fault?: {message?: string}}}>('compute', `/servers/${s.id}`)).server.fault?.message ?? 'no reason given'}`))
        throw new OpenStackError(`Nova could not build ${reasons.join('; ')} (kill the cluster, or remove those hosts)`)
      }
      pending = servers.filter((s) => s.status !== 'ACTIVE' || !hostFromServer(s, '').target.host).map((s) => `${s.id} (${s.status})`)
      if (pending.length === 0) {
        this.observed.set(cluster, servers)
        return servers
      }
      if (Date.now() > deadline) break
      await sleep(POLL_MS)
    }
    throw new OpenStackError(`servers not ACTIVE after ${ACTIVE_TIMEOUT_MS / 1000} s: ${pending.join(', ')}`)
  }

  private taggedFloatingIps(cluster: string) {
    return listFloatingIps(this.api, `?tags=${encodeURIComponent(clusterTag(cluster))}`)
  }

  /** Deletes the hosts' servers (no wait: they leave the cluster at once; kill waits before deleting the group). */
  async release(cluster: string, hosts: Host[]): Promise<void> {
    await this.deleteHosts(cluster, hosts)
  }

  /** The hosts' floating IPs, then their servers; returns the floating IPs deleted. */
  private async deleteHosts(cluster: string, hosts: Host[]): Promise<string[]> {
    // A floating IP outlives its server (it is only unbound): the hosts' go first, while their ports say whose they are.
    let removed: string[] = []
    const observed = this.observed.get(cluster)
    if (!observed || observed.some(floatingNetworkOf)) {
      const ids = hosts.map((h) => h.id)
      const addresses = hosts.map((h) => h.target.host)
      removed = await deleteFloatingIps(this.api, (await listFloatingIps(this.api)).filter((f) => ids.includes(f.port_details?.device_id ?? '') || addresses.includes(f.floating_ip_address)))
    }
    await mapLimit(hosts, LAUNCH_PARALLEL, (h) => this.api.call('compute', 'DELETE', `/servers/${h.id}`, undefined, {allow404: true}))
    for (const h of hosts) if (h.target.host) this.knownHosts.forget(h.target.host, h.target.port)
    this.observed.delete(cluster)
    return removed
  }

  /** Polls until none of these servers exists any more. */
  private async waitDeleted(ids: string[]): Promise<void> {
    const deadline = Date.now() + DELETED_TIMEOUT_MS
    let left = ids
    for (let round = 0; round < 1000 && left.length > 0; round++) {
      const still = await Promise.all(left.map(async (id) => ((await this.api.call('compute', 'GET', `/servers/${id}`, undefined, {allow404: true})) ? id : undefined)))
      left = still.filter((id): id is string => id !== undefined)
      if (left.length === 0) return
      if (Date.now() > deadline) break
      await sleep(POLL_MS)
    }
    throw new OpenStackError(`servers still there after ${DELETED_TIMEOUT_MS / 1000} s: ${left.join(', ')}`)
  }

  /**
   * Deletes every server and waits until they are gone, then any port still bound to one of them, the security group,
   * the key pair, and the local key. Works on a half-made cluster; returns what it removed.
   */
  async destroy(cluster: string, known?: Host[]): Promise<string[]> {
    const hosts = known ?? (await this.observe(cluster))
    const ids = hosts.map((h) => h.id)
    const removed: string[] = []
    if (ids.length > 0) {
      removed.push(...(await this.deleteHosts(cluster, hosts)))
      this.log(`Deleting ${ids.length} servers; waiting until they are gone`)
      await this.waitDeleted(ids)
      removed.push(...ids.map((id) => `server ${id}`))
      // Nova deletes the ports it made; one a failed build left behind goes here.
      for (const id of ids) {
        const {ports} = await this.api.get<{ports: Array<{id: string}>}>('network', `/ports?device_id=${encodeURIComponent(id)}`)
        for (const port of ports) {
          await this.api.call('network', 'DELETE', `/ports/${port.id}`, undefined, {allow404: true})
          removed.push(`port ${port.id}`)
        }
      }
    }
    // Floating IPs a failed create or remove left unbound still carry the cluster's tag.
    removed.push(...(await deleteFloatingIps(this.api, await this.taggedFloatingIps(cluster))))
    const [groups, pair] = await Promise.all([findSecurityGroups(this.api, cluster), findKeyPair(this.api, cluster)])
    for (const g of groups) {
      await deleteSecurityGroup(this.api, g.id)
      removed.push(`security group ${g.id}`)
    }
    if (pair) {
      await deleteKeyPair(this.api, cluster)
      removed.push(`key pair ${keyPairName(cluster)}`)
    }
    if (hasLocalKey(cluster)) removeLocalKey(cluster)
    this.observed.delete(cluster)
    return removed
  }
}
