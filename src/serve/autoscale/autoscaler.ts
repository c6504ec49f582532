import {findCluster, type FoundCluster, type RunOptions} from '../../cluster/context.js'
import type {ProviderFlags} from '../../providers/provider-module.js'
import {providerEntry} from '../../providers/registry.js'
import {UsageError} from '../../remote/errors.js'
import type {ClusterLinks, ClusterStatus} from '../clusters.js'
import type {Admission} from '../queue/admission.js'
import type {ClusterEventRow, ClusterEventStore} from '../store/cluster-event-store.js'
import type {TaskStore} from '../store/store.js'
import {decide, freshMemory, type ScaleDecision, type ScaleMemory, type ScaleView} from './decide.js'
import {describePolicy, type AutoscalePolicy} from './policy.js'

export const AUTOSCALER_ACTOR = 'autoscaler'
/** A scaling action holds the cluster's lease this long at most (a server that dies mid-action frees it then). */
const LEASE_MS = 30 * 60_000
/** A cluster's engine is asked again when its last answer is older than this. */
const LOOK_MAX_AGE_MS = 5000

/** How the autoscaler changes a cluster: `cms cluster add` and `cms cluster remove`, by default. */
export interface ScaleActions {
  /** Adds `count` hosts to those it has (`before`); returns the ids of the hosts added. */
  grow(cluster: string, count: number, before: readonly string[]): Promise<string[]>
  /** Drains and removes the hosts; returns those removed, what their drain reported, and why any was not removed. */
  shrink(cluster: string, hosts: string[]): Promise<{removed: string[]; drained: string[]; failed: string[]}>
}

export interface AutoscaleStatus {
  policy: string
  /** What it is doing now, or its last decision's reason. */
  state: 'growing' | 'shrinking' | 'steady'
  reason: string
  events: Array<{at: string; kind: string; detail: string}>
}

/**
 * The clusters of `--autoscale`: looks at each on an interval (its hosts through the engine, the queue's shortage
 * for its room, the service's tasks there), decides with `decide`, and acts in the background, one action at a
 * time per cluster and, across servers sharing the database, under a lease. Every action is two cluster events:
 * what it starts and why, then what came of it.
 */
export class Autoscaler {
  private readonly memory = new Map<string, ScaleMemory>()
  private readonly last = new Map<string, ScaleDecision>()
  private readonly acting = new Map<string, Promise<void>>()

  constructor(
    readonly policies: readonly AutoscalePolicy[],
    private readonly deps: {
      links: ClusterLinks
      store: TaskStore
      events: ClusterEventStore
      shortage: () => Admission['short']
      owner: string
      actions: ScaleActions
      /** The cluster changed: ask its engine again and wake the dispatcher. */
      changed: (cluster: string) => void
      log: (line: string) => void
    },
  ) {}

  async step(now = Date.now()): Promise<void> {
    const counts = await this.deps.store.activeByCluster()
    const shortage = this.deps.shortage()
    for (const p of this.policies) {
      if (this.acting.has(p.cluster)) continue
      let status = this.deps.links.status(p.cluster)
      if (!status || now - status.checkedAt > LOOK_MAX_AGE_MS) status = await this.deps.links.refresh(p.cluster).catch((error: Error) => ({down: error.message.split('\n')[0]}) as ClusterStatus)
      const n = (state: string) => counts.filter((c) => c.cluster === p.cluster && c.state === state).reduce((s, c) => s + Number(c.n), 0)
      const cap = status.capacity
      const view: ScaleView = {
        now,
        down: status.down,
        hosts: status.hosts ?? [],
        free: cap ? {cores: Math.max(0, cap.cores - cap.usedCores), memoryMb: Math.max(0, cap.memoryMb - cap.usedMemoryMb)} : undefined,
        waiting: shortage.get(p.cluster),
        starting: n('SUBMITTED'),
        running: n('RUNNING'),
      }
      const {decision, memory} = decide(p, this.memory.get(p.cluster) ?? freshMemory(), view)
      this.memory.set(p.cluster, memory)
      this.last.set(p.cluster, decision)
      if (decision.kind !== 'hold') {
        const action = this.act(p, decision).finally(() => this.acting.delete(p.cluster))
        this.acting.set(p.cluster, action)
      }
    }
  }

