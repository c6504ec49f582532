import type {KnownHosts} from '../remote/known-hosts.js'
import type {SshSession} from '../remote/session.js'
import {type CloudInstances, groupIntoClusters} from './cloud-clusters.js'
import {WAIT_FOR_CLOUD_INIT} from './cloud-config.js'
import {localKeyFile, missingKeyProblem, trustPublishedHostKey} from './cluster-key.js'
import type {ClusterSummary, Host, HostCredentials} from './provider.js'

/**
 * What the cloud providers (aws, lxd, openstack) do alike: a cluster is the instances carrying its label, cms logs in
 * to them with the cluster's key on this machine, and trusts for each host's address exactly the host key it made,
 * gave to cloud-init and published with the instance. Each provider says how it lists its instances, how one becomes
 * a host and where its host key is published.
 */
export abstract class CloudProvider<I> {
  /** Its hosts are its own: kill and remove give them back. */
  readonly ownsHosts = true
  /** Each cluster's instances as last seen: provision starts from them. */
  protected readonly observed = new Map<string, I[]>()
  /** How its instances read as cluster members. */
  protected abstract readonly cloud: CloudInstances<I>
  /** How long cms waits for cloud-init on a new host. */
  protected abstract readonly cloudInitTimeoutMs: number

  constructor(protected readonly knownHosts: KnownHosts) {}

  /** The cluster's instances (without a cluster: every cms instance), head first, then by index. */
  protected abstract instances(cluster?: string): Promise<I[]>

  /** `address`: where cms connects to it, when `connectAddresses` knows it apart from the instance. */
  protected abstract hostFrom(instance: I, keyFile: string, address: string | undefined): Host

  /** The public line (`type base64`) of the host key cms made for the instance, as the cloud returns it. */
  protected abstract publishedHostKey(instance: I): string | undefined

  /**
   * Where cms connects to instances that do not say it themselves, by id (openstack: the floating IPs Neutron has
   * bound); none by default.
   */
  protected async connectAddresses(_instances: I[]): Promise<ReadonlyMap<string, string>> {
    return new Map()
  }

  async observe(cluster: string): Promise<Host[]> {
    const instances = await this.instances(cluster)
    this.observed.set(cluster, instances)
    return this.hostsOf(cluster, instances, await this.connectAddresses(instances))
  }

  /** Every cms cluster, from one listing, with its hosts. */
  async listClusters(now = new Date()): Promise<Array<{summary: ClusterSummary; hosts: Host[]}>> {
    const instances = await this.instances()
    const addresses = await this.connectAddresses(instances)
    return groupIntoClusters(instances, this.cloud, now, addresses).map((view) => {
      this.observed.set(view.summary.name, view.instances)
      return {summary: view.summary, hosts: this.hostsOf(view.summary.name, view.instances, addresses)}
    })
  }

  /** The instances as hosts, trusting for each host's address the host key its instance publishes. */
  protected hostsOf(cluster: string, instances: I[], addresses: ReadonlyMap<string, string>): Host[] {
    return instances.map((instance) => {
      const host = this.hostFrom(instance, localKeyFile(cluster), addresses.get(this.cloud.id(instance)))
      trustPublishedHostKey(this.knownHosts, host.target.host, this.publishedHostKey(instance))
      return host
    })
  }

  async credentials(): Promise<HostCredentials> {
    // The key is read from the hosts' identity file at connect time: create makes it during provision.
    return {}
  }

  accessProblem(cluster: string): string | undefined {
    return missingKeyProblem(cluster)
  }

  async hostReady(session: SshSession): Promise<void> {
    await session.run(WAIT_FOR_CLOUD_INIT, {label: 'wait for cloud-init', timeoutMs: this.cloudInitTimeoutMs})
  }
}
