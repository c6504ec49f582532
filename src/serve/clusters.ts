import {findCluster, connectProvider, type ClusterHandle, type RunOptions} from '../cluster/context.js'
import {describeCluster} from '../cluster/describe.js'
import {openJobs, type JobsHandle} from '../cluster/jobs.js'
import {describeAttached} from '../cluster/attach.js'
import {ATTACHED, listAttached, readAttached} from '../config/attached.js'
import {loadEngine} from '../engines/registry.js'
import {listClusterSummaries} from '../cluster/list.js'
import type {Engine, JobService} from '../engines/engine.js'
import type {ClusterInfo} from '../output/results.js'
import type {ProviderName} from '../providers/provider.js'
import {UsageError} from '../remote/errors.js'
import {isConnectionFailure} from './failures.js'
import type {ScaleHost} from './autoscale/decide.js'
import {scaleHosts} from './autoscale/scale-hosts.js'
import {capacityOf, type Capacity} from './queue/capacity.js'

export interface KnownCluster {
  name: string
  /** `attached`: a cluster cms did not make, reached at its API alone (no provider, no hosts to scale). */
  provider: ProviderName | typeof ATTACHED
  engine: string
}

/** The last look at a cluster through its engine: health and capacity, or why it could not be asked. */
export interface ClusterStatus extends KnownCluster {
  health: ClusterInfo['health']
  capacity?: Capacity
  /** The provider's hosts with the engine's view of each (the autoscaler's input). */
  hosts?: ScaleHost[]
  /** Set when the cluster did not answer (or its control plane is down): its queued tasks wait. */
  down?: string
  checkedAt: number
}

interface Link {
  cluster: KnownCluster
  handle?: Promise<ClusterHandle>
  jobs?: Promise<JobsHandle>
  refreshing?: Promise<ClusterStatus>
  status?: ClusterStatus
}

const LIST_TTL_MS = 15_000
const MISS_TTL_MS = 5_000

/**
 * The clusters the service may use, reached exactly as the CLI reaches them (provider, access files, SSH, the
 * engine's API through the head): one SSH pool and one job service per cluster, kept open and reopened after a
 * failure. Knows nothing of the queue.
 */
export class ClusterLinks {
  private readonly links = new Map<string, Link>()
  private listed: {at: number; clusters: KnownCluster[]} | undefined
  private listing: Promise<KnownCluster[]> | undefined
  private readonly misses = new Map<string, number>()

  constructor(
    private readonly run: RunOptions,
    /** Only these clusters, when given (`--cluster`). */
    private readonly allow?: ReadonlySet<string>,
  ) {}

  private allowed(name: string): boolean {
    return !this.allow || this.allow.has(name)
  }

  /** Every cluster the providers know (and the service may use), from a listing at most 15 s old. */
  async known(): Promise<KnownCluster[]> {
    if (this.listed && Date.now() - this.listed.at < LIST_TTL_MS) return this.listed.clusters
    this.listing ??= listClusterSummaries({...this.run, log: () => undefined})
      .then((all) => {
        const made: KnownCluster[] = all.map((c) => ({name: c.name, provider: c.provider, engine: c.engine}))
        const attached = listAttached().filter((a) => !made.some((c) => c.name === a.name))
        const clusters = [...made, ...attached.map((a) => ({name: a.name, provider: a.provider, engine: a.engine}))].filter((c) => this.allowed(c.name))
        this.listed = {at: Date.now(), clusters}
        for (const c of clusters) this.remember(c)
        return clusters
      })
      .finally(() => (this.listing = undefined))
    return this.listing
  }

  private remember(c: KnownCluster): Link {
    let link = this.links.get(c.name)
    if (!link || link.cluster.engine !== c.engine || link.cluster.provider !== c.provider) {
      if (link) this.dropLink(link)
      link = {cluster: c}
      this.links.set(c.name, link)
    }
    return link
  }