  private async act(p: AutoscalePolicy, decision: Exclude<ScaleDecision, {kind: 'hold'}>): Promise<void> {
    const {events, owner} = this.deps
    const cluster = p.cluster
    const event = (kind: string, detail: string) => events.add({cluster, at: Date.now(), actor: AUTOSCALER_ACTOR, kind, detail})
    if (!(await events.takeLease(cluster, owner, Date.now() + LEASE_MS, Date.now()).catch(() => false))) {
      this.last.set(cluster, {kind: 'hold', reason: 'another server is scaling it'})
      return
    }
    const memory = this.memory.get(cluster)!
    const started = Date.now()
    try {
      if (decision.kind === 'grow') {
        await event('grow', `adding ${decision.count} host(s): ${decision.reason}`)
        this.deps.log(`autoscale ${cluster}: adding ${decision.count} host(s): ${decision.reason}`)
        const before = (this.deps.links.status(cluster)?.hosts ?? []).map((h) => h.id)
        const added = await this.deps.actions.grow(cluster, decision.count, before)
        await event('grown', `added ${added.join(', ') || 'no host'} in ${seconds(started)}`)
      } else {
        await event('shrink', `removing ${decision.hosts.join(', ')}: ${decision.reason}`)
        this.deps.log(`autoscale ${cluster}: removing ${decision.hosts.join(', ')}: ${decision.reason}`)
        const {removed, drained, failed} = await this.deps.actions.shrink(cluster, decision.hosts)
        // The drains' own words: a drain the engine did not finish in time (the host removed anyway) is on record.
        const how = drained.length > 0 ? ` (${drained.join('; ')})` : ''
        await event(failed.length > 0 ? 'shrink-failed' : 'shrunk', `removed ${removed.join(', ') || 'no host'} in ${seconds(started)}${how}${failed.length > 0 ? `; not removed: ${failed.join('; ')}` : ''}`)
      }
      memory.failures = 0
    } catch (error) {
      memory.failures++
      const line = (error as Error).message.split('\n')[0]!
      this.deps.log(`autoscale ${cluster}: ${decision.kind} failed: ${line}`)
      await event(`${decision.kind}-failed`, line).catch(() => undefined)
    } finally {
      memory.lastActionAt = Date.now()
      await events.releaseLease(cluster, owner).catch(() => undefined)
      this.deps.changed(cluster)
    }
  }

  /** The cluster's policy, what the autoscaler does or last decided, and its latest events; undefined without a policy. */
  async status(cluster: string): Promise<AutoscaleStatus | undefined> {
    const p = this.policies.find((x) => x.cluster === cluster)
    if (!p) return undefined
    const rows = await this.deps.events.list(cluster, 10)
    const last = this.last.get(cluster)
    const acting = this.acting.has(cluster) && last && last.kind !== 'hold' ? (last.kind === 'grow' ? 'growing' : 'shrinking') : 'steady'
    return {policy: describePolicy(p), state: acting, reason: last?.reason ?? 'not looked at yet', events: rows.map(eventView)}
  }

  /** Waits for the actions under way (a clean stop lets them finish: a half-added host is cleaned up by `kill` or a rerun). */
  async settle(): Promise<void> {
    await Promise.all(this.acting.values())
  }
}

/**
 * Refuses (exit 2) a policy for a cluster no provider knows (or --cluster leaves out), or whose provider does not
 * make its hosts (ssh): asked of the providers' own records, no host is contacted.
 */
export async function checkPolicies(policies: readonly AutoscalePolicy[], opts: {clusters?: readonly string[]; flags?: ProviderFlags}): Promise<void> {
  for (const p of policies) {
    const found: FoundCluster = opts.clusters && !opts.clusters.includes(p.cluster) ? {missing: []} : await findCluster(p.cluster, {flags: opts.flags})
    if (!found.provider) throw new UsageError(`--autoscale ${p.cluster}: no provider knows this cluster (see cms cluster list), or --cluster leaves it out`)
    if (!providerEntry(found.provider).makesHosts) throw new UsageError(`--autoscale ${p.cluster}: its hosts are the user's own (${found.provider}); cms can grow and shrink only clusters whose provider makes the hosts`)
  }
}

const seconds = (since: number) => `${Math.round((Date.now() - since) / 1000)} s`

export const eventView = (e: ClusterEventRow) => ({at: new Date(e.at).toISOString(), kind: e.kind, detail: e.detail})

/** The actions of `cms cluster add` and `cms cluster remove`, quiet, with their notes in the service's log. */
export function clusterActions(run: RunOptions, log: (line: string) => void): ScaleActions {
  const quiet = (cluster: string): RunOptions => ({...run, quiet: true, log: (line) => log(`autoscale ${cluster}: ${line}`)})
  return {
    async grow(cluster, count, before) {
      const {addHosts} = await import('../../cluster/add.js')
      const report = await addHosts({name: cluster, hostCount: count, hostSpecs: [], options: {}}, quiet(cluster))
      const failed = report.hosts.filter((h) => !h.ok)
      if (failed.length > 0) throw new Error(`cluster add: ${failed.map((h) => `${h.host}: ${h.error ?? 'failed'}`).join('; ')}`)
      return report.cluster.hosts.map((h) => h.id).filter((id) => !before.includes(id))
    },
    async shrink(cluster, hosts) {
      const {removeHosts} = await import('../../cluster/remove.js')
      const report = await removeHosts({name: cluster, hosts, graceSeconds: 30}, quiet(cluster))
      const removed = report.removed.filter((r) => r.ok)
      return {
        removed: removed.map((r) => r.host),
        drained: removed.filter((r) => r.detail).map((r) => `${r.host}: ${r.detail}`),
        failed: report.removed.filter((r) => !r.ok).map((r) => `${r.host}: ${r.error ?? 'failed'}`),
      }
    },
  }
}
