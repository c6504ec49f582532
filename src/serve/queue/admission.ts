import type {Capacity, Demand} from './capacity.js'

/** A queued task, as admission sees it; candidates come highest priority first, then oldest. */
export interface Candidate {
  id: string
  /** The clusters it may run on, in order of preference (the first healthy one with room wins). */
  clusters: string[]
  demand: Demand
}

/** One cluster, as the dispatcher knows it now. */
export interface ClusterLoad {
  /** Not answering (or unknown): its tasks wait. */
  down?: string
  /** Undefined when the engine reports no figures: only the running cap applies. */
  capacity?: Capacity
  /** What the service's own active tasks there take (submitted ones the engine may not count yet). */
  reserved: Demand
  /** Active tasks of the service there. */
  running: number
  maxRunning?: number
}

export interface Admission {
  picks: Array<{id: string; cluster: string}>
  /** Why each task not picked waits, one line. */
  waits: Map<string, string>
  /** Per cluster, what each task not picked that waits for its room needs (its first such choice). */
  short: Map<string, Demand[]>
}

function free(load: ClusterLoad): Demand | undefined {
  const c = load.capacity
  if (!c) return undefined
  return {
    cores: c.cores - Math.max(c.usedCores, load.reserved.cores),
    memoryMb: c.memoryMb - Math.max(c.usedMemoryMb, load.reserved.memoryMb),
  }
}

const fmt = (d: Demand) => `${d.cores} core${d.cores === 1 ? '' : 's'} and ${d.memoryMb} MiB`

/**
 * Which queued tasks go to which cluster now. Strict order per cluster: once a task waits for room on a cluster,
 * no later task takes that cluster (a big job is not starved by small ones); a task bigger than the whole cluster
 * waits without blocking the others. Pure: `loads` is not modified.
 */
export function admit(candidates: readonly Candidate[], loads: ReadonlyMap<string, ClusterLoad>): Admission {
  const state = new Map([...loads].map(([name, l]) => [name, {...l, reserved: {...l.reserved}}]))
  const blocked = new Set<string>()
  const picks: Admission['picks'] = []
  const waits = new Map<string, string>()
  const short: Admission['short'] = new Map()
  for (const task of candidates) {
    const reasons: string[] = []
    // Clusters this task waits for: held back from later tasks only if it is placed nowhere.
    const waitsFor: string[] = []
    // The first cluster whose room it waits for (a bigger cluster would take it).
    let wantsRoom: string | undefined
    let placed: string | undefined
    for (const name of task.clusters) {
      const load = state.get(name)
      if (!load) {
        reasons.push(`cluster ${name} is not known to the service`)
        continue
      }
      if (load.down) {
        reasons.push(`cluster ${name} is not answering (${load.down})`)
        continue
      }
      if (blocked.has(name)) {
        reasons.push(`behind a task of higher priority (or older) waiting for ${name}`)
        wantsRoom ??= name
        continue
      }
      if (load.maxRunning !== undefined && load.running >= load.maxRunning) {
        reasons.push(`${name} runs its cap of ${load.maxRunning} tasks`)
        waitsFor.push(name)
        continue
      }
      const room = free(load)
      if (room && load.capacity && (task.demand.cores > load.capacity.cores || task.demand.memoryMb > load.capacity.memoryMb)) {
        reasons.push(`needs ${fmt(task.demand)}, more than ${name} has in all (${fmt({cores: load.capacity.cores, memoryMb: load.capacity.memoryMb})})`)
        wantsRoom ??= name
        continue
      }
      if (room && (task.demand.cores > room.cores || task.demand.memoryMb > room.memoryMb)) {
        reasons.push(`waiting for ${fmt(task.demand)} on ${name} (free: ${fmt({cores: Math.max(0, room.cores), memoryMb: Math.max(0, room.memoryMb)})})`)
        waitsFor.push(name)
        wantsRoom ??= name
        continue
      }
      placed = name
      load.running += 1
      load.reserved.cores += task.demand.cores
      load.reserved.memoryMb += task.demand.memoryMb
      // The engine's own figure already counts what runs; what is placed now comes on top of the larger of the two.
      if (load.capacity) {
        load.capacity = {...load.capacity, usedCores: Math.max(load.capacity.usedCores, load.reserved.cores - task.demand.cores) + task.demand.cores, usedMemoryMb: Math.max(load.capacity.usedMemoryMb, load.reserved.memoryMb - task.demand.memoryMb) + task.demand.memoryMb}
      }
      break
    }
    if (placed) picks.push({id: task.id, cluster: placed})
    else {
      waits.set(task.id, reasons.join('; ') || 'no cluster named')
      for (const name of waitsFor) blocked.add(name)
      if (wantsRoom) {
        short.set(wantsRoom, [...(short.get(wantsRoom) ?? []), task.demand])
      }
    }
  }
  return {picks, waits, short}
}