  /** The cluster of that name, or undefined when no provider knows it (asked again at most every 5 s). */
  async find(name: string): Promise<KnownCluster | undefined> {
    if (!this.allowed(name)) return undefined
    const link = this.links.get(name)
    if (link) return link.cluster
    const missed = this.misses.get(name)
    if (missed !== undefined && Date.now() - missed < MISS_TTL_MS) return undefined
    const attached = readAttached(name)
    if (attached) return this.remember({name, provider: attached.provider, engine: attached.engine}).cluster
    const found = await findCluster(name, {flags: this.run.providerFlags}).catch(() => ({provider: undefined, engine: undefined}))
    if (!found.provider) {
      this.misses.set(name, Date.now())
      return undefined
    }
    this.misses.delete(name)
    return this.remember({name, provider: found.provider, engine: found.engine ?? 'spark'}).cluster
  }

  /** The last status seen, without asking. */
  status(name: string): ClusterStatus | undefined {
    return this.links.get(name)?.status
  }

  /** Every status seen so far. */
  statuses(): ClusterStatus[] {
    return [...this.links.values()].map((l) => l.status).filter((s): s is ClusterStatus => s !== undefined)
  }

  private async handleOf(link: Link): Promise<ClusterHandle> {
    const c = link.cluster
    if (c.provider === ATTACHED) throw new Error(`cluster ${c.name} was attached: cms did not make it and reaches its API only`)
    link.handle ??= connectProvider(c.name, c.provider, c.engine, this.run)
    link.handle.catch(() => (link.handle = undefined))
    return link.handle
  }

  private async linkOf(name: string): Promise<Link> {
    const c = await this.find(name)
    if (!c) throw new UsageError(`cluster ${JSON.stringify(name)} is not known to this service`)
    return this.links.get(c.name)!
  }

  /** Asks the engine now (one request at a time per cluster); a failure is recorded as the cluster being down. */
  async refresh(name: string): Promise<ClusterStatus> {
    const link = await this.linkOf(name)
    link.refreshing ??= (async () => {
      const base = {...link.cluster, checkedAt: Date.now()}
      try {
        const attached = link.cluster.provider === ATTACHED ? readAttached(link.cluster.name) : undefined
        if (link.cluster.provider === ATTACHED && !attached) throw new Error(`cluster ${link.cluster.name} was detached`)
        const info = attached ? await describeAttached(attached) : await describeCluster(await this.handleOf(link))
        const down = info.health === 'down' ? info.masterError ?? 'its control plane is down' : undefined
        if (down) this.dropLink(link, false)
        return (link.status = {...base, health: info.health, capacity: capacityOf(info), hosts: scaleHosts(info), down})
      } catch (error) {
        this.dropLink(link, false)
        return (link.status = {...base, health: 'down', down: (error as Error).message.split('\n')[0]})
      }
    })().finally(() => (link.refreshing = undefined))
    return link.refreshing
  }

  /** Marks a cluster down after a failed call, until the next refresh says otherwise. */
  markDown(name: string, why: string): void {
    const link = this.links.get(name)
    if (!link) return
    link.status = {...link.cluster, health: 'down', down: why, checkedAt: Date.now(), capacity: link.status?.capacity}
    this.dropLink(link, false)
  }

  /**
   * Runs `fn` with the cluster's job service. A connection failure closes the service (and its SSH pool), so the
   * next call connects afresh; a failed command or bad input leaves it to the other calls in flight.
   */
  async withJobs<T>(name: string, fn: (jobs: JobService, engine: Engine) => Promise<T>): Promise<T> {
    const link = await this.linkOf(name)
    // An attached cluster's jobs are opened from its access file alone.
    const handle = link.cluster.provider === ATTACHED ? undefined : await this.handleOf(link)
    link.jobs ??= openJobs(name, this.run, handle)
    const opened = link.jobs
    opened.catch(() => {
      if (link.jobs === opened) this.dropLink(link)
    })
    const jh = await opened
    try {
      return await fn(jh.jobs, handle?.engine ?? (await loadEngine(link.cluster.engine)))
    } catch (error) {
      if (isConnectionFailure(error) && link.jobs === opened) this.dropLink(link)
      throw error
    }
  }

  /** Closes the cluster's connections; `all` also forgets the cached handle's provider. */
  private dropLink(link: Link, all = true): void {
    const jobs = link.jobs
    const handle = link.handle
    link.jobs = undefined
    link.handle = undefined
    if (jobs) void jobs.then((jh) => jh.close(), () => undefined)
    else if (handle) void handle.then((h) => h.pool.closeAll(), () => undefined)
    if (all) link.status = undefined
  }

  closeAll(): void {
    for (const link of this.links.values()) this.dropLink(link)
  }
}
