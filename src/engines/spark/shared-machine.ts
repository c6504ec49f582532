import type {MachineSize} from '../../providers/provider.js'

/**
 * SPARK_WORKER_MEMORY for workers that share one machine (docker hosts): an equal share, less 1 GiB for the
 * daemons and everything else, never under 1 GiB. Spark's own default (all memory but 1 GiB) would let every
 * container claim the whole machine, so a 3-host cluster on 24 GiB would offer 67 GiB.
 */
export function sharedWorkerMemory(machine: MachineSize, hosts: number): string {
  const shareMb = Math.floor(machine.memoryMb / Math.max(1, hosts))
  return `${Math.max(1024, shareMb - 1024)}m`
}
