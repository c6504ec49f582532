import type {Demand} from '../queue/capacity.js'
import type {AutoscalePolicy} from './policy.js'

/** A host as the autoscaler sees it: `busy` when its engine reports per-host use (Spark), undefined otherwise. */
export interface ScaleHost {
  id: string
  role: 'head' | 'worker'
  busy?: boolean
  /** What it offers for work (its Spark worker, Nomad client or Kubernetes node), when the engine says. */
  cores?: number
  memoryMb?: number
}

/** One look at a cluster: the provider's hosts with the engine's view of each, and the service's tasks there. */
export interface ScaleView {
  now: number
  /** The cluster did not answer: nothing is decided. */
  down?: string
  hosts: ScaleHost[]
  /** Free room the engine reports now. */
  free?: Demand
  /** What each queued task that waits for room on this cluster (its first choice) needs. */
  waiting?: Demand[]
  /** The service's tasks on the cluster being handed over (SUBMITTED) and running. */
  starting: number
  running: number
}

/** What the autoscaler remembers of a cluster between looks (in memory: a restart only makes it wait again). */
export interface ScaleMemory {
  /** Since when tasks have waited for room without a break. */
  shortSince?: number
  /** Since when each host has been idle without a break. */
  idleSince: Record<string, number>
  lastActionAt?: number
  /** Failed actions in a row (each doubles the pause before the next). */
  failures: number
}

export type ScaleDecision =
  | {kind: 'grow'; count: number; reason: string}
  | {kind: 'shrink'; hosts: string[]; reason: string}
  | {kind: 'hold'; reason: string}

export const freshMemory = (): ScaleMemory => ({idleSince: {}, failures: 0})

const MAX_PAUSE_MS = 30 * 60_000
const secs = (ms: number) => `${Math.round(ms / 1000)}s`

/** The size of one host that takes work, as the present ones average; undefined when the engine does not say. */
function hostSize(hosts: ScaleHost[]): Demand | undefined {
  const workers = hosts.filter((h) => (h.cores ?? 0) > 0)
  if (workers.length === 0) return undefined
  return {cores: workers.reduce((s, h) => s + h.cores!, 0) / workers.length, memoryMb: workers.reduce((s, h) => s + (h.memoryMb ?? 0), 0) / workers.length}
}

/** The waiting tasks that the cluster could hold at its largest (max hosts like the present ones): growth helps those only. */
export function helpable(waiting: readonly Demand[], hosts: ScaleHost[], max: number): Demand[] {
  const size = hostSize(hosts)
  if (!size) return [...waiting]
  return waiting.filter((d) => d.cores <= size.cores * max && (size.memoryMb === 0 || d.memoryMb <= size.memoryMb * max))
}

/** Hosts to add so that the waiting tasks fit: what they need beyond the free room, in hosts like the present ones. */
export function hostsFor(waiting: readonly Demand[], hosts: ScaleHost[], free: Demand | undefined): number {
  const size = hostSize(hosts)
  if (!size || waiting.length === 0) return 1
  const needCores = waiting.reduce((s, d) => s + d.cores, 0) - (free?.cores ?? 0)
  const needMemory = waiting.reduce((s, d) => s + d.memoryMb, 0) - (free?.memoryMb ?? 0)
  return Math.max(1, Math.ceil(needCores / size.cores), size.memoryMb > 0 ? Math.ceil(needMemory / size.memoryMb) : 1)
}

/** Newest first: the hosts cms numbered last (cms-NAME-3 before cms-NAME-2). */
const newestFirst = (a: ScaleHost, b: ScaleHost) => b.id.localeCompare(a.id, 'en', {numeric: true})

/**
 * Grow, shrink or hold, and what to remember. Grows when tasks have waited for the cluster's room for `wait` (by as
 * many hosts as they need, up to max); shrinks by the worker hosts idle for `idle` (never the head, never below
 * min, never while tasks wait or are being handed over). A host's idleness is its engine's own figure where the
 * engine reports one per host (Spark's workers); elsewhere a host is idle only while the service runs nothing on
 * the cluster. After an action the cluster is left alone for `wait` (doubled after each failure) so that the engine
 * reports the change before the next decision.
 */
export function decide(policy: AutoscalePolicy, before: ScaleMemory, view: ScaleView): {decision: ScaleDecision; memory: ScaleMemory} {
  const memory: ScaleMemory = {...before, idleSince: {...before.idleSince}}
  const hold = (reason: string) => ({decision: {kind: 'hold' as const, reason}, memory})
  if (view.down) {
    memory.shortSince = undefined
    memory.idleSince = {}
    return hold(`not answering (${view.down})`)
  }
  const count = view.hosts.length
  // A task bigger than the cluster could ever be waits without growing it (or keeping its idle hosts).
  const all = view.waiting ?? []
  const fits = helpable(all, view.hosts, policy.max)
  const waiting = fits.length > 0 ? fits : undefined
  memory.shortSince = waiting ? memory.shortSince ?? view.now : undefined
  const clusterIdle = view.starting === 0 && view.running === 0
  const idleSince: Record<string, number> = {}
  for (const h of view.hosts) {
    if (h.role === 'head') continue
    const idle = !waiting && view.starting === 0 && (h.busy === undefined ? clusterIdle : !h.busy)
    if (idle) idleSince[h.id] = memory.idleSince[h.id] ?? view.now
  }
  memory.idleSince = idleSince
  const pause = Math.min(MAX_PAUSE_MS, policy.waitMs * 2 ** memory.failures)
  if (memory.lastActionAt !== undefined && view.now - memory.lastActionAt < pause) return hold(`pausing ${secs(pause - (view.now - memory.lastActionAt))} after the last action`)

  if (count < policy.min) return {decision: {kind: 'grow', count: policy.min - count, reason: `${count} host(s), below min=${policy.min}`}, memory}
  if (waiting) {
    const waited = view.now - memory.shortSince!
    if (count >= policy.max) return hold(`${waiting.length} task(s) wait for room, but the cluster is at max=${policy.max}`)
    if (waited < policy.waitMs) return hold(`${waiting.length} task(s) have waited ${secs(waited)} for room (grows after ${secs(policy.waitMs)})`)
    const add = Math.min(policy.max - count, hostsFor(waiting, view.hosts, view.free))
    const cores = waiting.reduce((s, d) => s + d.cores, 0)
    const memoryMb = waiting.reduce((s, d) => s + d.memoryMb, 0)
    return {decision: {kind: 'grow', count: add, reason: `${waiting.length} task(s) waited ${secs(waited)} for ${cores} core(s) and ${memoryMb} MiB`}, memory}
  }
  const removable = view.hosts
    .filter((h) => h.role !== 'head' && idleSince[h.id] !== undefined && view.now - idleSince[h.id]! >= policy.idleMs)
    .sort(newestFirst)
    .slice(0, Math.max(0, count - policy.min))
  if (removable.length > 0) return {decision: {kind: 'shrink', hosts: removable.map((h) => h.id), reason: `idle for ${secs(policy.idleMs)} or more`}, memory}
  if (all.length > 0) return hold(`${all.length} task(s) need more than the cluster could have at max=${policy.max}`)
  return hold(count > policy.min && Object.keys(idleSince).length > 0 ? `${Object.keys(idleSince).length} host(s) idle, removed after ${secs(policy.idleMs)}` : 'steady')
}
