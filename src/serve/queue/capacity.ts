import {appKind, type JobSpec} from '../../jobs/spec.js'
import {podMemoryMb} from '../../jobs/kubernetes-translate.js'
import {taskResources} from '../../jobs/nomad-translate.js'
import type {ClusterInfo} from '../../output/results.js'
import {MIN_ALLOCATION_MB} from '../../engines/hadoop/site-config.js'

/** What a task takes from a cluster while it runs, as far as the queue can tell before it starts. */
export interface Demand {
  cores: number
  memoryMb: number
}

/** A cluster's size and use as its engine reports them (the figures `cms cluster info` shows). */
export interface Capacity {
  cores: number
  memoryMb: number
  /** What the engine itself says is in use (Spark's master); 0 where the engine reports totals only. */
  usedCores: number
  usedMemoryMb: number
}

/** Spark's sizes: digits and an optional k/m/g/t; no unit is MiB. */
export function memoryMb(size: string | undefined, fallbackMb: number): number {
  if (size === undefined) return fallbackMb
  const m = /^(\d+)([kmgt]?)$/i.exec(size.trim())
  if (!m) return fallbackMb
  const n = Number(m[1])
  switch (m[2]!.toLowerCase()) {
    case 'k':
      return Math.ceil(n / 1024)
    case 'g':
      return n * 1024
    case 't':
      return n * 1024 * 1024
    default:
      return n
  }
}

/**
 * A portable spec's demand, as each engine will take it:
 * - nomad: the one task cms makes of it (Spark in local mode: the translation's own figures);
 * - kubernetes: the driver pod and the executor pods (Spark's default 2 executors), each pod's memory with Spark's
 *   overhead (the translation's own figure);
 * - spark (standalone): the executors (cores x instances, or spark.cores.max when set) and, for a JVM app (cluster
 *   mode), the driver on a worker; a Python app's driver runs on the head, outside the workers. Spark's defaults:
 *   1 core and 1 GiB each;
 * - hadoop (Spark on YARN, cluster mode for every app): the ApplicationMaster's container, where the driver runs,
 *   and the executors' (Spark's default 2 on YARN), each the heap plus Spark's overhead rounded up to YARN's
 *   allocation step, as the ResourceManager will count them.
 */
export function specDemand(spec: JobSpec, engine: string): Demand {
  if (engine === 'nomad') return taskResources(spec)
  if (engine === 'hadoop') {
    const instances = spec.executor.instances ?? 2
    const container = (heap: string) => Math.ceil(podMemoryMb(heap) / MIN_ALLOCATION_MB) * MIN_ALLOCATION_MB
    return {
      cores: (spec.driver.cores ?? 1) + instances * (spec.executor.cores ?? 1),
      memoryMb: container(spec.driver.memory ?? '1g') + instances * container(spec.executor.memory ?? '1g'),
    }
  }
  if (engine === 'kubernetes') {
    const instances = spec.executor.instances ?? 2
    return {
      cores: (spec.driver.cores ?? 1) + instances * (spec.executor.cores ?? 1),
      memoryMb: podMemoryMb(spec.driver.memory ?? '1g') + instances * podMemoryMb(spec.executor.memory ?? '1g'),
    }
  }
  const instances = spec.executor.instances ?? 1
  const execCores = spec.executor.cores ?? 1
  const coresMax = Number(spec.conf['spark.cores.max'])
  const executorCores = Number.isFinite(coresMax) && coresMax > 0 ? coresMax : instances * execCores
  const executorMemory = Math.ceil(executorCores / execCores) * memoryMb(spec.executor.memory, 1024)
  const driverOnCluster = appKind(spec) !== 'python'
  const driverCores = driverOnCluster ? spec.driver.cores ?? 1 : 0
  const driverMemory = driverOnCluster ? memoryMb(spec.driver.memory, 1024) : 0
  return {cores: executorCores + driverCores, memoryMb: executorMemory + driverMemory}
}

/** The engine's capacity figures; undefined when this engine reports none (nothing is held back for it). */
export function capacityOf(info: ClusterInfo): Capacity | undefined {
  if (info.master) {
    const m = info.master
    return {cores: m.cores, memoryMb: m.memoryMb, usedCores: m.coresUsed, usedMemoryMb: m.memoryUsedMb}
  }
  if (info.nomad) return {cores: info.nomad.cpuCores, memoryMb: info.nomad.memoryMb, usedCores: 0, usedMemoryMb: 0}
  if (info.kubernetes) return {cores: info.kubernetes.cpuCores, memoryMb: info.kubernetes.memoryMb, usedCores: 0, usedMemoryMb: 0}
  if (info.yarn) return {cores: info.yarn.vcores, memoryMb: info.yarn.memoryMb, usedCores: info.yarn.vcoresUsed, usedMemoryMb: info.yarn.memoryUsedMb}
  return undefined
}
